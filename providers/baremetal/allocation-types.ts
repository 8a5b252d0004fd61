/** The allocator's public data types. */
import type { IPFamily, Protocol } from "../../src/provider.js";
import type { ServiceIdentity } from "./pool-scope.js";

/** A (protocol, port) pair a Service uses on its address; Services may share an address only if theirs are disjoint. */
export interface PortKey {
  readonly protocol: Protocol;
  readonly port: number;
}

export interface AllocationRequest {
  /** Specific addresses to use (already syntax-checked by the core); empty = pick one per family. */
  readonly requestedIPs: readonly string[];
  /** Pool named by the Service (`lb-operator.io/address-pool`); undefined = any autoAssign pool. */
  readonly pool?: string | undefined;
  /** `lb-operator.io/allow-shared-ip`; undefined = this Service shares its address with nobody. */
  readonly sharingKey?: string | undefined;
  readonly ports: readonly PortKey[];
  /** One address per family, returned in this order. */
  readonly ipFamilies: readonly IPFamily[];
  /**
   * What the Service's traffic goes to, when that matters for sharing: undefined for externalTrafficPolicy
   * Cluster, a stable string for Local. Services sharing an address must have equal keys, as in MetalLB
   * (MLB internal/allocator/k8salloc/k8salloc.go BackendKey uses the selector).
   */
  readonly backendKey?: string | undefined;
  /** The Service's uid. An allocation held under another uid belongs to a deleted namesake and is dropped. */
  readonly uid?: string | undefined;
  /** Field that `requestedIPs` came from, for error messages. Default "spec.loadBalancerIP". */
  readonly requestedBy?: string | undefined;
  /** Namespace and labels, for pools limited by serviceAllocation; undefined: only unscoped pools serve it. */
  readonly service?: ServiceIdentity | undefined;
}

/** What restore() needs: the rest comes from the addresses themselves. */
export interface RestoreRequest {
  readonly ports: readonly PortKey[];
  readonly sharingKey?: string | undefined;
  /** Omit when unknown: the allocator then accepts any backend key until the first allocate() sets it. */
  readonly backendKey?: string | undefined;
  readonly uid?: string | undefined;
}

export interface AssignedAddress {
  readonly ip: string;
  readonly family: IPFamily;
  /** undefined when the address is in no pool any more (after a pool change). */
  readonly pool: string | undefined;
}

export interface Allocation {
  readonly key: string;
  readonly uid: string | undefined;
  /** In the Service's ipFamilies order. */
  readonly addresses: readonly AssignedAddress[];
  readonly sharingKey: string | undefined;
  readonly backendKey: string | undefined;
  readonly ports: readonly PortKey[];
}

/**
 * Something restore() or setPools() accepted but that is not right: the allocator keeps the address (it is
 * in a Service's status and clients may use it) and says so instead of moving it.
 */
export interface AllocationIssue {
  readonly kind: "conflict" | "outside-pools" | "invalid-address";
  /** namespace/name of the Service. */
  readonly key: string;
  readonly ip: string;
  readonly message: string;
}

export interface PoolUsage {
  readonly pool: string;
  /** Addresses the pool can hand out, per family. */
  readonly capacity: Readonly<Record<IPFamily, bigint>>;
  /** Distinct addresses in use, per family. */
  readonly used: Readonly<Record<IPFamily, number>>;
}
