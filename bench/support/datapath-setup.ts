/**
 * What bench/datapath.ts measures through, in its two phases on one lab (see bench/README.md, "datapath.ts"):
 *
 * - ours: a pod-mode Service (allocateLoadBalancerNodePorts=false, forwarded by our speaker's nftables) with one
 *   pod placed off the announcer, iperf3 in the pod, HAProxy on the announcer; paths direct, vip, haproxy.
 * - MetalLB: the same Service name (so the same selector picks the same pod, still running with its iperf3) with
 *   MetalLB's class, asking for the same address (`metallb.io/loadBalancerIPs`), forwarded by kube-proxy; paths
 *   direct and vip. MetalLB ranks candidates by sha256(node + "#" + ip) (speaker/layer2_controller.go
 *   ShouldAnnounce), the ranking our election copies (speaker/announcer-election.ts), so with every speaker live
 *   the same address is announced from the same node: both VIP paths take the same hop to the same pod.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { CoreV1Api } from "@kubernetes/client-node";
import { electAnnouncer } from "../../speaker/announcer-election.js";
import { eventually } from "../../testing/eventually.js";
import { SERVICE_LABEL } from "../../test/env/lab/lab-cluster.js";
import { waitForAddress } from "../../test/env/lab/lab-controller.js";
import type { LabImplementation } from "../../test/env/lab/lab-implementations.js";
import type { Lab, LabNodeHandle } from "../../test/env/lab/lab.js";
import { startHaproxy } from "./haproxy.js";
import { runIperf } from "./iperf.js";

export const IPERF_PORT = 5201;
const ECHO_SERVICE_PORT = 80;
const ECHO_TARGET_PORT = 8080;
const HAPROXY_IPERF_PORT = 15201;
const HAPROXY_ECHO_PORT = 18080;
const NAMESPACE = "bench-datapath";
const SERVICE = "datapath";
const POD = "datapath-0";
export const REQUEST_TIMEOUT_MS = 2_000;
/** MetalLB's annotation for a requested address (controller/service.go AnnotationLoadBalancerIPs). */
const METALLB_LOAD_BALANCER_IPS = "metallb.io/loadBalancerIPs";

interface Endpoint {
  ip: string;
  port: number;
}
export interface PathSpec {
  readonly label: string;
  readonly kind: "direct" | "vip" | "haproxy";
  readonly what: string;
  readonly iperf: Endpoint;
  readonly echo: Endpoint;
}

/** What the first phase built and the second reuses: the VIP, the two nodes and the pod. */
export interface DatapathBase {
  readonly vip: string;
  readonly announcer: LabNodeHandle;
  readonly backend: LabNodeHandle;
  readonly podIp: string;
  readonly paths: readonly PathSpec[];
}

const log = (line: string): void => void process.stderr.write(`${line}\n`);

const servicePorts = [
  { name: "iperf", port: IPERF_PORT, targetPort: IPERF_PORT, echo: false },
  { name: "echo", port: ECHO_SERVICE_PORT, targetPort: ECHO_TARGET_PORT },
];

function directPath(pod: string, backend: LabNodeHandle): PathSpec {
  return {
    label: "direct",
    kind: "direct",
    what: `pod ${pod} routed by ${backend.name}`,
    iperf: { ip: pod, port: IPERF_PORT },
    echo: { ip: pod, port: ECHO_TARGET_PORT },
  };
}

function vipPath(impl: LabImplementation, vip: string, how: string, base: Omit<DatapathBase, "paths">): PathSpec {
  return {
    label: `${impl.label} vip`,
    kind: "vip",
    what: `VIP via ${base.announcer.name} (${how}) to pod ${base.podIp} on ${base.backend.name}`,
    iperf: { ip: vip, port: IPERF_PORT },
    echo: { ip: vip, port: ECHO_SERVICE_PORT },
  };
}

