/**
 * MetalLB in the lab, in place of our controller and speakers, in the same topology: start the lab with
 * `startLab({ startSpeakers: false })`, then `startLabMetalLb(lab)`. Built by scripts/install-metallb.sh (v0.16.1 or
 * v0.15.2, layer 2 only: the native BGP implementation is never configured and no FRR runs).
 *
 * - its CRDs, namespace `metallb-system`, an IPAddressPool over VIP_RANGE and an L2Advertisement (metallb-objects.ts);
 * - its controller in the root namespace, as lab-controller.ts runs ours, with webhooks off (`--webhook-mode
 *   disabled`, so no certificates and no webhook Service are needed) and `--lb-class`;
 * - one speaker per node namespace, run like our speakers: `--host` and memberlist bound to the node's address,
 *   memberlist peers found through the stand-in speaker Pods, traffic encrypted with a secret generated per lab.
 *
 * Kube-proxy (real, per node) forwards VIP traffic, as in a MetalLB cluster. `stop()` kills every process it
 * started; the speakers are also killed by the lab's teardown (they run in its namespaces) and the controller by
 * the exit handlers of managed-process.ts if the test process ends first. MetalLB's layer 2 mode adds no nftables
 * table and no address to any interface (it answers ARP from a raw socket), so the lab's teardown removes the rest.
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { LbOperatorError } from "../../../src/errors.js";
import { eventually } from "../../../testing/eventually.js";
import { freePort } from "../control-plane.js";
import {
  launchManaged,
  printsExistingPath,
  runInstallScript,
  terminateManaged,
  waitUntilReady,
  watchChild,
  type ManagedChild,
} from "../managed-process.js";
import type { Lab } from "./lab.js";
import {
  CONTROLLER_POD,
  createControllerPod,
  createMetalLbConfig,
  createSpeakerPod,
  installMetalLbCrds,
  METALLB_LOAD_BALANCER_CLASS,
  METALLB_NAMESPACE,
  METALLB_SPEAKER_LABELS,
  speakerPodName,
} from "./metallb-objects.js";

export { METALLB_LOAD_BALANCER_CLASS, METALLB_NAMESPACE } from "./metallb-objects.js";

export class MetalLbError extends LbOperatorError {}

/** Where the speaker serves metrics on its node's address (MetalLB's default port). */
export const METALLB_SPEAKER_METRICS_PORT = 7472;
const READY_TIMEOUT_MS = 60_000;
/** v0.16's default `-health-probe-port`, bound to 127.0.0.1 of the speaker's node namespace. */
const SPEAKER_HEALTH_PROBE_PORT = 17472;
/** The file name MetalLB's speaker reads inside `--ml-secret-key-path` (internal/k8s MLSecretKeyName). */
const ML_SECRET_FILE = "secretkey";

export interface LabMetalLb {
  readonly binDir: string;
  /** The release running, from the cache directory the install script built it into: "v0.16.1". */
  readonly version: string;
  readonly controllerLogPath: string;
  /** Starts the node's speaker and waits until it serves metrics. */
  startSpeaker(node: string): Promise<void>;
  /** SIGKILL and wait: a crashed speaker, no memberlist goodbye. */
  killSpeaker(node: string): Promise<void>;
  /** SIGTERM and wait (SIGKILL after 15 s): a speaker restarted by its DaemonSet, which leaves memberlist. */
  stopSpeaker(node: string): Promise<void>;
  speakerLogPath(node: string): string;
  /** What `observer`'s speaker, in its current run, logged about `node` joining or leaving its memberlist. */
  memberEvents(observer: string, node: string): MemberEvent[];
  /** Kills the controller and every speaker. Idempotent. */
  stop(): Promise<void>;
}

/** Runs install-metallb.sh (a first build takes a couple of minutes) and resolves with its bin directory. */
export function resolveMetalLbBinaries(): Promise<string> {
  return runInstallScript("install-metallb.sh", printsExistingPath);
}

