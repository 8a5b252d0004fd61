/**
 * The cluster side of the lab as a test sees it: Nodes, and Services backed by Pods. Everything downstream is
 * real or the kubelet stand-in: Pods are run by lab-kubelet.ts (a network namespace and a server each), their
 * EndpointSlices come from kube-controller-manager, NodePorts and health checks from kube-proxy. The helpers here
 * only create objects and wait until the cluster has caught up, so tests start from a settled state.
 */
import { CoreV1Api, DiscoveryV1Api, type KubeConfig, type V1Pod, type V1Service } from "@kubernetes/client-node";
import { LbOperatorError } from "../../../src/errors.js";
import type { LabProtocol } from "./agent-protocol.js";
import type { LabKubelet } from "./lab-kubelet.js";
import type { LabNode } from "./lab-network.js";

export class LabClusterError extends LbOperatorError {}

export const LAB_LOAD_BALANCER_CLASS = "lb-operator.io/baremetal";
/** Label that selects a lab Service's pods (one Service per pod). */
export const SERVICE_LABEL = "lab.lb-operator.io/service";
/** Target ports (comma-separated) the kubelet stand-in's echo must leave free (lab-kubelet.ts). */
export const UNSERVED_PORTS_ANNOTATION = "lab.lb-operator.io/unserved-ports";
/** The image field is required; the kubelet stand-in runs its echo whatever it says. */
export const LAB_ECHO_IMAGE = "lab.lb-operator.io/echo:lab";
const SETTLE_TIMEOUT_MS = 30_000;

export interface LabPortSpec {
  name: string;
  port: number;
  protocol?: LabProtocol;
  targetPort: number;
  /** false: the pod's echo leaves the target port free for a server the test starts in the pod (lab.podHost). */
  echo?: boolean;
}
export interface LabPodSpec {
  name: string;
  node: string;
}

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

export interface LabServicePort {
  name: string;
  port: number;
  protocol: LabProtocol;
  targetPort: number;
  nodePort?: number;
}

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
  /** Creates the Pod and waits until it is a ready endpoint. */
  addPod(pod: LabPodSpec): Promise<LabPod>;
  /** Crashes (false) or restarts (true) the pod's server, and waits until its endpoint says so. */
  setPodReady(pod: string, ready: boolean): Promise<void>;
  /** Deletes the Pod and waits until it has left the EndpointSlices. */
  removePod(pod: string): Promise<void>;
  /** Deletes the Service and its Pods. */
  delete(): Promise<void>;
}

interface PodState {
  name: string;
  node: string;
  ip: string;
  ready: boolean;
}

export class LabCluster {
  private readonly core: CoreV1Api;
  private readonly discovery: DiscoveryV1Api;
  private readonly namespaces = new Set<string>(["default"]);

  constructor(
    kubeConfig: KubeConfig,
    private readonly nodes: readonly LabNode[],
    private readonly kubelet: LabKubelet,
  ) {
    this.core = kubeConfig.makeApiClient(CoreV1Api);
    this.discovery = kubeConfig.makeApiClient(DiscoveryV1Api);
  }

  /**
   * Creates a Ready Node per lab node, its status written through the status subresource as kubelet writes it.
   * Nobody heartbeats them: the node lifecycle controller does not run (kube-node-processes.ts).
   */
  async registerNodes(): Promise<void> {
    await Promise.all(
      this.nodes.map(async (host) => {
        const created = await this.core.createNode({
          body: {
            metadata: { name: host.name, labels: { "kubernetes.io/hostname": host.name, "kubernetes.io/os": "linux" } },
            spec: { podCIDR: host.podSubnet, podCIDRs: [host.podSubnet] },
          },
        });
        const now = new Date();
        created.status = {
          addresses: [
            { type: "InternalIP", address: host.ip },
            { type: "Hostname", address: host.name },
          ],
          conditions: [
            {
              type: "Ready",
              status: "True",
              reason: "KubeletReady",
              message: "lab node",
              lastHeartbeatTime: now,
              lastTransitionTime: now,
            },
          ],
        };
        await this.core.replaceNodeStatus({ name: host.name, body: created });
      }),
    );
  }

