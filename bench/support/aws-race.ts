/**
 * One block of bench/aws-calls.ts: one contender (aws-contenders.ts) through the five scenarios, on N fresh
 * Services of one kind in a fresh namespace, with every AWS call it makes counted by the proxy in front of moto.
 *
 *  create        N Services created at once; ends when every one has an address and the calls stopped.
 *  no-op         the controller restarted with nothing changed: what a restart costs (the CCM's service
 *                controller re-ensures every Service on start and never otherwise while nothing changes: its
 *                informers' resync does not enqueue an unchanged Service; ours also re-ensures on --drift-period).
 *  node-added    one more instance and its Node; ends when every load balancer has it and the calls stopped.
 *  node-removed  that Node deleted; ends when no load balancer has it and the calls stopped.
 *  delete        the Services deleted; ends when they are gone (finalizers released) and the calls stopped.
 *
 * "The calls stopped" is `quietMs` without a request at the proxy. A phase that does not reach its end state within
 * its deadline is reported as not converged, with what it counted.
 */
import { performance } from "node:perf_hooks";
import { DescribeLoadBalancersCommand as DescribeClassicCommand } from "@aws-sdk/client-elastic-load-balancing";
import { DescribeSecurityGroupsCommand } from "@aws-sdk/client-ec2";
import {
  DescribeLoadBalancersCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import type { V1Node, V1Service } from "@kubernetes/client-node";
import type { AwsClients } from "../../providers/aws/aws-types.js";
import type { AwsWorld } from "../../test/env/aws-world.js";
import { apiService } from "../../test/fixtures/api-services.js";
import { tweakAnnotation, tweakLocal, tweakPorts, type ServiceTweak } from "../../test/fixtures/services.js";
import type { KubeTestClient } from "../../testing/kube-test-client.js";
import type { Contender } from "./aws-contenders.js";
import type { CountingProxy } from "./aws-counting-proxy.js";

export type RaceKind = "nlb" | "clb";
export const RACE_PHASES = ["create", "no-op", "node-added", "node-removed", "delete"] as const;
export type RacePhase = (typeof RACE_PHASES)[number];

export interface PhaseCount {
  /** "api:Operation" (api as the proxy tells them apart: ec2, elb, elbv2) -> requests. */
  readonly calls: ReadonlyMap<string, number>;
  readonly seconds: number;
  readonly converged: boolean;
}

export interface RaceBlock {
  readonly contender: Contender["name"];
  readonly kind: RaceKind;
  readonly n: number;
  readonly phases: ReadonlyMap<RacePhase, PhaseCount>;
}

export interface RaceWorld {
  readonly kube: KubeTestClient;
  readonly world: AwsWorld;
  readonly proxy: CountingProxy;
  /** moto's own clients: the bench's checks and world changes, not counted. */
  readonly raw: AwsClients;
  readonly quietMs: number;
  readonly log: (line: string) => void;
}

const TYPE_ANNOTATION = "service.beta.kubernetes.io/aws-load-balancer-type";
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** One TCP port each; every even-numbered one (the single Service at N = 1 too) externalTrafficPolicy Local. */
function raceService(namespace: string, i: number, kind: RaceKind, loadBalancerClass: string | undefined): V1Service {
  const tweaks: ServiceTweak[] = [tweakPorts({ name: "tcp", protocol: "TCP", port: 80, targetPort: 8080 })];
  if (i % 2 === 0) tweaks.push(tweakLocal(), (s) => void delete s.spec!.healthCheckNodePort);
  if (kind === "nlb") tweaks.push(tweakAnnotation(TYPE_ANNOTATION, "nlb"));
  return apiService(namespace, `svc-${String(i).padStart(3, "0")}`, loadBalancerClass, ...tweaks);
}

/**
 * Creates the Node with its status in one request, as a kubelet registers (kubelet initialNode sets addresses and
 * conditions before the create; the apiserver keeps a Node's status on create): one Node event, not two.
 */
export async function registerNode(kube: KubeTestClient, node: V1Node): Promise<void> {
  await kube.core.createNode({ body: { metadata: node.metadata, spec: node.spec, status: node.status } });
}

/** Waits until `done` holds (or `deadlineMs` passes) and then until the proxy saw nothing for quietMs. */
async function settle(w: RaceWorld, done: () => Promise<boolean>, deadlineMs: number): Promise<boolean> {
  const deadline = Date.now() + deadlineMs;
  let converged = false;
  while (Date.now() < deadline) {
    if (await done()) {
      converged = true;
      break;
    }
    await sleep(1_000);
  }
  let seen = w.proxy.seen().length;
  let lastChange = Date.now();
  while (Date.now() - lastChange < w.quietMs) {
    await sleep(250);
    const now = w.proxy.seen().length;
    if (now !== seen) [seen, lastChange] = [now, Date.now()];
  }
  return converged;
}

function countSeen(w: RaceWorld): Map<string, number> {
  const calls = new Map<string, number>();
  for (const r of w.proxy.seen()) {
    const op = `${r.api}:${r.operation}`;
    calls.set(op, (calls.get(op) ?? 0) + 1);
  }
  return calls;
}

/** Instance ids behind every load balancer of the kind (only one block's exist at a time). */
async function backendSets(raw: AwsClients, kind: RaceKind): Promise<string[][]> {
  if (kind === "clb") {
    const out = await raw.elb.send(new DescribeClassicCommand({}));
    return (out.LoadBalancerDescriptions ?? []).map((lb) => (lb.Instances ?? []).map((i) => i.InstanceId ?? ""));
  }
  const tgs = (await raw.elbv2.send(new DescribeTargetGroupsCommand({}))).TargetGroups ?? [];
  return Promise.all(
    tgs.map(async (tg) => {
      const h = await raw.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg.TargetGroupArn }));
      return (h.TargetHealthDescriptions ?? [])
        .filter((d) => d.TargetHealth?.State !== "draining")
        .map((d) => d.Target?.Id ?? "");
    }),
  );
}

