/**
 * The cluster side of the lab, standing in for what kubelet, the endpointslice controller and kube-proxy would
 * do on real nodes: Node objects, Services with their EndpointSlices, pod addresses with servers, NodePort
 * servers, and kube-proxy's health responders, all kept consistent with each other.
 */
import { CoreV1Api, DiscoveryV1Api, type KubeConfig, type V1EndpointSlice, type V1Service } from "@kubernetes/client-node";
import { LbOperatorError } from "../../../src/errors.js";
import type { AgentClient } from "./agent-client.js";
import type { LabProtocol } from "./agent-protocol.js";
import { podIp } from "./lab-addresses.js";
import type { LabNode } from "./lab-network.js";

export class LabClusterError extends LbOperatorError {}

export const LAB_LOAD_BALANCER_CLASS = "lb-operator.io/baremetal";
const MANAGED_BY = "lab.lb-operator.io";
const MAX_PODS_PER_NODE = 14;

export interface ClusterNode { readonly host: LabNode; readonly agent: AgentClient }

export interface LabPortSpec { name: string; port: number; protocol?: LabProtocol; targetPort: number }
export interface LabPodSpec { name: string; node: string }

export interface DeployServiceOptions {
  name: string;
  namespace?: string;
  ports: LabPortSpec[];
  externalTrafficPolicy?: "Cluster" | "Local";
  /** spec.allocateLoadBalancerNodePorts=false: no NodePorts, the speaker forwards to pod addresses. */
  podMode?: boolean;
  sessionAffinity?: "None" | "ClientIP";
  sourceRanges?: string[];
  pods: LabPodSpec[];
  /** Default LAB_LOAD_BALANCER_CLASS; null leaves spec.loadBalancerClass unset. */
  loadBalancerClass?: string | null;
  annotations?: Record<string, string>;
}

export interface LabPod {
  readonly name: string;
  readonly namespace: string;
  readonly node: string;
  readonly ip: string;
  readonly ready: boolean;
}

export interface LabServicePort { name: string; port: number; protocol: LabProtocol; targetPort: number; nodePort?: number }

export interface DeployedService {
  readonly namespace: string;
  readonly name: string;
  /** The Service as read back after creation (nodePorts and healthCheckNodePort allocated). */
  readonly service: V1Service;
  readonly ports: readonly LabServicePort[];
  readonly healthCheckNodePort: number | undefined;
  pods(): LabPod[];
  /** The Service as it is now (e.g. with the status the controller wrote). */
  read(): Promise<V1Service>;
  addPod(pod: LabPodSpec): Promise<LabPod>;
  setPodReady(pod: string, ready: boolean): Promise<void>;
  removePod(pod: string): Promise<void>;
  /** Deletes the Service and its EndpointSlice and stops its servers and health responders. */
  delete(): Promise<void>;
}

interface PodState { name: string; namespace: string; node: ClusterNode; slot: number; ip: string; ready: boolean; services: Set<ServiceState> }
interface ServiceState { namespace: string; name: string; ports: LabServicePort[]; hcnp: number | undefined; pods: Set<PodState>; slice: V1EndpointSlice | undefined }

const podKey = (namespace: string, name: string): string => `${namespace}/${name}`;

export class LabCluster {
  private readonly core: CoreV1Api;
  private readonly discovery: DiscoveryV1Api;
  private readonly pods = new Map<string, PodState>();
  private readonly namespaces = new Set<string>(["default"]);
  /** Every change runs alone, so EndpointSlice writes and health updates never interleave. */
  private chain: Promise<unknown> = Promise.resolve();

  constructor(kubeConfig: KubeConfig, private readonly nodes: readonly ClusterNode[]) {
    this.core = kubeConfig.makeApiClient(CoreV1Api);
    this.discovery = kubeConfig.makeApiClient(DiscoveryV1Api);
  }

  /** Creates a Ready Node per lab node; the status goes through the status subresource, as kubelet writes it. */
  async registerNodes(): Promise<void> {
    await Promise.all(this.nodes.map(async ({ host }) => {
      const created = await this.core.createNode({ body: {
        metadata: { name: host.name, labels: { "kubernetes.io/hostname": host.name, "kubernetes.io/os": "linux" } },
        spec: { podCIDR: host.podSubnet, podCIDRs: [host.podSubnet] },
      } });
      const now = new Date();
      created.status = {
        addresses: [{ type: "InternalIP", address: host.ip }, { type: "Hostname", address: host.name }],
        conditions: [{ type: "Ready", status: "True", reason: "KubeletReady", message: "lab node",
          lastHeartbeatTime: now, lastTransitionTime: now }],
      };
      await this.core.replaceNodeStatus({ name: host.name, body: created });
    }));
    await Promise.all(this.nodes.map((n) => n.agent.setNodeHealth(true)));
  }