export async function startLabMetalLb(lab: Lab, options: { logLevel?: string } = {}): Promise<LabMetalLb> {
  // Both would answer ARP for the same VIPs (our speakers serve their own class only, but the lab's pool is shared).
  const ours = lab.nodes.filter((n) => lab.speakerRunning(n.name)).map((n) => n.name);
  if (ours.length > 0)
    throw new MetalLbError(`our speakers run on ${ours.join(", ")}: start the lab with { startSpeakers: false }`);
  const binDir = await resolveMetalLbBinaries();
  const healthProbes = hasHealthProbes(binDir);
  const kc = lab.kubeConfig();
  const logLevel = options.logLevel ?? "debug";
  const secretDir = join(lab.logDir, "metallb-memberlist");
  mkdirSync(secretDir, { recursive: true });
  writeFileSync(join(secretDir, ML_SECRET_FILE), randomBytes(32).toString("base64"), { mode: 0o600 });

  const speakers = new Map<string, ManagedChild>();
  let controller: ManagedChild | undefined;
  const speakerLogPath = (node: string): string => join(lab.logDir, `metallb-speaker-${node}.log`);
  const controllerLogPath = join(lab.logDir, "metallb-controller.log");
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      await Promise.all([...speakers.values()].map((s) => terminateManaged(s, 0)));
      if (controller) await terminateManaged(controller, 0);
    })());

  const startSpeaker = async (name: string): Promise<void> => {
    const node = lab.node(name);
    const running = speakers.get(name);
    if (running && !running.done()) throw new MetalLbError(`MetalLB speaker on ${name} is already running`);
    const bin = join(binDir, "speaker");
    const logPath = speakerLogPath(name);
    writeFileSync(logPath, `${SPEAKER_START_MARKER} ${new Date().toISOString()}\n`, { flag: "a" });
    const child = node.spawn(
      bin,
      [
        `--kubeconfig=${lab.cp.kubeconfigPath}`,
        `--node-name=${name}`,
        `--pod-name=${speakerPodName(name)}`,
        `--namespace=${METALLB_NAMESPACE}`,
        `--host=${node.ip}`,
        `--port=${METALLB_SPEAKER_METRICS_PORT}`,
        `--ml-bindaddr=${node.ip}`,
        `--ml-labels=${labelSelector(METALLB_SPEAKER_LABELS)}`,
        `--ml-secret-key-path=${secretDir}`,
        `--lb-class=${METALLB_LOAD_BALANCER_CLASS}`,
        `--log-level=${logLevel}`,
      ],
      { logPath },
    );
    const proc = watchChild(child, logPath);
    speakers.set(name, proc);
    // v0.16 serves metrics over HTTPS with authentication and has a plain health endpoint on 127.0.0.1 instead.
    const readyUrl = healthProbes
      ? `http://127.0.0.1:${SPEAKER_HEALTH_PROBE_PORT}/readyz`
      : `http://${node.ip}:${METALLB_SPEAKER_METRICS_PORT}/metrics`;
    await waitUntilReady(proc, {
      name: `MetalLB speaker (${bin}) on ${name}`,
      what: `${readyUrl} answered 200`,
      timeoutMs: READY_TIMEOUT_MS,
      probe: async () => (await node.agent.httpGet(readyUrl, { timeoutMs: 1_000 })).status === 200,
      error: (m) => new MetalLbError(m),
    });
  };

  try {
    await installMetalLbCrds(kc, join(binDir, "crds"));
    await createMetalLbConfig(kc);
    await Promise.all(lab.nodes.map((n) => createSpeakerPod(kc, n.name, n.ip)));
    await createControllerPod(kc);
    const port = await freePort("127.0.0.1");
    const healthPort = await freePort("127.0.0.1");
    const bin = join(binDir, "controller");
    const readyUrl = healthProbes ? `http://127.0.0.1:${healthPort}/readyz` : `http://127.0.0.1:${port}/metrics`;
    mkdirSync(dirname(controllerLogPath), { recursive: true });
    const started = launchManaged(
      bin,
      [
        `--kubeconfig=${lab.cp.kubeconfigPath}`,
        `--namespace=${METALLB_NAMESPACE}`,
        `--port=${port}`,
        "--webhook-mode=disabled",
        "--disable-cert-rotation",
        `--lb-class=${METALLB_LOAD_BALANCER_CLASS}`,
        `--log-level=${logLevel}`,
        ...(healthProbes ? [`--pod-name=${CONTROLLER_POD}`, `--health-probe-port=${healthPort}`] : []),
      ],
      controllerLogPath,
    );
    controller = started;
    await waitUntilReady(started, {
      name: `MetalLB controller (${bin})`,
      what: `${readyUrl} answered 200`,
      timeoutMs: READY_TIMEOUT_MS,
      probe: async () => (await fetch(readyUrl).catch(() => undefined))?.status === 200,
      error: (m) => new MetalLbError(m),
    });
    await Promise.all(lab.nodes.map((n) => startSpeaker(n.name)));
    // Until memberlist has converged each speaker elects among the members it sees, so two can announce one VIP
    // for a moment (once seen here: the client ARPed node-2 while a ServiceL2Status named node-1). A lab is ready
    // once every speaker has seen every node join, as in a cluster whose speakers have been up a while.
    await Promise.all(
      lab.nodes.map((n) =>
        eventually(
          `MetalLB speaker on ${n.name} to see every node join its memberlist`,
          () => lab.nodes.every((m) => readOr(speakerLogPath(n.name)).includes(memberJoined(m.name))),
          { timeoutMs: READY_TIMEOUT_MS },
        ),
      ),
    );
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    binDir,
    version: /metallb-([^/]+)\/bin\/?$/.exec(binDir)?.[1] ?? "(unknown version)",
    controllerLogPath,
    startSpeaker,
    killSpeaker: async (name) => {
      const running = speakers.get(lab.node(name).name);
      if (running) await terminateManaged(running, 0);
    },
    stopSpeaker: async (name) => {
      const running = speakers.get(lab.node(name).name);
      if (running) await terminateManaged(running, 15_000);
    },
    speakerLogPath,
    memberEvents: (observer, node) => memberEvents(readOr(speakerLogPath(observer)), node),
    stop,
  };
}