/** Our phase: deploys the Service, places the pod off the announcer, starts iperf3 and HAProxy, waits for the paths. */
export async function setUpOurs(lab: Lab, impl: LabImplementation, logDir: string): Promise<DatapathBase> {
  const svc = await lab.deployService({
    name: SERVICE,
    namespace: NAMESPACE,
    podMode: true,
    sessionAffinity: "ClientIP",
    loadBalancerClass: impl.loadBalancerClass,
    pods: [],
    ports: servicePorts,
  });
  const { ip: vip } = await waitForAddress(lab, NAMESPACE, SERVICE);
  // Every speaker is live and the policy is Cluster, so every node is a candidate (desired-data-plan.ts).
  const announcerName = electAnnouncer(
    vip,
    lab.nodes.map((n) => n.name),
  );
  const announcer = lab.nodes.find((n) => n.name === announcerName);
  const backend = lab.nodes.find((n) => n.name !== announcerName);
  if (!announcer || !backend)
    throw new Error(`cannot pick an announcer and another node from ${lab.nodes.map((n) => n.name).join(", ")}`);
  log(`VIP ${vip}: announcer ${announcer.name} (${announcer.ip}), backend pod on ${backend.name} (${backend.ip})`);

  // The pod's echo leaves 5201 free (echo: false); iperf3 serves it inside the pod for both phases.
  const pod = await svc.addPod({ name: POD, node: backend.name });
  lab
    .podHost(NAMESPACE, POD)
    .spawn("iperf3", ["-s", "-4", "-p", String(IPERF_PORT)], { logPath: join(logDir, "iperf3-server.log") });
  await lab.client.exec("ip", ["route", "add", backend.podSubnet, "via", backend.ip]);
  await startHaproxy(
    announcer,
    [
      {
        name: "iperf",
        listen: { ip: announcer.ip, port: HAPROXY_IPERF_PORT },
        server: { ip: pod.ip, port: IPERF_PORT },
      },
      {
        name: "echo",
        listen: { ip: announcer.ip, port: HAPROXY_ECHO_PORT },
        server: { ip: pod.ip, port: ECHO_TARGET_PORT },
      },
    ],
    { configPath: join(logDir, "haproxy.cfg"), logPath: join(logDir, "haproxy.log") },
  );
  const nodes = { vip, announcer, backend, podIp: pod.ip };
  const paths: PathSpec[] = [
    directPath(pod.ip, backend),
    vipPath(impl, vip, "our speaker's nftables", nodes),
    {
      label: "haproxy",
      kind: "haproxy",
      what: `HAProxy on ${announcer.name} to pod ${pod.ip} on ${backend.name}`,
      iperf: { ip: announcer.ip, port: HAPROXY_IPERF_PORT },
      echo: { ip: announcer.ip, port: HAPROXY_ECHO_PORT },
    },
  ];
  await waitForPaths(lab, paths, nodes);
  // Otherwise the vip row would measure something other than our forwarding hop.
  const nft = await eventually(
    `a DNAT to ${pod.ip}:${IPERF_PORT} in ${announcer.name}'s lb-operator table`,
    async () => {
      const { stdout } = await announcer.exec("nft", ["list", "table", "ip", "lb-operator"], { check: false });
      return stdout.includes(`${pod.ip}:${IPERF_PORT}`) ? stdout : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 250 },
  );
  writeFileSync(join(logDir, `nft-${announcer.name}.txt`), nft);
  return { ...nodes, paths };
}

/**
 * Deletes the Service object only: the pod (and the iperf3 server in it) stays for the next phase. Waits until
 * the Service is gone, so the next implementation's controller sees the address free.
 */
export async function deleteServiceKeepPod(lab: Lab): Promise<void> {
  const core = lab.kubeConfig().makeApiClient(CoreV1Api);
  await core.deleteNamespacedService({ namespace: NAMESPACE, name: SERVICE });
  await eventually(`Service ${NAMESPACE}/${SERVICE} to be gone`, () =>
    core.readNamespacedService({ namespace: NAMESPACE, name: SERVICE }).then(
      () => undefined,
      () => true,
    ),
  );
}

/** MetalLB's phase: the same pod behind a Service of its class on the same VIP, forwarded by kube-proxy. */
export async function setUpMetalLb(lab: Lab, impl: LabImplementation, base: DatapathBase): Promise<PathSpec[]> {
  const core = lab.kubeConfig().makeApiClient(CoreV1Api);
  await core.createNamespacedService({
    namespace: NAMESPACE,
    body: {
      metadata: { name: SERVICE, namespace: NAMESPACE, annotations: { [METALLB_LOAD_BALANCER_IPS]: base.vip } },
      spec: {
        type: "LoadBalancer",
        loadBalancerClass: impl.loadBalancerClass,
        selector: { [SERVICE_LABEL]: SERVICE },
        ports: servicePorts.map((p) => ({ name: p.name, port: p.port, protocol: "TCP", targetPort: p.targetPort })),
        externalTrafficPolicy: "Cluster",
        sessionAffinity: "ClientIP",
      },
    },
  });
  const { ip } = await waitForAddress(lab, NAMESPACE, SERVICE);
  if (ip !== base.vip) throw new Error(`MetalLB gave ${ip}, not the requested ${base.vip}`);
  const expected = electAnnouncer(
    ip,
    lab.nodes.map((n) => n.name),
  );
  if (expected !== base.announcer.name)
    throw new Error(`MetalLB's ranking names ${expected ?? "nobody"} for ${ip}, ours ${base.announcer.name}`);
  // The neighbour entry from our phase names the same node; forget it so the check below sees MetalLB's answer.
  await lab.client.flushNeighbours();
  const paths = [directPath(base.podIp, base.backend), vipPath(impl, ip, "kube-proxy", base)];
  await waitForPaths(lab, paths, base);
  return paths;
}

/**
 * Every path answers a request from the pod and a 1 s iperf3 test (which also warms ARP, conntrack and the
 * servers), and the client resolved the VIP to the announcer's MAC.
 */
async function waitForPaths(
  lab: Lab,
  paths: readonly PathSpec[],
  s: { vip: string; announcer: LabNodeHandle },
): Promise<void> {
  const client = lab.client;
  for (const path of paths) {
    const body = await eventually(
      `a reply on the ${path.label} path (${path.echo.ip}:${path.echo.port})`,
      async () => {
        const r = await client.agent.request("TCP", path.echo.ip, path.echo.port, { timeoutMs: REQUEST_TIMEOUT_MS });
        return r.ok && r.body.includes(`backend=${POD}`) ? r.body : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    log(`${path.label}: ${body}`);
  }
  const mac = await client.arpLookup(s.vip);
  if (mac !== s.announcer.mac) {
    throw new Error(
      `the client resolved ${s.vip} to ${mac ?? "nothing"}, not to the expected announcer ${s.announcer.name} (${s.announcer.mac})`,
    );
  }
  for (const path of paths) {
    await eventually(`a 1 s iperf3 test on the ${path.label} path`, () => runIperf(client, path.iperf, 1), {
      timeoutMs: 30_000,
      intervalMs: 500,
    });
  }
}