  /** kube-proxy's health on one node: :10256/healthz and serviceProxyHealthy in every healthCheckNodePort answer. */
  setNodeProxyHealthy(node: string, healthy: boolean): Promise<void> {
    return this.serial(async () => { await this.node(node).agent.setNodeHealth(healthy); });
  }

  deployService(options: DeployServiceOptions): Promise<DeployedService> {
    return this.serial(() => this.deploy(options));
  }

  setPodReady(namespace: string, pod: string, ready: boolean): Promise<void> {
    return this.serial(async () => {
      const state = this.pod(namespace, pod);
      state.ready = ready;
      for (const svc of state.services) await this.syncService(svc);
    });
  }

  /** The pod is deleted: gone from every Service's EndpointSlice, its servers and address removed. */
  removePod(namespace: string, pod: string): Promise<void> {
    return this.serial(() => this.deletePod(this.pod(namespace, pod)));
  }

  private async deploy(options: DeployServiceOptions): Promise<DeployedService> {
    const namespace = options.namespace ?? "default";
    const { name } = options;
    if (!this.namespaces.has(namespace)) {
      await this.core.createNamespace({ body: { metadata: { name: namespace } } }).catch((err: unknown) => {
        if ((err as { code?: number }).code !== 409) throw err;
      });
      this.namespaces.add(namespace);
    }
    const created = await this.core.createNamespacedService({ namespace, body: {
      metadata: { name, namespace, annotations: options.annotations },
      spec: {
        type: "LoadBalancer",
        loadBalancerClass: options.loadBalancerClass === null ? undefined : (options.loadBalancerClass ?? LAB_LOAD_BALANCER_CLASS),
        selector: { [`${MANAGED_BY}/service`]: name },
        ports: options.ports.map((p) => ({ name: p.name, port: p.port, protocol: p.protocol ?? "TCP", targetPort: p.targetPort })),
        externalTrafficPolicy: options.externalTrafficPolicy ?? "Cluster",
        sessionAffinity: options.sessionAffinity ?? "None",
        loadBalancerSourceRanges: options.sourceRanges,
        allocateLoadBalancerNodePorts: options.podMode ? false : undefined,
      },
    } });
    const ports: LabServicePort[] = (created.spec?.ports ?? []).map((p) => ({
      name: p.name ?? "", port: p.port, protocol: p.protocol === "UDP" ? "UDP" : "TCP",
      targetPort: Number(p.targetPort), nodePort: p.nodePort,
    }));
    const svc: ServiceState = { namespace, name, ports, hcnp: created.spec?.healthCheckNodePort, pods: new Set(), slice: undefined };
    // kube-proxy answers on every node's NodePort, whether or not the node has an endpoint.
    for (const { host, agent } of this.nodes) {
      for (const p of ports) if (p.nodePort) await agent.serve(p.protocol, host.ip, p.nodePort, host.name);
    }
    for (const pod of options.pods) await this.attachPod(svc, pod);
    await this.syncService(svc);
    return {
      namespace, name, service: created, ports, healthCheckNodePort: svc.hcnp,
      pods: () => [...svc.pods].map(publicPod).sort((a, b) => a.name.localeCompare(b.name)),
      read: () => this.core.readNamespacedService({ namespace, name }),
      addPod: (pod) => this.serial(async () => {
        const state = await this.attachPod(svc, pod);
        await this.syncService(svc);
        return publicPod(state);
      }),
      setPodReady: (pod, ready) => this.setPodReady(namespace, pod, ready),
      removePod: (pod) => this.removePod(namespace, pod),
      delete: () => this.serial(() => this.deleteService(svc)),
    };
  }

