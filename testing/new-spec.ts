/**
 * The one spec builder for provider tests: it builds a Service (with Nodes and EndpointSlices) and runs the real
 * deriveSpec on it, so a test's spec is exactly what the controller would hand a provider: a real shortName, sorted
 * nodes, resolved endpoint ports, deep-frozen. Tests that need a spec the controller never builds (to check a
 * provider's own defences) spread over the result: `{ ...newSpec(), ports: [...] }`.
 */
import { createHash } from "node:crypto";
import type { V1EndpointSlice, V1Node, V1Service, V1ServicePort } from "@kubernetes/client-node";
import { SERVICE_NAME_LABEL, ZONE_LABEL, deriveSpec } from "../src/model/index.js";
import type { IPFamily, LoadBalancerId, LoadBalancerSpec, NodeAddress, Protocol } from "../src/provider.js";

export interface SpecPort {
  readonly port: number;
  /** Default "p<port>" ("" is the unnamed single port). */
  readonly name?: string;
  /** Default TCP. */
  readonly protocol?: Protocol;
  /** nodePort mode only; default 30000 + port % 2000 (the apiserver always allocates one). */
  readonly nodePort?: number;
  readonly appProtocol?: string;
}

export interface SpecNode {
  readonly name: string;
  /** The topology.kubernetes.io/zone label. */
  readonly zone?: string;
  readonly providerID?: string;
  readonly labels?: Readonly<Record<string, string>>;
  /** Default none. */
  readonly addresses?: readonly NodeAddress[];
}

export interface SpecEndpoint {
  readonly ip: string;
  /** Service port name -> port on the pod; default every Service port on its own port number. */
  readonly ports?: Readonly<Record<string, number>>;
  readonly nodeName?: string;
  readonly zone?: string;
  /** Default true. */
  readonly ready?: boolean;
  /** Default `ready`. */
  readonly serving?: boolean;
  readonly terminating?: boolean;
}

export interface NewSpecOptions {
  /** Default "web". */
  readonly name?: string;
  /** Default "default". */
  readonly namespace?: string;
  /** Default a UUID derived from namespace and name, so different Services never share one. */
  readonly uid?: string;
  /** Default "test-cluster". */
  readonly clusterId?: string;
  /** Default one port, TCP 80 named "http". */
  readonly ports?: readonly SpecPort[];
  /** The cluster's nodes (nodePort mode backends); default none. */
  readonly nodes?: readonly SpecNode[];
  /** Pod mode (allocateLoadBalancerNodePorts false, no nodePorts) with these endpoints. */
  readonly endpoints?: readonly SpecEndpoint[];
  /** externalTrafficPolicy Local with this healthCheckNodePort. */
  readonly healthCheckNodePort?: number;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly sourceRanges?: readonly string[];
  readonly loadBalancerIP?: string;
  /** Default ["IPv4"]. */
  readonly ipFamilies?: readonly IPFamily[];
  /** ClientIP affinity with the default timeout when true. */
  readonly clientIPAffinity?: boolean;
  /** Default { app: name }. */
  readonly selector?: Readonly<Record<string, string>>;
}

/** What deriveSpec reads for one spec: the Service, its EndpointSlices and the Nodes. */
export interface SpecInputs {
  readonly service: V1Service;
  readonly endpointSlices: V1EndpointSlice[];
  readonly nodes: V1Node[];
  readonly clusterId: string;
}

const DEFAULT_PORTS: readonly SpecPort[] = [{ name: "http", port: 80, nodePort: 30080 }];

/** deriveSpec over newSpecInputs(options). Throws InvalidSpecError where the controller would. */
export function newSpec(options: NewSpecOptions = {}): LoadBalancerSpec {
  const inputs = newSpecInputs(options);
  return deriveSpec(inputs.service, inputs.endpointSlices, inputs.nodes, { clusterId: inputs.clusterId });
}

