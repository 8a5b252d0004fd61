/**
 * What every failure story gets and gives back, and the steps they share: a Service of the implementation's
 * class with one pod per node, its VIP reachable, and one observed window of client requests and ARP samples.
 */
import { join } from "node:path";
import { delay, eventually } from "../../testing/eventually.js";
import type { DeployedService } from "../../test/env/lab/lab-cluster.js";
import { waitForAddress } from "../../test/env/lab/lab-controller.js";
import type { LabImplementation } from "../../test/env/lab/lab-implementations.js";
import type { Lab } from "../../test/env/lab/lab.js";
import { announcerSeenByClient, reachable } from "../../test/env/lab/speaker-checks.js";
import type { ArpSample, ProbeSample } from "./failure-story-analysis.js";
import { startProbe, watchArp } from "./failure-story-lab.js";

export interface StoryContext {
  readonly lab: Lab;
  readonly impl: LabImplementation;
  /** Where the probes' logs go. */
  readonly logDir: string;
  /** A namespace of this implementation's own, so its Services never meet the other's. */
  readonly namespace: string;
}

/** One line of the outcome table: the story (or part of it) and what was measured. */
export interface StoryOutcome {
  readonly story: string;
  readonly outcome: string;
}

export const HTTP_PORT = 80;
const TARGET_PORT = 8080;

export interface StoryService {
  readonly svc: DeployedService;
  readonly vip: string;
  /** The node the client's ARP entry named once the VIP answered. */
  readonly announcer: string;
}

/**
 * Deploys `name` (pod mode, Cluster policy, one pod per node unless `nodes` says otherwise), waits for its address, a reply
 * through it and the client's ARP entry. The caller deletes it (`svc.delete()`) in a finally.
 */
export async function deployStoryService(
  ctx: StoryContext,
  name: string,
  options: { port?: number; annotations?: Record<string, string>; nodes?: readonly string[] } = {},
): Promise<StoryService> {
  const { lab, impl, namespace } = ctx;
  const port = options.port ?? HTTP_PORT;
  const nodes = options.nodes ?? lab.nodes.map((n) => n.name);
  const svc = await lab.deployService({
    name,
    namespace,
    loadBalancerClass: impl.loadBalancerClass,
    // No NodePorts: ours then DNATs straight to the pods, as kube-proxy does for MetalLB's LB IP, so on both the
    // source address a pod sees is the node the client sent to (the forwarding node the stories report).
    podMode: true,
    annotations: options.annotations,
    ports: [{ name: "http", port, targetPort: TARGET_PORT }],
    pods: nodes.map((node, i) => ({ name: `${name}-${i}`, node })),
  });
  try {
    const { ip: vip } = await waitForAddress(lab, namespace, name);
    await lab.client.flushNeighbours();
    await reachable(lab, vip, port);
    const announcer = await eventually(`the client to ARP ${vip}`, () => announcerSeenByClient(lab, vip, port));
    return { svc, vip, announcer };
  } catch (err) {
    await svc.delete();
    throw err;
  }
}

export interface Observation {
  readonly samples: ProbeSample[];
  readonly arp: ArpSample[];
  /** When `act` started, and the marks it returned (epoch ms). */
  readonly t0: number;
  readonly marks: Readonly<Record<string, number>>;
  readonly end: number;
}

/**
 * Runs the client loop and the ARP sampler from `leadMs` before `act` until `tailMs` after it returns, and
 * returns every sample. The probe is always stopped, also when `act` throws.
 */
export async function observe(
  ctx: StoryContext,
  target: { vip: string; port: number; tag: string },
  act: () => Promise<Record<string, number>>,
  timing: { leadMs?: number; tailMs: number },
): Promise<Observation> {
  const arp = watchArp(ctx.lab, target.vip);
  const probe = await startProbe(
    ctx.lab,
    target.vip,
    target.port,
    join(ctx.logDir, `probe-${ctx.impl.name}-${target.tag}.log`),
  ).catch(async (err: unknown) => {
    await arp.stop();
    throw err;
  });
  const stopAll = async (): Promise<[ProbeSample[], ArpSample[]]> => [await probe.stop(), await arp.stop()];
  let marks: Record<string, number>;
  let t0: number;
  try {
    await delay(timing.leadMs ?? 1_000);
    t0 = Date.now();
    marks = await act();
    await delay(timing.tailMs);
  } catch (err) {
    await stopAll();
    throw err;
  }
  const end = Date.now();
  const [samples, arpSamples] = await stopAll();
  return { samples, arp: arpSamples, t0, marks, end };
}
