/**
 * The one hand-written part left on a lab node: a stand-in for the kubelet. There is no container runtime and no
 * image here, so instead of containers it runs the lab's echo (pod-server.ts) in a network namespace per pod
 * (lab-network.ts addPodSandbox), and does what a kubelet does for the rest of the cluster:
 * - runs every Pod bound to a lab node (spec.nodeName), whoever created it: the lab's helpers, a conformance case;
 * - reports its status: phase Running, podIP from the node's pod CIDR, and Ready from whether the server really
 *   serves (its process is alive and every TCP container port answers a connection; a kubelet has no UDP probe,
 *   so a UDP port counts as served while the process runs), probed every PROBE_INTERVAL_MS;
 * - finishes graceful deletions: a Pod with a deletionTimestamp is stopped and then deleted with grace 0, which is
 *   what lets the namespace controller finish a namespace.
 * The real EndpointSlice controller (kube-controller-manager) turns these Pods into EndpointSlices.
 */
import type { ChildProcess } from "node:child_process";
import { appendFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CoreV1Api, type KubeConfig, type V1Pod, type V1PodCondition } from "@kubernetes/client-node";
import { LbOperatorError, errorMessage } from "../../../src/errors.js";
import type { AgentClient } from "./agent-client.js";
import { FIRST_POD_SLOT, LAST_POD_SLOT, podGatewayIp, podIp } from "./lab-addresses.js";
import { UNSERVED_PORTS_ANNOTATION } from "./lab-cluster.js";
import type { LabHost, LabNetwork, LabNode } from "./lab-network.js";

export class LabKubeletError extends LbOperatorError {}

const POD_SERVER = fileURLToPath(new URL("./pod-server.ts", import.meta.url));
const SYNC_INTERVAL_MS = 250;
const PROBE_INTERVAL_MS = 1_000;
const PROBE_TIMEOUT_MS = 500;
const SERVER_START_TIMEOUT_MS = 10_000;

export interface KubeletNode {
  readonly host: LabNode;
  readonly agent: AgentClient;
}

interface PodPort {
  protocol: "TCP" | "UDP";
  port: number;
  http: boolean;
}

interface RunningPod {
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
  readonly node: KubeletNode;
  readonly slot: number;
  readonly ip: string;
  readonly sandbox: LabHost;
  readonly ports: readonly PodPort[];
  readonly logPath: string;
  server: ChildProcess | undefined;
  /** Set by the last probe; undefined until the first one. */
  ready: boolean | undefined;
  probedAt: number;
  startedAt: Date;
}

const podKey = (namespace: string, name: string): string => `${namespace}/${name}`;

export class LabKubelet {
  private readonly core: CoreV1Api;
  private readonly running = new Map<string, RunningPod>();
  private readonly starting = new Set<string>();
  private readonly failures = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;
  private syncing: Promise<void> | undefined;
  private stopped = false;

  constructor(
    kubeConfig: KubeConfig,
    private readonly network: LabNetwork,
    private readonly nodes: readonly KubeletNode[],
    private readonly logDir: string,
  ) {
    this.core = kubeConfig.makeApiClient(CoreV1Api);
  }