export async function raceBlock(w: RaceWorld, c: Contender, kind: RaceKind, n: number): Promise<RaceBlock> {
  const label = (p: string): string => `[${c.name} ${kind} N=${n} ${p}]`;
  const namespace = await w.kube.createNamespace(`race-${c.name}-${kind}-${n}`);
  const names = Array.from({ length: n }, (_, i) => raceService(namespace, i, kind, c.loadBalancerClass));
  const list = async (): Promise<V1Service[]> => (await w.kube.core.listNamespacedService({ namespace })).items;
  const phases = new Map<RacePhase, PhaseCount>();
  // Generous for moto: the CCM reconciles one Service at a time (--concurrent-service-syncs 1, its default).
  const deadlineMs = 60_000 + n * 6_000;
  const phase = async (p: RacePhase, act: () => Promise<void>, done: () => Promise<boolean>): Promise<void> => {
    w.proxy.clearSeen();
    const t0 = performance.now();
    await act();
    const converged = await settle(w, done, deadlineMs);
    const count: PhaseCount = { calls: countSeen(w), seconds: (performance.now() - t0) / 1000, converged };
    phases.set(p, count);
    const total = [...count.calls.values()].reduce((a, b) => a + b, 0);
    w.log(`${label(p)} ${total} calls in ${count.seconds.toFixed(1)} s${converged ? "" : " (NOT converged)"}`);
  };

  await c.start();
  await settle(w, async () => true, 0);
  await phase(
    "create",
    async () => {
      for (const body of names) await w.kube.core.createNamespacedService({ namespace, body });
    },
    async () => {
      const items = await list();
      return items.length === n && items.every((s) => (s.status?.loadBalancer?.ingress?.length ?? 0) > 0);
    },
  );
  await c.stop();
  await phase(
    "no-op",
    () => c.start(),
    async () => (await c.ensuredSinceStart()) >= n,
  );

  const [added] = await w.world.addNodes(1);
  if (added === undefined) throw new RangeError("addNodes(1) added nothing");
  const node = w.world.nodes().find((x) => x.metadata?.name === added.nodeName);
  if (node === undefined) throw new RangeError(`no Node for ${added.nodeName}`);
  const hasAdded = async (want: boolean): Promise<boolean> =>
    (await backendSets(w.raw, kind)).every((ids) => ids.includes(added.instanceId) === want);
  await phase(
    "node-added",
    async () => {
      await registerNode(w.kube, node);
    },
    () => hasAdded(true),
  );
  await phase(
    "node-removed",
    async () => {
      await w.kube.core.deleteNode({ name: added.nodeName });
    },
    () => hasAdded(false),
  );
  await w.world.removeNode(added.nodeName);

  await phase(
    "delete",
    async () => {
      await w.kube.core.deleteCollectionNamespacedService({ namespace });
    },
    async () => (await list()).length === 0,
  );
  await c.stop();
  await w.kube.core.deleteNamespace({ name: namespace });
  return { contender: c.name, kind, n, phases };
}

/** What is left in the account after a block: load balancers, target groups, security groups but `keep`. */
export async function accountLeftovers(raw: AwsClients, keep: readonly string[]): Promise<string> {
  const [v2, tgs, classic, groups] = await Promise.all([
    raw.elbv2.send(new DescribeLoadBalancersCommand({})),
    raw.elbv2.send(new DescribeTargetGroupsCommand({})),
    raw.elb.send(new DescribeClassicCommand({})),
    raw.ec2.send(new DescribeSecurityGroupsCommand({})),
  ]);
  const sgs = (groups.SecurityGroups ?? []).filter((g) => g.GroupName !== "default" && !keep.includes(g.GroupId ?? ""));
  return (
    `${v2.LoadBalancers?.length ?? 0} NLBs, ${classic.LoadBalancerDescriptions?.length ?? 0} classic ELBs, ` +
    `${tgs.TargetGroups?.length ?? 0} target groups, ${sgs.length} security groups (${sgs.map((g) => g.GroupName).join(", ") || "none"})`
  );
}