  async deployService(options: DeployServiceOptions): Promise<DeployedService> {
    const namespace = options.namespace ?? "default";
    const { name } = options;
    await this.ensureNamespace(namespace);
    const created = await this.core.createNamespacedService({
      namespace,
      body: {
        metadata: { name, namespace, annotations: options.annotations },
        spec: {
          type: "LoadBalancer",
          loadBalancerClass:
            options.loadBalancerClass === null ? undefined : (options.loadBalancerClass ?? LAB_LOAD_BALANCER_CLASS),
          selector: { [SERVICE_LABEL]: name },
          ports: options.ports.map((p) => ({
            name: p.name,
            port: p.port,
            protocol: p.protocol ?? "TCP",
            targetPort: p.targetPort,
          })),
          externalTrafficPolicy: options.externalTrafficPolicy ?? "Cluster",
          sessionAffinity: options.sessionAffinity ?? "None",
          loadBalancerSourceRanges: options.sourceRanges,
          allocateLoadBalancerNodePorts: options.podMode ? false : undefined,
        },
      },
    });
    const ports: LabServicePort[] = (created.spec?.ports ?? []).map((p) => ({
      name: p.name ?? "",
      port: p.port,
      protocol: p.protocol === "UDP" ? "UDP" : "TCP",
      targetPort: Number(p.targetPort),
      nodePort: p.nodePort,
    }));
    const pods = new Map<string, PodState>();
    const settle = (): Promise<void> => this.waitForEndpoints(namespace, name, pods);
    const createPod = async (spec: LabPodSpec): Promise<PodState> => {
      if (!this.nodes.some((n) => n.name === spec.node)) throw new LabClusterError(`no lab node ${spec.node}`);
      const unserved = options.ports.filter((p) => p.echo === false).map((p) => p.targetPort);
      await this.core.createNamespacedPod({ namespace, body: podManifest(namespace, name, spec, ports, unserved) });
      const ip = await this.waitForPodIp(namespace, spec.name);
      const state = { name: spec.name, node: spec.node, ip, ready: true };
      pods.set(spec.name, state);
      return state;
    };
    const pod = (podName: string): PodState => {
      const found = pods.get(podName);
      if (!found) throw new LabClusterError(`no lab pod ${namespace}/${podName}`);
      return found;
    };
    await Promise.all(options.pods.map(createPod));
    await settle();
    return {
      namespace,
      name,
      service: created,
      ports,
      healthCheckNodePort: created.spec?.healthCheckNodePort,
      pods: () => [...pods.values()].map((p) => ({ ...p, namespace })).sort((a, b) => a.name.localeCompare(b.name)),
      read: () => this.core.readNamespacedService({ namespace, name }),
      addPod: async (spec) => {
        const state = await createPod(spec);
        await settle();
        return { ...state, namespace };
      },
      setPodReady: async (podName, ready) => {
        const state = pod(podName);
        await this.kubelet.setServing(namespace, podName, ready);
        state.ready = ready;
        await settle();
      },
      removePod: async (podName) => {
        pod(podName);
        await this.core.deleteNamespacedPod({ namespace, name: podName });
        pods.delete(podName);
        await this.waitForPodGone(namespace, podName);
        await settle();
      },
      delete: async () => {
        await this.core.deleteNamespacedService({ namespace, name });
        await Promise.all([...pods.keys()].map((p) => this.core.deleteNamespacedPod({ namespace, name: p })));
        await Promise.all([...pods.keys()].map((p) => this.waitForPodGone(namespace, p)));
        pods.clear();
      },
    };
  }

  private async ensureNamespace(namespace: string): Promise<void> {
    if (this.namespaces.has(namespace)) return;
    await this.core.createNamespace({ body: { metadata: { name: namespace } } }).catch((err: unknown) => {
      if ((err as { code?: number }).code !== 409) throw err;
    });
    this.namespaces.add(namespace);
  }

  private async waitForPodIp(namespace: string, name: string): Promise<string> {
    return this.poll(`pod ${namespace}/${name} to run`, async () => {
      const failure = this.kubelet.failure(namespace, name);
      if (failure !== undefined)
        throw new LabClusterError(`the lab kubelet cannot run ${namespace}/${name}: ${failure}`);
      const pod = await this.core.readNamespacedPod({ namespace, name });
      return pod.status?.podIP;
    });
  }

  private async waitForPodGone(namespace: string, name: string): Promise<void> {
    await this.poll(`pod ${namespace}/${name} to be deleted`, async () => {
      const found = await this.core.readNamespacedPod({ namespace, name }).then(
        () => true,
        (err: unknown) => {
          if ((err as { code?: number }).code === 404) return false;
          throw err;
        },
      );
      return found ? undefined : true;
    });
  }

  /** Until the EndpointSlices list exactly these pods, ready as given (the EndpointSlice controller caught up). */
  private async waitForEndpoints(
    namespace: string,
    service: string,
    pods: ReadonlyMap<string, PodState>,
  ): Promise<void> {
    const want = [...pods.values()]
      .map((p) => `${p.ip}=${p.ready}`)
      .sort()
      .join(",");
    let have = "";
    await this.poll(
      () => `the EndpointSlices of ${namespace}/${service} to list ${want || "no endpoint"} (have ${have || "none"})`,
      async () => {
        const slices = await this.discovery.listNamespacedEndpointSlice({
          namespace,
          labelSelector: `kubernetes.io/service-name=${service}`,
        });
        have = slices.items
          .flatMap((s) =>
            (s.endpoints ?? []).flatMap((e) => e.addresses.map((a) => `${a}=${e.conditions?.ready === true}`)),
          )
          .sort()
          .join(",");
        return have === want && slices.items.length > 0 ? true : undefined;
      },
    );
  }

  private async poll<T>(what: string | (() => string), check: () => Promise<T | undefined>): Promise<T> {
    const deadline = Date.now() + SETTLE_TIMEOUT_MS;
    for (;;) {
      const value = await check();
      if (value !== undefined) return value;
      if (Date.now() > deadline) {
        throw new LabClusterError(
          `timed out after ${SETTLE_TIMEOUT_MS / 1000} s waiting for ${typeof what === "string" ? what : what()}`,
        );
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

function podManifest(
  namespace: string,
  service: string,
  spec: LabPodSpec,
  ports: readonly LabServicePort[],
  unserved: readonly number[],
): V1Pod {
  const targets = new Map(ports.map((p) => [`${p.protocol}/${p.targetPort}`, p]));
  const annotations = unserved.length > 0 ? { [UNSERVED_PORTS_ANNOTATION]: unserved.join(",") } : undefined;
  return {
    metadata: { name: spec.name, namespace, labels: { [SERVICE_LABEL]: service }, annotations },
    spec: {
      nodeName: spec.node,
      containers: [
        {
          name: "echo",
          image: LAB_ECHO_IMAGE,
          // Not named `http...`: the stand-in would serve agnhost's HTTP there, and lab clients speak the line echo.
          ports: [...targets.values()].map((p) => ({
            name: `${p.protocol.toLowerCase()}-${p.targetPort}`,
            containerPort: p.targetPort,
            protocol: p.protocol,
          })),
        },
      ],
    },
  };
}