  start(): void {
    const loop = (): void => {
      if (this.stopped) return;
      this.syncing = this.sync()
        .catch((err: unknown) => this.log(`sync failed: ${errorMessage(err)}`))
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(loop, SYNC_INTERVAL_MS);
        });
    };
    loop();
  }

  /** Stops every pod server and removes every sandbox. Pod objects are left to the control plane's teardown. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.syncing;
    await Promise.all([...this.running.values()].map((p) => this.teardown(p)));
  }

  /** The address of a running pod. */
  podIp(namespace: string, name: string): string | undefined {
    return this.running.get(podKey(namespace, name))?.ip;
  }

  /** The network namespace of a running pod, to run a client inside it (hairpin tests). */
  sandbox(namespace: string, name: string): LabHost | undefined {
    return this.running.get(podKey(namespace, name))?.sandbox;
  }

  /** Why the kubelet could not run a pod, if it tried and failed. */
  failure(namespace: string, name: string): string | undefined {
    return this.failures.get(podKey(namespace, name));
  }

  /** A container crash (false: the server is SIGKILLed) or restart (true). Readiness follows from the probe. */
  async setServing(namespace: string, name: string, serving: boolean): Promise<void> {
    const pod = this.running.get(podKey(namespace, name));
    if (!pod) throw new LabKubeletError(`pod ${namespace}/${name} is not running on a lab node`);
    if (!serving) {
      await stopServer(pod);
      pod.probedAt = 0;
      return;
    }
    if (pod.server && pod.server.exitCode === null && pod.server.signalCode === null) return;
    await this.startServer(pod);
    pod.probedAt = 0;
  }

  private async sync(): Promise<void> {
    const lab = new Map(this.nodes.map((n) => [n.host.name, n]));
    const list = await this.core.listPodForAllNamespaces();
    const seen = new Set<string>();
    for (const pod of list.items) {
      const node = lab.get(pod.spec?.nodeName ?? "");
      const namespace = pod.metadata?.namespace ?? "";
      const name = pod.metadata?.name ?? "";
      if (!node || !pod.metadata?.uid) continue;
      const key = podKey(namespace, name);
      seen.add(key);
      const current = this.running.get(key);
      if (current && current.uid !== pod.metadata.uid) await this.teardown(current);
      if (pod.metadata.deletionTimestamp) {
        await this.finishDeletion(pod, key);
        continue;
      }
      if (!this.running.has(key)) {
        if (!this.starting.has(key) && !this.failures.has(key)) void this.run(pod, node, key);
        continue;
      }
      await this.report(pod, this.running.get(key)!);
    }
    for (const [key, pod] of this.running) if (!seen.has(key)) await this.teardown(pod);
  }

  private async run(pod: V1Pod, node: KubeletNode, key: string): Promise<void> {
    this.starting.add(key);
    this.log(`running ${key} on ${node.host.name}`);
    try {
      const used = new Set([...this.running.values()].filter((p) => p.node === node).map((p) => p.slot));
      const slot = Array.from({ length: LAST_POD_SLOT - FIRST_POD_SLOT + 1 }, (_, i) => i + FIRST_POD_SLOT).find(
        (s) => !used.has(s),
      );
      if (slot === undefined) throw new LabKubeletError(`node ${node.host.name} has no free pod address`);
      const ip = podIp(node.host.index, slot);
      const sandbox = await this.network.addPodSandbox(node.host, slot, ip, podGatewayIp(node.host.index));
      const running: RunningPod = {
        uid: pod.metadata!.uid!,
        namespace: pod.metadata!.namespace!,
        name: pod.metadata!.name!,
        node,
        slot,
        ip,
        sandbox,
        ports: containerPorts(pod),
        logPath: join(this.logDir, `pod-${pod.metadata!.namespace}-${pod.metadata!.name}.log`),
        server: undefined,
        ready: undefined,
        probedAt: 0,
        startedAt: new Date(),
      };
      this.running.set(key, running);
      await this.startServer(running);
    } catch (err) {
      this.failures.set(key, errorMessage(err));
      this.log(`cannot run ${key}: ${errorMessage(err)}`);
    } finally {
      this.starting.delete(key);
    }
  }

  private async startServer(pod: RunningPod): Promise<void> {
    const spec = JSON.stringify({ name: pod.name, ports: pod.ports });
    const before = readLog(pod.logPath)
      .split("\n")
      .filter((l) => l === "ready").length;
    pod.server = pod.sandbox.spawn(process.execPath, [POD_SERVER, spec], { logPath: pod.logPath });
    const deadline = Date.now() + SERVER_START_TIMEOUT_MS;
    while (
      readLog(pod.logPath)
        .split("\n")
        .filter((l) => l === "ready").length <= before
    ) {
      if (pod.server.exitCode !== null || pod.server.signalCode !== null || Date.now() > deadline) {
        throw new LabKubeletError(
          `pod ${pod.namespace}/${pod.name}: server did not start; log ${pod.logPath}:\n${readLog(pod.logPath)}`,
        );
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Probes when due and writes the status when what the apiserver holds differs from what the pod is. */
  private async report(pod: V1Pod, running: RunningPod): Promise<void> {
    if (Date.now() - running.probedAt >= PROBE_INTERVAL_MS) {
      running.ready = await this.probe(running);
      running.probedAt = Date.now();
    }
    const ready = running.ready === true;
    const status = pod.status;
    const reported = status?.conditions?.find((c) => c.type === "Ready")?.status === "True";
    if (status?.phase === "Running" && status.podIP === running.ip && reported === ready) return;
    const body: V1Pod = { ...pod, status: podStatus(running, ready, status?.conditions ?? []) };
    // A conflict (someone else wrote the pod) is retried on the next sync with a fresh read.
    await this.core
      .replaceNamespacedPodStatus({ namespace: running.namespace, name: running.name, body })
      .catch((err: unknown) => this.log(`status of ${running.namespace}/${running.name}: ${errorMessage(err)}`));
  }

  private async probe(pod: RunningPod): Promise<boolean> {
    const server = pod.server;
    if (!server || server.exitCode !== null || server.signalCode !== null) return false;
    for (const p of pod.ports) {
      if (p.protocol !== "TCP") continue;
      const ok = p.http
        ? (await pod.node.agent.httpGet(`http://${pod.ip}:${p.port}/hostname`, { timeoutMs: PROBE_TIMEOUT_MS }))
            .status === 200
        : (await pod.node.agent.request("TCP", pod.ip, p.port, { timeoutMs: PROBE_TIMEOUT_MS })).ok;
      if (!ok) return false;
    }
    return true;
  }

  private async finishDeletion(pod: V1Pod, key: string): Promise<void> {
    this.log(`finishing the deletion of ${key}`);
    const running = this.running.get(key);
    if (running) await this.teardown(running);
    this.failures.delete(key);
    // As the kubelet's status manager does: grace 0 in the DeleteOptions body, guarded by the uid (a query
    // parameter of 0 is dropped by the client as if unset).
    await this.core
      .deleteNamespacedPod({
        namespace: pod.metadata!.namespace!,
        name: pod.metadata!.name!,
        body: { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata!.uid! } },
      })
      .catch((err: unknown) => {
        if ((err as { code?: number }).code !== 404) this.log(`delete ${key}: ${errorMessage(err)}`);
      });
  }

  private async teardown(pod: RunningPod): Promise<void> {
    this.running.delete(podKey(pod.namespace, pod.name));
    await stopServer(pod);
    await this.network.removePodSandbox(pod.sandbox);
  }

  /** Written to `<logDir>/lab-kubelet.log`, like a kubelet's own log. */
  private log(line: string): void {
    appendFileSync(join(this.logDir, "lab-kubelet.log"), `${new Date().toISOString()} ${line}\n`);
  }
}

/** Every container port, less those the pod's annotation reserves for a server a test runs itself. */
function containerPorts(pod: V1Pod): PodPort[] {
  const unserved = new Set(
    (pod.metadata?.annotations?.[UNSERVED_PORTS_ANNOTATION] ?? "").split(",").filter(Boolean).map(Number),
  );
  return (pod.spec?.containers ?? [])
    .flatMap((c) => c.ports ?? [])
    .filter((p) => !unserved.has(p.containerPort))
    .map((p) => ({
      protocol: p.protocol === "UDP" ? "UDP" : "TCP",
      port: p.containerPort,
      http: p.protocol !== "UDP" && (p.name ?? "").startsWith("http"),
    }));
}

function podStatus(pod: RunningPod, ready: boolean, previous: readonly V1PodCondition[]): NonNullable<V1Pod["status"]> {
  const now = new Date();
  const condition = (type: string, value: boolean): V1PodCondition => {
    const before = previous.find((c) => c.type === type);
    const status = value ? "True" : "False";
    return {
      type,
      status,
      lastTransitionTime: before?.status === status ? before.lastTransitionTime : now,
      lastProbeTime: undefined,
    };
  };
  return {
    phase: "Running",
    hostIP: pod.node.host.ip,
    hostIPs: [{ ip: pod.node.host.ip }],
    podIP: pod.ip,
    podIPs: [{ ip: pod.ip }],
    startTime: pod.startedAt,
    conditions: [
      condition("PodReadyToStartContainers", true),
      condition("Initialized", true),
      condition("PodScheduled", true),
      condition("ContainersReady", ready),
      condition("Ready", ready),
    ],
  };
}

async function stopServer(pod: RunningPod): Promise<void> {
  const server = pod.server;
  if (!server || server.exitCode !== null || server.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => server.once("exit", () => resolve()));
  server.kill("SIGKILL");
  await exited;
}

function readLog(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}