/** Written to a speaker's log before each start, so a reader can tell one run of the speaker from the previous. */
export const SPEAKER_START_MARKER = "--- lab: MetalLB speaker start";

export type MemberEvent = "NodeJoin" | "NodeLeave" | "NodeUpdate";

/**
 * The memberlist events a speaker logged about `node`, in order, from its current run only (after the last start
 * marker). MetalLB's speakerlist logs each one as `"node event":"<NodeJoin|NodeLeave|NodeUpdate>"` next to
 * `"node name":"<node>"` (internal/speakerlist/speakerlist.go, memberlistWatchEvents).
 */
export function memberEvents(speakerLog: string, node: string): MemberEvent[] {
  const run = speakerLog.slice(Math.max(0, speakerLog.lastIndexOf(SPEAKER_START_MARKER)));
  const events: MemberEvent[] = [];
  for (const line of run.split("\n")) {
    if (!line.includes(`"node name":"${node}"`)) continue;
    const m = /"node event":"(NodeJoin|NodeLeave|NodeUpdate)"/.exec(line);
    if (m?.[1] === "NodeJoin" || m?.[1] === "NodeLeave" || m?.[1] === "NodeUpdate") events.push(m[1]);
  }
  return events;
}

/** The line MetalLB's speakerlist logs when memberlist reports a node joining (internal/speakerlist). */
const memberJoined = (node: string): string => `"node event":"NodeJoin","node name":"${node}"`;

function readOr(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

/** v0.16 has `-health-probe-port` (and wants its controller's own Pod); v0.15 has neither. */
function hasHealthProbes(binDir: string): boolean {
  const help = spawnSync(join(binDir, "controller"), ["-h"], { encoding: "utf8" });
  return `${help.stdout}${help.stderr}`.includes("-health-probe-port");
}

const labelSelector = (labels: Readonly<Record<string, string>>): string =>
  Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
