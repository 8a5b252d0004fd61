/**
 * The real Kubernetes parts of the lab besides the apiserver: one kube-proxy per node namespace and one
 * kube-controller-manager, both built by scripts/install-control-plane.sh at the control plane's version.
 *
 * kube-proxy owns what stand-ins used to fake: NodePorts are its DNAT rules (nothing listens on them since
 * kubernetes/kubernetes#108496), `:10256/healthz` and every healthCheckNodePort are its answers. That is what the
 * speaker has to live beside on a real node (../shared/DESIGN.md, "The speaker shares its node with kube-proxy").
 *
 * kube-controller-manager runs only the controllers that make sense without kubelets: EndpointSlices computed from
 * Pods, namespace deletion and garbage collection. The node lifecycle controller is off, so no node is ever tainted
 * unreachable for missing kubelet heartbeats in the middle of a test.
 */
import { join } from "node:path";
import { LbOperatorError } from "../../../src/errors.js";
import { KUBE_PROXY_HEALTHZ_PORT } from "../../../src/model/service-settings.js";
import { freePort, httpsStatus, resolveControlPlaneBinaries } from "../control-plane.js";
import { launchManaged, type ManagedChild, terminateManaged, waitUntilReady, watchChild } from "../managed-process.js";
import type { AgentClient } from "./agent-client.js";
import { POD_NETWORK } from "./lab-addresses.js";
import type { LabNode } from "./lab-network.js";

export class KubeProcessError extends LbOperatorError {}

export type KubeProxyMode = "nftables" | "iptables";
export const KUBE_PROXY_MODES: readonly KubeProxyMode[] = ["nftables", "iptables"];
export const KUBE_CONTROLLER_MANAGER_CONTROLLERS = [
  "endpointslice",
  "endpointslicemirroring",
  "namespace",
  "garbagecollector",
];

const READY_TIMEOUT_MS = 60_000;

export function parseKubeProxyMode(text: string | undefined, origin: string): KubeProxyMode {
  if (text === undefined || text === "") return "nftables";
  if ((KUBE_PROXY_MODES as readonly string[]).includes(text)) return text as KubeProxyMode;
  throw new KubeProcessError(
    `${origin}: kube-proxy mode ${JSON.stringify(text)} is not one of ${KUBE_PROXY_MODES.join(", ")}`,
  );
}

export interface RunningProcess extends ManagedChild {
  /** SIGKILL and wait. Idempotent. */
  kill(): Promise<void>;
}

function running(proc: ManagedChild): RunningProcess {
  return { ...proc, kill: () => terminateManaged(proc, 0) };
}

export interface KubeProxyOptions {
  readonly node: LabNode;
  readonly agent: AgentClient;
  readonly mode: KubeProxyMode;
  readonly kubeconfigPath: string;
  readonly logDir: string;
  /** For tests of bad input: another binary in place of kube-proxy. */
  readonly binary?: string;
}

/**
 * Starts kube-proxy in the node's namespace and waits for `<nodeIP>:10256/healthz` to answer 200, which kube-proxy
 * does once it has synced its rules. `--conntrack-max-per-core=0`: nf_conntrack_max is read-only in a network
 * namespace, and kube-proxy exits if it cannot set it.
 */
export async function startKubeProxy(options: KubeProxyOptions): Promise<RunningProcess> {
  const { node, agent, mode } = options;
  const bin = options.binary ?? join(await resolveControlPlaneBinaries(), "kube-proxy");
  const logPath = join(options.logDir, `kube-proxy-${node.name}.log`);
  const child = node.spawn(
    bin,
    [
      `--proxy-mode=${mode}`,
      `--hostname-override=${node.name}`,
      `--kubeconfig=${options.kubeconfigPath}`,
      `--cluster-cidr=${POD_NETWORK}`,
      "--conntrack-max-per-core=0",
      `--healthz-bind-address=${node.ip}:${KUBE_PROXY_HEALTHZ_PORT}`,
      "--metrics-bind-address=127.0.0.1:10249",
      "--v=2",
    ],
    { logPath },
  );
  const proc = watchChild(child, logPath);
  await waitUntilReady(proc, {
    name: `kube-proxy (${bin}) on ${node.name}`,
    what: `${node.ip}:${KUBE_PROXY_HEALTHZ_PORT}/healthz answered 200`,
    timeoutMs: READY_TIMEOUT_MS,
    probe: async () =>
      (await agent.httpGet(`http://${node.ip}:${KUBE_PROXY_HEALTHZ_PORT}/healthz`, { timeoutMs: 1_000 })).status ===
      200,
    error: (m) => new KubeProcessError(m),
  });
  return running(proc);
}

export interface ControllerManagerOptions {
  readonly kubeconfigPath: string;
  readonly logDir: string;
  readonly binary?: string;
}

/** Starts kube-controller-manager in the root namespace and waits for its `/healthz`. */
export async function startControllerManager(options: ControllerManagerOptions): Promise<RunningProcess> {
  const bin = options.binary ?? join(await resolveControlPlaneBinaries(), "kube-controller-manager");
  const port = await freePort("127.0.0.1");
  const logPath = join(options.logDir, "kube-controller-manager.log");
  const proc = launchManaged(
    bin,
    [
      `--kubeconfig=${options.kubeconfigPath}`,
      `--authentication-kubeconfig=${options.kubeconfigPath}`,
      `--authorization-kubeconfig=${options.kubeconfigPath}`,
      `--controllers=${KUBE_CONTROLLER_MANAGER_CONTROLLERS.join(",")}`,
      "--leader-elect=false",
      "--use-service-account-credentials=false",
      "--bind-address=127.0.0.1",
      `--secure-port=${port}`,
      `--cert-dir=${join(options.logDir, "kcm-certs")}`,
      "--v=2",
    ],
    logPath,
  );
  // Its serving certificate is self-signed (generated into --cert-dir); only liveness is asked.
  await waitUntilReady(proc, {
    name: `kube-controller-manager (${bin})`,
    what: `https://127.0.0.1:${port}/healthz answered 200`,
    timeoutMs: READY_TIMEOUT_MS,
    probe: async () => (await httpsStatus(`https://127.0.0.1:${port}/healthz`)) === 200,
    error: (m) => new KubeProcessError(m),
  });
  return running(proc);
}
