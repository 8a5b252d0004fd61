/**
 * The load balancer a lab runs, ours or MetalLB, behind one interface, so a bench or a failure story runs the same
 * work against both in one process: start one on a lab started with `{ startSpeakers: false }`, use it, `stop()` it,
 * start the other on the same lab.
 *
 * Contract: `stop()` stops the controller and every speaker and leaves the lab running. It deletes nothing from the
 * API: delete the Services you created first, or the next implementation's VIPs collide with stale
 * `status.loadBalancer.ingress` entries that kube-proxy still programs.
 */
import { LbOperatorError } from "../../../src/errors.js";
import { delay, eventually } from "../../../testing/eventually.js";
import type { ControllerProcess } from "../controller-process.js";
import { LAB_LOAD_BALANCER_CLASS, type Lab } from "./lab.js";
import { startLabController } from "./lab-controller.js";
import { type LabMetalLb, METALLB_LOAD_BALANCER_CLASS, MetalLbError, startLabMetalLb } from "./metallb.js";

export const IMPLEMENTATIONS = ["lb-operator", "metallb"] as const;
export type ImplementationName = (typeof IMPLEMENTATIONS)[number];

export class LabImplementationError extends LbOperatorError {}

export interface LabImplementation {
  readonly name: ImplementationName;
  /** For tables and charts, with the version where it is not ours: "lb-operator", "MetalLB v0.16.1". */
  readonly label: string;
  /** The Services it serves must carry this spec.loadBalancerClass. */
  readonly loadBalancerClass: string;
  /** SIGKILL, and wait for the exit: a crash, no goodbye to the peers. */
  killSpeaker(node: string): Promise<void>;
  /** SIGTERM, and wait for the exit: the speaker is restarted by its DaemonSet and says goodbye. */
  stopSpeaker(node: string): Promise<void>;
  /**
   * Starts the node's speaker and waits until it is ready and, for MetalLB, until the cluster has settled around
   * it: the other running speakers' memberlists hold it again and it holds them (so a trial after a restart does
   * not race memberlist's rejoin).
   */
  startSpeaker(node: string): Promise<void>;
  /** Controller and speakers stopped; the lab keeps running. Idempotent. */
  stop(): Promise<void>;
}

export interface ImplementationOptions {
  /** Ours only: extra flags for every speaker, and for the controller. */
  readonly speakerArgs?: readonly string[];
  readonly controllerArgs?: readonly string[];
}

export async function startImplementation(
  lab: Lab,
  name: ImplementationName,
  options: ImplementationOptions = {},
): Promise<LabImplementation> {
  const running = lab.nodes.filter((n) => lab.speakerRunning(n.name)).map((n) => n.name);
  if (running.length > 0)
    throw new LabImplementationError(`our speakers already run on ${running.join(", ")}: stop them first`);
  return name === "metallb" ? startMetalLb(lab) : startOurs(lab, options);
}

async function startOurs(lab: Lab, options: ImplementationOptions): Promise<LabImplementation> {
  const speakerArgs = [...(options.speakerArgs ?? [])];
  let controller: ControllerProcess | undefined;
  const stopSpeakers = (): Promise<unknown> =>
    Promise.all(lab.nodes.filter((n) => lab.speakerRunning(n.name)).map((n) => lab.stopSpeaker(n.name)));
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      await controller?.stop();
      await stopSpeakers();
    })());
  try {
    controller = await startLabController(lab, [...(options.controllerArgs ?? [])]);
    await Promise.all(lab.nodes.map((n) => lab.startSpeaker(n.name, speakerArgs)));
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    name: "lb-operator",
    label: "lb-operator",
    loadBalancerClass: LAB_LOAD_BALANCER_CLASS,
    killSpeaker: async (node) => void (await lab.killSpeaker(node)),
    stopSpeaker: async (node) => void (await lab.stopSpeaker(node)),
    startSpeaker: (node) => lab.startSpeaker(node, speakerArgs),
    stop,
  };
}

/**
 * memberlist declares a silent member dead only after its suspicion timeout (DefaultLANConfig: ProbeInterval 1 s,
 * SuspicionMult 4, so seconds), and a restarted speaker joins the others through the speaker Pods' IPs
 * (internal/speakerlist/speakerlist.go, mlJoin): allow for both.
 */
const MEMBERLIST_SETTLE_TIMEOUT_MS = 60_000;

async function startMetalLb(lab: Lab): Promise<LabImplementation> {
  const metalLb = await startLabMetalLb(lab, { logLevel: "info" });
  const down = new Set<string>();
  return {
    name: "metallb",
    label: `MetalLB ${metalLb.version}`,
    loadBalancerClass: METALLB_LOAD_BALANCER_CLASS,
    killSpeaker: async (node) => {
      down.add(node);
      await metalLb.killSpeaker(node);
    },
    stopSpeaker: async (node) => {
      down.add(node);
      await metalLb.stopSpeaker(node);
    },
    startSpeaker: async (node) => {
      await startLikeKubelet(() => metalLb.startSpeaker(node));
      down.delete(node);
      const up = lab.nodes.map((n) => n.name).filter((n) => !down.has(n));
      await eventually(
        `MetalLB's memberlist to hold ${node} again on ${up.join(", ")}`,
        () => memberlistSettled(metalLb, node, up),
        { timeoutMs: MEMBERLIST_SETTLE_TIMEOUT_MS, intervalMs: 200 },
      );
    },
    stop: () => metalLb.stop(),
  };
}

/** Attempts, 1 s apart: the kubelet restarts a crashed container within seconds (CrashLoopBackOff starts at 10 s). */
const SPEAKER_START_ATTEMPTS = 5;

/**
 * MetalLB's speaker exits when its first API call fails (internal/k8s/k8s.go New: "unable to start manager"), which
 * happens to a node just back on the network whose neighbour entry for the apiserver is still FAILED ("no route to
 * host"); in a cluster its DaemonSet's kubelet restarts it, so the lab does too. Only a start that failed
 * (MetalLbError: exited or never ready) is retried.
 */
async function startLikeKubelet(start: () => Promise<void>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (err) {
      if (!(err instanceof MetalLbError) || attempt >= SPEAKER_START_ATTEMPTS) throw err;
      await delay(1_000);
    }
  }
}

/**
 * Every running speaker's last memberlist event about `node` is a join (a speaker that never saw it leave, because
 * it came back within the suspicion timeout, still has its first join), and `node`'s fresh speaker has seen every
 * running speaker join.
 */
function memberlistSettled(metalLb: LabMetalLb, node: string, up: readonly string[]): boolean {
  return up.every(
    (observer) =>
      metalLb.memberEvents(observer, node).at(-1) === "NodeJoin" &&
      metalLb.memberEvents(node, observer).includes("NodeJoin"),
  );
}
