/**
 * The bare-metal provider, controller side: it allocates addresses from pools and reports them as status.
 * The speaker (speaker/) announces the addresses and, by default, forwards traffic itself, so addresses are
 * reported with ipMode "Proxy" (KEP-1860: kube-proxy then leaves them alone). In announce-only mode the
 * speaker just answers ARP, kube-proxy forwards, and addresses are reported with ipMode "VIP", as MetalLB does.
 *
 * Allocation state lives in memory only; restore() rebuilds it from Service status after a restart
 * (MetalLB has no store either). The allocator is synchronous, so no two calls interleave inside it.
 */
import type {
  ExistingLoadBalancer,
  LoadBalancerId,
  LoadBalancerProvider,
  LoadBalancerSpec,
  LoadBalancerStatus,
  PortSpec,
} from "../../src/provider.js";
import type { AddressPool } from "./address-pool.js";
import type { AllocationIssue, PoolUsage, PortKey } from "./allocation-types.js";
import { AddressAllocator } from "./allocator.js";
import type { Labels } from "./label-selector.js";
import type { ServiceIdentity } from "./pool-scope.js";
import { REQUESTED_IPS_ANNOTATION } from "../../src/model/annotations.js";
import {
  ANNOTATION_ALLOW_SHARED_IP,
  annotationField,
  annotationValue,
  parseBaremetalAnnotations,
} from "./annotations.js";

export const BAREMETAL_PROVIDER_NAME = "baremetal";

export interface BaremetalProviderOptions {
  readonly pools: readonly AddressPool[];
  /** Delay for errors caused by other Services (address in use, pool exhausted). Default 30 s. */
  readonly retryAfterMs?: number;
  /** Receives what restore() and setPools() kept although it is wrong (conflicts, addresses outside pools). */
  readonly onIssue?: (issue: AllocationIssue) => void;
  /** "Proxy" (default) when the speaker forwards; "VIP" in announce-only mode. Must match the speakers' mode. */
  readonly ipMode?: "Proxy" | "VIP";
  /** A namespace's labels, for pools with serviceAllocation.namespaceSelectors; undefined: not known. */
  readonly namespaceLabels?: (namespace: string) => Labels | undefined;
  /** Called after anything that may change pool usage (restore, ensure, delete, new pools). */
  readonly onUsageChange?: () => void;
}

export class BaremetalProvider implements LoadBalancerProvider {
  readonly name = BAREMETAL_PROVIDER_NAME;
  private readonly allocator: AddressAllocator;
  private readonly onIssue: (issue: AllocationIssue) => void;
  private readonly ipMode: "Proxy" | "VIP";
  private readonly namespaceLabels: (namespace: string) => Labels | undefined;
  private readonly onUsageChange: () => void;
  private restoredOnce = false;

  /** Throws InvalidPoolError for invalid or overlapping pools. */
  constructor(options: BaremetalProviderOptions) {
    this.allocator = new AddressAllocator({ pools: options.pools, retryAfterMs: options.retryAfterMs });
    this.onIssue = options.onIssue ?? (() => undefined);
    this.ipMode = options.ipMode ?? "Proxy";
    this.namespaceLabels = options.namespaceLabels ?? (() => undefined);
    this.onUsageChange = options.onUsageChange ?? (() => undefined);
  }

  /**
   * True once the controller has restored allocations from Service status: only the leader does, so this is
   * when pool usage means something (pool status and metrics are written from then on).
   */
  get restored(): boolean {
    return this.restoredOnce;
  }

  /**
   * New pools (an AddressPool object changed). Throws InvalidPoolError and keeps the old pools if the new
   * ones are invalid. Addresses now outside every pool stay with their Services and are reported. The
   * controller should requeue every bare-metal Service afterwards: "unknown pool" and "no pool" errors may
   * be gone, and they are not retried on their own.
   */
  setPools(pools: readonly AddressPool[]): AllocationIssue[] {
    const issues = this.allocator.setPools(pools);
    for (const issue of issues) this.onIssue(issue);
    this.onUsageChange();
    return issues;
  }

  get pools(): readonly AddressPool[] {
    return this.allocator.pools;
  }

  usage(pool: string): PoolUsage | undefined {
    return this.allocator.usage(pool);
  }

  /** Usage of every pool in use, in name order. */
  usages(): PoolUsage[] {
    return this.allocator.pools.flatMap((p) => this.allocator.usage(p.name) ?? []);
  }

