/**
 * The provider contract. Providers never see Kubernetes objects: the core derives one provider-neutral
 * LoadBalancerSpec (src/model/) and hands it over read-only. Modelled on k8s.io/cloud-provider's
 * `LoadBalancer` interface (../shared/reference/upstream.md section 1), with `clusterName` bound at
 * construction and Get/Update folded into an idempotent `ensure`.
 */

export type Protocol = "TCP" | "UDP" | "SCTP";
export type IPFamily = "IPv4" | "IPv6";

/** Who a load balancer belongs to. Providers tag everything they create with it and find leftovers by it. */
export interface LoadBalancerId {
  readonly clusterId: string;
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  /** Stable, RFC 1035-safe name (lowercase, starts with a letter, at most 20 chars) derived from the fields above. */
  readonly shortName: string;
}

export interface PortSpec {
  /** The Service port name ("" for a single unnamed port). */
  readonly name: string;
  readonly protocol: Protocol;
  /** The port clients connect to on the load balancer. */
  readonly port: number;
  /** The NodePort traffic goes to in nodePort mode; undefined in pod mode. */
  readonly nodePort: number | undefined;
  readonly appProtocol: string | undefined;
}

export interface NodeAddress {
  readonly type: string;
  readonly address: string;
}

export interface NodeBackend {
  readonly name: string;
  readonly addresses: readonly NodeAddress[];
  readonly providerID: string | undefined;
  readonly zone: string | undefined;
  /**
   * The node's labels, for providers that select targets by label (AWS `target-node-labels`). A label change alone
   * does not resync load balancers (upstream's node predicates ignore labels too); it applies at the next change
   * or drift repair.
   */
  readonly labels: Readonly<Record<string, string>>;
}

export interface PodEndpoint {
  readonly ip: string;
  /** Service port name -> the port on this pod (named targetPorts are resolved per EndpointSlice). */
  readonly ports: Readonly<Record<string, number>>;
  readonly nodeName: string | undefined;
  readonly zone: string | undefined;
  readonly ready: boolean;
  readonly serving: boolean;
}

export type Backends =
  | { readonly mode: "nodePort"; readonly nodes: readonly NodeBackend[] }
  | { readonly mode: "pod"; readonly endpoints: readonly PodEndpoint[] };

export type HealthCheck =
  /** externalTrafficPolicy Local: kube-proxy answers 200 on healthCheckNodePort only where local endpoints exist. */
  | { readonly kind: "http"; readonly source: "healthCheckNodePort"; readonly port: number; readonly path: "/healthz" }
  /** externalTrafficPolicy Cluster: kube-proxy's own health (KEP-3836: fails on draining nodes). */
  | { readonly kind: "http"; readonly source: "kubeProxy"; readonly port: 10256; readonly path: "/healthz" }
  /** Pod mode: a TCP connect to each endpoint's target port. */
  | { readonly kind: "tcp"; readonly source: "targetPort" };

export type SessionAffinity =
  { readonly type: "None" } | { readonly type: "ClientIP"; readonly timeoutSeconds: number };

export interface LoadBalancerSpec {
  readonly id: LoadBalancerId;
  readonly ports: readonly PortSpec[];
  readonly backends: Backends;
  readonly healthCheck: HealthCheck;
  readonly externalTrafficPolicy: "Cluster" | "Local";
  /** Normalised CIDRs (IPv4 and IPv6); empty means allow all. */
  readonly sourceRanges: readonly string[];
  /** From spec.loadBalancerIP or the provider's annotation; empty when none was asked for. */
  readonly requestedIPs: readonly string[];
  readonly ipFamilies: readonly IPFamily[];
  readonly sessionAffinity: SessionAffinity;
  /** The Service's annotations; each provider parses its own, with typed validation errors. */
  readonly annotations: Readonly<Record<string, string>>;
  /** The Service's pod selector ({} when it has none): Services with the same selector have the same backends. */
  readonly selector: Readonly<Record<string, string>>;
  /** The Service's own labels (metadata.labels), for scoping (bare metal's serviceAllocation.serviceSelectors). */
  readonly labels: Readonly<Record<string, string>>;
}

export interface PortStatus {
  readonly port: number;
  readonly protocol: Protocol;
  /** CamelCase reason when the provider cannot serve this port (KEP-1435). */
  readonly error?: string;
}

export interface IngressStatus {
  readonly ip?: string;
  readonly hostname?: string;
  /** "Proxy" when our own data path forwards, "VIP" when kube-proxy does (KEP-1860). */
  readonly ipMode?: "VIP" | "Proxy";
  readonly ports?: readonly PortStatus[];
}

/** What goes to status.loadBalancer. */
export interface LoadBalancerStatus {
  readonly ingress: readonly IngressStatus[];
}

/**
 * A load balancer this controller made before it (re)started, as recorded in the Service: the spec fields a
 * Service still holds without its backends (read leniently, so `ports` may hold what deriveSpec would reject)
 * and the status the provider reported, decoded from status.loadBalancer.
 */
export type ExistingLoadBalancer = Pick<
  LoadBalancerSpec,
  "id" | "ports" | "annotations" | "externalTrafficPolicy" | "selector"
> & {
  readonly status: LoadBalancerStatus;
};

export interface LoadBalancerProvider {
  readonly name: string;
  /**
   * Optional. Called once after the caches sync and before the first ensure/delete, with every Service this
   * controller owns that already has an address, so a provider that keeps state in memory (the bare-metal
   * address allocator) rebuilds it and never hands an address out twice. Cloud providers need not implement it.
   */
  restore?(existing: readonly ExistingLoadBalancer[]): Promise<void>;
  /**
   * Creates or converges the load balancer for `spec`. Idempotent: a second call with the same spec makes no
   * mutating call. `spec` is read-only. Throws InvalidSpecError, RetryAfterError, or anything else (backoff).
   */
  ensure(spec: LoadBalancerSpec, signal: AbortSignal): Promise<LoadBalancerStatus>;
  /** Removes everything owned by `id`. Idempotent: a load balancer that does not exist is success. */
  delete(id: LoadBalancerId, signal: AbortSignal): Promise<void>;
}