/** The id of newSpec(options), for tests that only delete or name things. */
export function newSpecId(options: NewSpecOptions = {}): LoadBalancerId {
  return newSpec(options).id;
}

export function newSpecInputs(options: NewSpecOptions = {}): SpecInputs {
  const name = options.name ?? "web";
  const namespace = options.namespace ?? "default";
  const podMode = options.endpoints !== undefined;
  const ports = (options.ports ?? DEFAULT_PORTS).map((p) => servicePort(p, podMode));
  const service: V1Service = {
    apiVersion: "v1",
    kind: "Service",
    metadata: {
      name,
      namespace,
      uid: options.uid ?? uuidFor(`${namespace}/${name}`),
      annotations: { ...options.annotations },
    },
    spec: {
      type: "LoadBalancer",
      selector: { ...(options.selector ?? { app: name }) },
      ports,
      externalTrafficPolicy: options.healthCheckNodePort === undefined ? "Cluster" : "Local",
      healthCheckNodePort: options.healthCheckNodePort,
      sessionAffinity: options.clientIPAffinity === true ? "ClientIP" : "None",
      ipFamilies: [...(options.ipFamilies ?? ["IPv4"])],
      allocateLoadBalancerNodePorts: podMode ? false : undefined,
      loadBalancerSourceRanges: options.sourceRanges === undefined ? undefined : [...options.sourceRanges],
      loadBalancerIP: options.loadBalancerIP,
    },
    status: { loadBalancer: {} },
  };
  const endpointSlices = (options.endpoints ?? []).map((e, i) => endpointSlice(service, ports, e, i));
  return {
    service,
    endpointSlices,
    nodes: (options.nodes ?? []).map(node),
    clusterId: options.clusterId ?? "test-cluster",
  };
}

function servicePort(p: SpecPort, podMode: boolean): V1ServicePort {
  return {
    name: p.name ?? `p${p.port}`,
    protocol: p.protocol ?? "TCP",
    port: p.port,
    targetPort: p.port,
    nodePort: podMode ? undefined : (p.nodePort ?? 30000 + (p.port % 2000)),
    appProtocol: p.appProtocol,
  };
}

/** One slice per endpoint, so each endpoint resolves the Service's ports on its own. */
function endpointSlice(
  service: V1Service,
  ports: readonly V1ServicePort[],
  e: SpecEndpoint,
  index: number,
): V1EndpointSlice {
  const own = e.ports ?? Object.fromEntries(ports.map((p) => [p.name ?? "", p.port]));
  const ready = e.ready ?? true;
  return {
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: {
      name: `${service.metadata?.name ?? ""}-${index}`,
      namespace: service.metadata?.namespace,
      labels: { [SERVICE_NAME_LABEL]: service.metadata?.name ?? "" },
    },
    addressType: e.ip.includes(":") ? "IPv6" : "IPv4",
    ports: Object.entries(own).map(([name, port]) => ({
      name,
      port,
      protocol: ports.find((p) => (p.name ?? "") === name)?.protocol ?? "TCP",
    })),
    endpoints: [
      {
        addresses: [e.ip],
        nodeName: e.nodeName,
        zone: e.zone,
        conditions: { ready, serving: e.serving ?? ready, terminating: e.terminating ?? false },
      },
    ],
  };
}

function node(n: SpecNode): V1Node {
  const labels: Record<string, string> = { ...n.labels };
  if (n.zone !== undefined) labels[ZONE_LABEL] = n.zone;
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name: n.name, uid: uuidFor(`node/${n.name}`), labels },
    spec: { providerID: n.providerID },
    status: { addresses: (n.addresses ?? []).map((a) => ({ ...a })), conditions: [{ type: "Ready", status: "True" }] },
  };
}

/** A stable RFC 4122-shaped (version 4 layout) UUID from `seed`. */
function uuidFor(seed: string): string {
  const hex = createHash("sha256").update(seed).digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