  // The work is synchronous, but async makes every throw a rejection, as the contract expects.
  async restore(existing: readonly ExistingLoadBalancer[]): Promise<void> {
    for (const lb of existing) {
      const ips = lb.status.ingress.flatMap((ingress) => (ingress.ip ? [ingress.ip] : []));
      if (ips.length === 0) continue;
      // Lenient on purpose: restore records what the status says; ensure() validates the annotation later.
      const sharingKey = annotationValue(lb.annotations, ANNOTATION_ALLOW_SHARED_IP)?.value.trim() || undefined;
      const request = { ports: portKeys(lb.ports), sharingKey, uid: lb.id.uid, backendKey: backendKeyFor(lb) };
      const issues = this.allocator.restore(allocationKey(lb.id), ips, request);
      for (const issue of issues) this.onIssue(issue);
    }
    this.restoredOnce = true;
    this.onUsageChange();
  }

  async ensure(spec: LoadBalancerSpec, signal: AbortSignal): Promise<LoadBalancerStatus> {
    signal.throwIfAborted();
    const { sharingKey, pool } = parseBaremetalAnnotations(spec.annotations);
    const ips = this.allocate(spec, sharingKey, pool);
    const ports = spec.ports.map(({ port, protocol }) => ({ port, protocol }));
    return { ingress: ips.map((ip) => ({ ip, ipMode: this.ipMode, ports })) };
  }

  private allocate(spec: LoadBalancerSpec, sharingKey: string | undefined, pool: string | undefined): string[] {
    const before = this.allocator.assigned(allocationKey(spec.id));
    const ips = this.allocator.allocate(allocationKey(spec.id), {
      requestedIPs: spec.requestedIPs,
      pool,
      sharingKey,
      ports: portKeys(spec.ports),
      ipFamilies: spec.ipFamilies,
      backendKey: backendKeyFor(spec),
      uid: spec.id.uid,
      requestedBy: requestedBy(spec.annotations),
      service: this.identity(spec),
    });
    const held = before?.addresses.map((a) => a.ip) ?? [];
    if (held.length !== ips.length || held.some((ip, i) => ips[i] !== ip)) this.onUsageChange();
    return ips;
  }

  /** Namespace, its labels and the Service's labels, for serviceAllocation. */
  private identity(spec: LoadBalancerSpec): ServiceIdentity {
    const namespace = spec.id.namespace;
    return { namespace, namespaceLabels: this.namespaceLabels(namespace), labels: spec.labels };
  }

  /** Idempotent. Releases only the allocation of this uid: a recreated namesake keeps its own. */
  async delete(id: LoadBalancerId, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    if (this.allocator.release(allocationKey(id), id.uid)) this.onUsageChange();
  }
}

/**
 * "namespace/name", the controller's work-queue key. The uid is stored with the allocation rather than in
 * the key: a Service deleted and recreated under the same name does not inherit the old address (allocate
 * drops an allocation made for another uid), and a late delete() for the old uid frees nothing.
 */
export function allocationKey(id: Pick<LoadBalancerId, "namespace" | "name">): string {
  return `${id.namespace}/${id.name}`;
}

/**
 * The backend key Services sharing an address must also agree on (besides the allow-shared-ip key and disjoint
 * ports), as MetalLB's BackendKey (MLB internal/allocator/k8salloc/k8salloc.go). Cluster Services get undefined,
 * so this puts no limit on sharing among them.
 * A Local Service's key is its namespace and sorted selector, so Local Services share only when they select the
 * same pods and the node announcing the address has local endpoints for all of them; one without a selector
 * has unknowable backends, so its key is its own namespace/name and it shares with no one. A Cluster and a Local
 * Service do not share either: undefined differs from every Local key. ensure() passes the key of the spec;
 * restore() passes the key of the fields the Service recorded, and there the allocator reads undefined as "not
 * known yet" until the Service's next ensure().
 */
export function backendKeyFor(
  spec: Pick<LoadBalancerSpec, "externalTrafficPolicy" | "id" | "selector">,
): string | undefined {
  if (spec.externalTrafficPolicy !== "Local") return undefined;
  const labels = Object.entries(spec.selector);
  if (labels.length === 0) return `local:${spec.id.namespace}/${spec.id.name}`;
  return `local:${spec.id.namespace}:${JSON.stringify(labels.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))}`;
}

/** Where the core took requestedIPs from (src/model/requested-ips.ts): the annotation, else spec.loadBalancerIP. */
function requestedBy(annotations: Readonly<Record<string, string>>): string {
  const value = annotations[REQUESTED_IPS_ANNOTATION];
  return value !== undefined && value.trim() !== "" ? annotationField(REQUESTED_IPS_ANNOTATION) : "spec.loadBalancerIP";
}

function portKeys(ports: readonly PortSpec[]): PortKey[] {
  return ports.map(({ protocol, port }) => ({ protocol, port }));
}