  /** Gives the pod an address in its node's pod subnet (first use) and serves the Service's target ports on it. */
  private async attachPod(svc: ServiceState, spec: LabPodSpec): Promise<PodState> {
    const node = this.node(spec.node);
    let pod = this.pods.get(podKey(svc.namespace, spec.name));
    if (pod && pod.node !== node) throw new LabClusterError(`pod ${spec.name} already runs on ${pod.node.host.name}`);
    if (!pod) {
      const used = new Set([...this.pods.values()].filter((p) => p.node === node).map((p) => p.slot));
      const slot = Array.from({ length: MAX_PODS_PER_NODE }, (_, i) => i + 1).find((s) => !used.has(s));
      if (slot === undefined) throw new LabClusterError(`node ${spec.node} has no free pod address`);
      const ip = podIp(node.host.index, slot);
      await node.host.exec("ip", ["addr", "add", `${ip}/32`, "dev", "lo"]);
      pod = { name: spec.name, namespace: svc.namespace, node, slot, ip, ready: true, services: new Set() };
      this.pods.set(podKey(svc.namespace, spec.name), pod);
    }
    for (const p of svc.ports) await node.agent.serve(p.protocol, pod.ip, p.targetPort, pod.name);
    pod.services.add(svc);
    svc.pods.add(pod);
    return pod;
  }

  private async deletePod(pod: PodState): Promise<void> {
    this.pods.delete(podKey(pod.namespace, pod.name));
    const services = [...pod.services];
    pod.services.clear();
    for (const svc of services) {
      svc.pods.delete(pod);
      await this.syncService(svc);
    }
    const served = new Set(services.flatMap((s) => s.ports.map((p) => `${p.protocol}/${p.targetPort}`)));
    for (const entry of served) {
      const [protocol, port] = entry.split("/") as [LabProtocol, string];
      await pod.node.agent.unserve(protocol, pod.ip, Number(port));
    }
    await pod.node.host.exec("ip", ["addr", "del", `${pod.ip}/32`, "dev", "lo"], { check: false });
  }

  private async deleteService(svc: ServiceState): Promise<void> {
    await this.core.deleteNamespacedService({ namespace: svc.namespace, name: svc.name });
    if (svc.slice) await this.discovery.deleteNamespacedEndpointSlice({ namespace: svc.namespace, name: `${svc.name}-lab` });
    svc.slice = undefined;
    for (const { host, agent } of this.nodes) {
      for (const p of svc.ports) if (p.nodePort) await agent.unserve(p.protocol, host.ip, p.nodePort);
      if (svc.hcnp) await agent.stopServiceHealth(svc.hcnp);
    }
    for (const pod of [...svc.pods]) {
      pod.services.delete(svc);
      svc.pods.delete(pod);
      if (pod.services.size === 0) await this.deletePod(pod);
    }
  }

  /** Writes the EndpointSlice from the pods, then sets each node's local endpoint count (ready pods only). */
  private async syncService(svc: ServiceState): Promise<void> {
    const pods = [...svc.pods].sort((a, b) => a.name.localeCompare(b.name));
    const body: V1EndpointSlice = {
      ...svc.slice,
      metadata: {
        ...svc.slice?.metadata,
        name: `${svc.name}-lab`,
        namespace: svc.namespace,
        labels: { "kubernetes.io/service-name": svc.name, "endpointslice.kubernetes.io/managed-by": MANAGED_BY },
      },
      addressType: "IPv4",
      endpoints: pods.map((p) => ({
        addresses: [p.ip],
        conditions: { ready: p.ready, serving: p.ready, terminating: false },
        nodeName: p.node.host.name,
        targetRef: { kind: "Pod", namespace: p.namespace, name: p.name },
      })),
      ports: svc.ports.map((p) => ({ name: p.name, port: p.targetPort, protocol: p.protocol })),
    };
    svc.slice = svc.slice
      ? await this.discovery.replaceNamespacedEndpointSlice({ namespace: svc.namespace, name: `${svc.name}-lab`, body })
      : await this.discovery.createNamespacedEndpointSlice({ namespace: svc.namespace, body });
    const hcnp = svc.hcnp;
    if (hcnp === undefined) return;
    // kube-proxy counts ready local endpoints (upstream.md, healthCheckNodePort); every node answers, 503 at 0.
    await Promise.all(this.nodes.map(({ host, agent }) => agent.setServiceHealth(hcnp, svc.namespace, svc.name,
      pods.filter((p) => p.ready && p.node.host === host).length)));
  }

  private node(name: string): ClusterNode {
    const found = this.nodes.find((n) => n.host.name === name);
    if (!found) throw new LabClusterError(`no lab node ${name}`);
    return found;
  }

  private pod(namespace: string, name: string): PodState {
    const found = this.pods.get(podKey(namespace, name));
    if (!found) throw new LabClusterError(`no lab pod ${namespace}/${name}`);
    return found;
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.chain.then(work, work);
    this.chain = next.catch(() => undefined);
    return next;
  }
}

function publicPod(p: PodState): LabPod {
  return { name: p.name, namespace: p.namespace, node: p.node.host.name, ip: p.ip, ready: p.ready };
}
