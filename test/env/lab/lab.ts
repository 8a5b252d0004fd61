/**
 * The bare-metal lab: network namespaces on a bridge (lab-network.ts), a real kube-apiserver + etcd reachable
 * from them, a real kube-controller-manager (EndpointSlices, namespaces, GC), a real kube-proxy in every node
 * (kube-node-processes.ts), pods in their own namespaces run by the kubelet stand-in (lab-kubelet.ts), a lab
 * agent in every host, and one speaker (our CLI) per node. Everything is torn down by `teardown()`, and by
 * exit/signal handlers if the process ends first.
 */
import { type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { KubeConfig } from "@kubernetes/client-node";
import { LbOperatorError } from "../../../src/errors.js";
import { type ControlPlane, startControlPlane } from "../control-plane.js";
import { AgentClient } from "./agent-client.js";
import { type DeployedService, type DeployServiceOptions, LabCluster } from "./lab-cluster.js";
import { MAX_NODES } from "./lab-addresses.js";
import { LabKubelet } from "./lab-kubelet.js";
import {
  type KubeProxyMode,
  parseKubeProxyMode,
  type RunningProcess,
  startControllerManager,
  startKubeProxy,
} from "./kube-node-processes.js";
import { createLabNetwork, type LabHost, type LabNetwork, type LabNode, sweepStaleLabs } from "./lab-network.js";

export { sweepStaleLabs } from "./lab-network.js";
export { LAB_LOAD_BALANCER_CLASS } from "./lab-cluster.js";
export type { DeployedService, DeployServiceOptions, LabPod, LabPortSpec, LabServicePort } from "./lab-cluster.js";
export { KUBE_PROXY_MODES, type KubeProxyMode } from "./kube-node-processes.js";
export { VIP_RANGE } from "./lab-addresses.js";

export class LabError extends LbOperatorError {}

const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const MAIN = join(REPO_ROOT, "src/main.ts");
export const SPEAKER_METRICS_PORT = 9473;
const SPEAKER_READY_TIMEOUT_MS = 30_000;
const SPEAKER_STOP_TIMEOUT_MS = 15_000;

export interface LabOptions {
  /** Node hosts (default 3). */
  nodes?: number;
  /** Extra arguments for every speaker. */
  speakerArgs?: string[];
  /** Start one speaker per node (default true). */
  startSpeakers?: boolean;
  /** Where agent and speaker logs go; default a temp dir, removed at teardown unless keepLogs. */
  logDir?: string;
  keepLogs?: boolean;
  /** kube-proxy's mode on every node; default `LAB_KUBE_PROXY_MODE` from the environment, else nftables. */
  kubeProxyMode?: KubeProxyMode;
  /** Other binaries in place of the built ones (tests of a part that fails to start). */
  kubeProxyBinary?: string;
  controllerManagerBinary?: string;
}

export interface LabHostHandle extends LabHost {
  readonly agent: AgentClient;
}
export interface LabClientHandle extends LabHostHandle {
  /** The MAC the client's neighbour table holds for `ip` (`ip neigh show`), if it has a usable entry. */
  arpLookup(ip: string): Promise<string | undefined>;
  /** Forgets every neighbour entry, so the next packet to a VIP ARPs again. */
  flushNeighbours(): Promise<void>;
}
export interface LabNodeHandle extends LabNode {
  readonly agent: AgentClient;
}

export interface SpeakerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Lab {
  readonly cp: ControlPlane;
  readonly kubeProxyMode: KubeProxyMode;
  readonly network: LabNetwork;
  readonly logDir: string;
  /**
   * The speakers' shared heartbeat key, random per lab (as MetalLB's memberlist secret is, metallb.ts): every
   * speaker started here gets `--heartbeat-secret-file` with it; a speaker started another way must too.
   */
  readonly heartbeatKeyFile: string;
  readonly client: LabClientHandle;
  readonly outsider: LabClientHandle;
  readonly nodes: readonly LabNodeHandle[];
  node(name: string): LabNodeHandle;
  kubeConfig(): KubeConfig;
  /** Starts `lb-operator speaker` in the node and waits until it serves metrics on <nodeIP>:9473. */
  startSpeaker(node: string, extraArgs?: string[]): Promise<void>;
  /** SIGTERM, then waits for the exit (SIGKILL after 15 s). */
  stopSpeaker(node: string): Promise<SpeakerExit>;
  /** SIGKILL: a crashed speaker, no goodbye. */
  killSpeaker(node: string): Promise<SpeakerExit>;
  speakerRunning(node: string): boolean;
  speakerLog(node: string): string;
  deployService(options: DeployServiceOptions): Promise<DeployedService>;
  /** Crashes (false) or restarts (true) a pod's server; the kubelet stand-in reports readiness from it. */
  setPodServing(namespace: string, pod: string, serving: boolean): Promise<void>;
  /** A running pod's network namespace, to start a process of the test's own inside the pod. */
  podHost(namespace: string, pod: string): LabHost;
  /** A lab agent inside a running pod's network namespace: requests from the pod's own address. */
  podAgent(namespace: string, pod: string): Promise<AgentClient>;
  /** SIGKILLs the node's kube-proxy: its rules stay in the kernel, its health answers stop. */
  stopKubeProxy(node: string): Promise<void>;
  /** Starts the node's kube-proxy again and waits for its /healthz. */
  startKubeProxy(node: string): Promise<void>;
  teardown(): Promise<void>;
}

interface Speaker {
  child: ChildProcess;
  exited: Promise<SpeakerExit>;
  done: boolean;
}

export async function startLab(options: LabOptions = {}): Promise<Lab> {
  const nodeCount = options.nodes ?? 3;
  if (!Number.isInteger(nodeCount) || nodeCount < 1 || nodeCount > MAX_NODES)
    throw new LabError(`nodes must be 1..${MAX_NODES}`);
  const ownLogDir = options.logDir === undefined;
  // Named lbo<pid>-… so sweepStaleLabs() also finds the directory of a run that was SIGKILLed.
  const logDir = options.logDir ?? mkdtempSync(join(tmpdir(), `lbo${process.pid}-logs-`));
  mkdirSync(logDir, { recursive: true });
  const heartbeatKeyFile = join(logDir, "heartbeat-key");
  // 0644 so a container bind-mounting the file reads it whatever its user (the image test); a throwaway key, in
  // a log directory that mkdtemp makes 0700.
  writeFileSync(heartbeatKeyFile, randomBytes(48).toString("base64"), { mode: 0o644 });

  const kubeProxyMode =
    options.kubeProxyMode ?? parseKubeProxyMode(process.env["LAB_KUBE_PROXY_MODE"], "LAB_KUBE_PROXY_MODE");
  const agents: AgentClient[] = [];
  const speakers = new Map<string, Speaker>();
  const kubeProxies = new Map<string, RunningProcess>();
  let controllerManager: RunningProcess | undefined;
  let kubelet: LabKubelet | undefined;
  let network: LabNetwork | undefined;
  let cp: ControlPlane | undefined;
  let tearingDown: Promise<void> | undefined;
  const teardown = (): Promise<void> =>
    (tearingDown ??= (async () => {
      await Promise.all(
        [...speakers.values()].map((s) => {
          s.child.kill("SIGKILL");
          return s.exited;
        }),
      );
      await kubelet?.stop();
      await Promise.all([...kubeProxies.values()].map((p) => p.kill()));
      await controllerManager?.kill();
      await Promise.all(agents.map((a) => a.dispose()));
      await network?.teardown();
      await cp?.stop();
      if (ownLogDir && !options.keepLogs) rmSync(logDir, { recursive: true, force: true });
    })());

  try {
    await sweepStaleLabs();
    const net = await createLabNetwork({ nodes: nodeCount, ownedDirs: ownLogDir && !options.keepLogs ? [logDir] : [] });
    network = net;
    const startAgent = async (host: LabHost): Promise<AgentClient> => {
      const agent = await AgentClient.start(
        (cmd, args, o) => host.spawn(cmd, args, { ...o, cwd: REPO_ROOT }),
        host.name,
        join(logDir, `agent-${host.name}.log`),
      );
      agents.push(agent);
      return agent;
    };
    // Settle everything before judging, so a control plane that comes up after an agent failed is still stopped.
    const cpStart = startControlPlane({ bindAddress: net.uplink.rootIp }).then((started) => (cp = started));
    const [controlPlane, clientAgents, nodeAgents] = await allOrThrow([
      cpStart,
      allOrThrow(net.clients.map(startAgent)),
      allOrThrow(net.nodes.map(startAgent)),
    ] as const);
    const nodes: LabNodeHandle[] = net.nodes.map((n, i) => ({ ...n, agent: nodeAgents[i]! }));
    const clients = net.clients.map((c, i) => clientHandle(c, clientAgents[i]!));
    const labKubelet = new LabKubelet(
      controlPlane.kubeConfig(),
      net,
      nodes.map((n) => ({ host: n, agent: n.agent })),
      logDir,
    );
    kubelet = labKubelet;
    const cluster = new LabCluster(controlPlane.kubeConfig(), nodes, labKubelet);
    await cluster.registerNodes();
    const startProxy = async (node: LabNodeHandle): Promise<void> => {
      kubeProxies.set(
        node.name,
        await startKubeProxy({
          node,
          agent: node.agent,
          mode: kubeProxyMode,
          kubeconfigPath: controlPlane.kubeconfigPath,
          logDir,
          binary: options.kubeProxyBinary,
        }),
      );
    };
    await allOrThrow([
      startControllerManager({
        kubeconfigPath: controlPlane.kubeconfigPath,
        logDir,
        binary: options.controllerManagerBinary,
      }).then((started) => {
        controllerManager = started;
      }),
      allOrThrow(nodes.map(startProxy)),
    ] as const);
    labKubelet.start();

    const nodeHandle = (name: string): LabNodeHandle => {
      const found = nodes.find((n) => n.name === name);
      if (!found) throw new LabError(`no lab node ${name}; nodes: ${nodes.map((n) => n.name).join(", ")}`);
      return found;
    };
    const speakerLogPath = (node: string): string => join(logDir, `speaker-${node}.log`);

    const startSpeaker = async (name: string, extraArgs: string[] = []): Promise<void> => {
      const node = nodeHandle(name);
      if (speakers.get(name)?.done === false) throw new LabError(`speaker on ${name} is already running`);
      const logPath = speakerLogPath(name);
      writeFileSync(logPath, `--- lab: speaker start ${new Date().toISOString()}\n`, { flag: "a" });
      const child = node.spawn(
        process.execPath,
        [
          "--import",
          "tsx",
          MAIN,
          "speaker",
          "--node-name",
          name,
          "--kubeconfig",
          controlPlane.kubeconfigPath,
          "--metrics-bind-address",
          `${node.ip}:${SPEAKER_METRICS_PORT}`,
          "--log-level",
          "debug",
          "--heartbeat-secret-file",
          heartbeatKeyFile,
          ...(options.speakerArgs ?? []),
          ...extraArgs,
        ],
        { logPath, cwd: REPO_ROOT },
      );
      const speaker: Speaker = { child, done: false, exited: Promise.resolve({ code: null, signal: null }) };
      speaker.exited = new Promise((resolve) => {
        const finish = (code: number | null, signal: NodeJS.Signals | null): void => {
          speaker.done = true;
          resolve({ code, signal });
        };
        child.once("exit", finish);
        child.once("error", () => finish(null, null));
      });
      speakers.set(name, speaker);
      const deadline = Date.now() + SPEAKER_READY_TIMEOUT_MS;
      for (;;) {
        if (speaker.done)
          throw new LabError(`speaker on ${name} exited before serving metrics; log ${logPath}:\n${tail(logPath)}`);
        const res = await node.agent.httpGet(`http://${node.ip}:${SPEAKER_METRICS_PORT}/metrics`, { timeoutMs: 1_000 });
        if (res.status === 200) return;
        if (Date.now() > deadline) {
          child.kill("SIGKILL");
          throw new LabError(
            `speaker on ${name} served no metrics within ${SPEAKER_READY_TIMEOUT_MS} ms; log ${logPath}:\n${tail(logPath)}`,
          );
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    };
    const signalSpeaker = async (name: string, signal: NodeJS.Signals): Promise<SpeakerExit> => {
      nodeHandle(name);
      const speaker = speakers.get(name);
      if (!speaker) throw new LabError(`no speaker was started on ${name}`);
      if (speaker.done) return speaker.exited;
      speaker.child.kill(signal);
      const timer = setTimeout(() => speaker.child.kill("SIGKILL"), SPEAKER_STOP_TIMEOUT_MS);
      try {
        return await speaker.exited;
      } finally {
        clearTimeout(timer);
      }
    };

    if (options.startSpeakers ?? true) await Promise.all(nodes.map((n) => startSpeaker(n.name)));

    return {
      cp: controlPlane,
      kubeProxyMode,
      network: net,
      logDir,
      heartbeatKeyFile,
      nodes,
      client: clients[0]!,
      outsider: clients[1]!,
      node: nodeHandle,
      kubeConfig: () => controlPlane.kubeConfig(),
      startSpeaker,
      stopSpeaker: (name) => signalSpeaker(name, "SIGTERM"),
      killSpeaker: (name) => signalSpeaker(name, "SIGKILL"),
      speakerRunning: (name) => speakers.get(name)?.done === false,
      speakerLog: (name) => {
        nodeHandle(name);
        return readOr(speakerLogPath(name), "");
      },
      deployService: (o) => cluster.deployService(o),
      setPodServing: (ns, pod, serving) => labKubelet.setServing(ns, pod, serving),
      podHost: (ns, pod) => {
        const sandbox = labKubelet.sandbox(ns, pod);
        if (!sandbox) throw new LabError(`pod ${ns}/${pod} is not running on a lab node`);
        return sandbox;
      },
      podAgent: async (ns, pod) => {
        const sandbox = labKubelet.sandbox(ns, pod);
        if (!sandbox) throw new LabError(`pod ${ns}/${pod} is not running on a lab node`);
        return startAgent(sandbox);
      },
      stopKubeProxy: async (name) => {
        await kubeProxies.get(nodeHandle(name).name)?.kill();
      },
      startKubeProxy: async (name) => {
        const running = kubeProxies.get(name);
        if (running && !running.done()) return;
        await startProxy(nodeHandle(name));
      },
      teardown,
    };
  } catch (err) {
    await teardown();
    throw err;
  }
}

function clientHandle(host: LabHost, agent: AgentClient): LabClientHandle {
  return {
    ...host,
    agent,
    async arpLookup(ip: string): Promise<string | undefined> {
      const { stdout } = await host.exec("ip", ["-j", "neigh", "show", ip, "dev", "eth0"]);
      const entries = JSON.parse(stdout || "[]") as { lladdr?: string; state?: string[] }[];
      const usable = entries.find((e) => e.lladdr && !e.state?.some((s) => s === "FAILED" || s === "INCOMPLETE"));
      return usable?.lladdr;
    },
    async flushNeighbours(): Promise<void> {
      await host.exec("ip", ["neigh", "flush", "dev", "eth0"]);
    },
  };
}

/** Promise.all that waits for every promise to settle before rejecting with the first failure. */
async function allOrThrow<T extends readonly unknown[]>(promises: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const settled = await Promise.allSettled(promises);
  const failed = settled.find((s) => s.status === "rejected");
  if (failed) throw failed.reason;
  return settled.map((s) => (s as PromiseFulfilledResult<unknown>).value) as unknown as T;
}

function readOr(path: string, fallback: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return fallback;
  }
}

const tail = (path: string, lines = 40): string =>
  readOr(path, "(no log)").trimEnd().split("\n").slice(-lines).join("\n");
