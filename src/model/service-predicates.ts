/**
 * Which Services this controller handles and which changes are worth a reconcile. Ported from the
 * k8s.io/cloud-provider service controller (wantsLoadBalancer, needsCleanup, needsUpdate, portsEqualForLB), with
 * loadBalancerClass support (KEP-1959) added, since upstream ignores every Service that sets a class.
 */
import type { V1Service, V1ServicePort, V1ServiceSpec } from "@kubernetes/client-node";
import { LOAD_BALANCER_FINALIZERS, OWNER_FINALIZER } from "./annotations.js";

export interface ClassOptions {
  /** The `spec.loadBalancerClass` this controller implements. */
  readonly loadBalancerClass: string;
  /** Also handle Services that set no class (only one controller in a cluster should). */
  readonly isDefaultClass: boolean;
}

/** True when the Service names our class, or names none and we are the cluster's default (KEP-1959). */
export function isOurs(svc: V1Service, opts: ClassOptions): boolean {
  const cls = svc.spec?.loadBalancerClass;
  if (cls === undefined || cls === null || cls === "") return opts.isDefaultClass;
  return cls === opts.loadBalancerClass;
}

function isLoadBalancerType(svc: V1Service): boolean {
  return svc.spec?.type === "LoadBalancer";
}

function isDeleting(svc: V1Service): boolean {
  return svc.metadata?.deletionTimestamp != null;
}

/** Upstream wantsLoadBalancer, plus "ours" and "not being deleted" (a deleting Service needs cleanup, not ensure). */
export function wantsLoadBalancer(svc: V1Service, opts: ClassOptions): boolean {
  return isLoadBalancerType(svc) && isOurs(svc, opts) && !isDeleting(svc);
}

/** True when we made a load balancer for this Service: it carries our owner finalizer. */
export function hasFinalizer(svc: V1Service): boolean {
  return svc.metadata?.finalizers?.includes(OWNER_FINALIZER) ?? false;
}

/** True when every finalizer we add is present (someone may have removed one by hand). */
export function hasAllFinalizers(svc: V1Service): boolean {
  const present = svc.metadata?.finalizers ?? [];
  return LOAD_BALANCER_FINALIZERS.every((f) => present.includes(f));
}

/**
 * Upstream needsCleanup (finalizer AND (deleting OR type != LoadBalancer)), plus "no longer ours": the class is
 * immutable, but the default-class setting can change and a class can be set when switching back to LoadBalancer.
 * Keyed on our owner finalizer, never on the upstream one alone, which other controllers add too.
 */
export function needsCleanup(svc: V1Service, opts: ClassOptions): boolean {
  return hasFinalizer(svc) && (isDeleting(svc) || !isLoadBalancerType(svc) || !isOurs(svc, opts));
}

/**
 * Pod mode: the load balancer targets pod IPs directly. Chosen when the Service opts out of NodePorts
 * (KEP-1864 allocateLoadBalancerNodePorts=false), since there is then no NodePort to send traffic to.
 */
export function isPodMode(svc: V1Service): boolean {
  return svc.spec?.allocateLoadBalancerNodePorts === false;
}

/** EndpointSlice changes matter in pod mode (they are the backends) and with Local policy (who may serve/announce). */
export function usesEndpoints(svc: V1Service): boolean {
  return isPodMode(svc) || svc.spec?.externalTrafficPolicy === "Local";
}

/**
 * k8s.io/cloud-provider service controller: needsUpdate. The upstream list (type/wants, source ranges, ports,
 * session affinity and its config, loadBalancerIP, externalIPs, any annotation, UID, externalTrafficPolicy,
 * healthCheckNodePort, the number of ipFamilies) plus what our spec also depends on: allocateLoadBalancerNodePorts,
 * loadBalancerClass and a deletionTimestamp appearing. `opts` is needed because "wants" depends on the class.
 */
export function needsUpdate(oldSvc: V1Service, newSvc: V1Service, opts: ClassOptions): boolean {
  const oldWants = wantsLoadBalancer(oldSvc, opts);
  const newWants = wantsLoadBalancer(newSvc, opts);
  if (!oldWants && !newWants) return false;
  if (oldWants !== newWants) return true;
  return specChanged(oldSvc, newSvc) || metadataChanged(oldSvc, newSvc);
}

// The spec fields are compared in three plain boolean groups, not through a table or a serialisation: this runs
// for every Service update the informer delivers, so it allocates nothing and stops at the first difference.
function specChanged(oldSvc: V1Service, newSvc: V1Service): boolean {
  const o = oldSvc.spec ?? {};
  const n = newSvc.spec ?? {};
  return frontendChanged(o, n) || addressingChanged(o, n) || backendsChanged(o, n);
}

/** What clients reach and how they are spread: type, source ranges, ports, session affinity and its timeout. */
function frontendChanged(o: V1ServiceSpec, n: V1ServiceSpec): boolean {
  return (
    o.type !== n.type ||
    !sameStrings(o.loadBalancerSourceRanges, n.loadBalancerSourceRanges) ||
    !portsEqualForLB(o.ports ?? [], n.ports ?? []) ||
    o.sessionAffinity !== n.sessionAffinity ||
    o.sessionAffinityConfig?.clientIP?.timeoutSeconds !== n.sessionAffinityConfig?.clientIP?.timeoutSeconds
  );
}

/** Which addresses, of how many families, by which implementation: loadBalancerIP, externalIPs, ipFamilies, class. */
function addressingChanged(o: V1ServiceSpec, n: V1ServiceSpec): boolean {
  return (
    (o.loadBalancerIP ?? "") !== (n.loadBalancerIP ?? "") ||
    !sameStrings(o.externalIPs, n.externalIPs) ||
    (o.ipFamilies?.length ?? 0) !== (n.ipFamilies?.length ?? 0) ||
    (o.loadBalancerClass ?? "") !== (n.loadBalancerClass ?? "")
  );
}

/** Where traffic goes: externalTrafficPolicy, healthCheckNodePort, allocateLoadBalancerNodePorts (pod mode). */
function backendsChanged(o: V1ServiceSpec, n: V1ServiceSpec): boolean {
  return (
    o.externalTrafficPolicy !== n.externalTrafficPolicy ||
    (o.healthCheckNodePort ?? 0) !== (n.healthCheckNodePort ?? 0) ||
    o.allocateLoadBalancerNodePorts !== n.allocateLoadBalancerNodePorts
  );
}

function metadataChanged(oldSvc: V1Service, newSvc: V1Service): boolean {
  return (
    oldSvc.metadata?.uid !== newSvc.metadata?.uid ||
    !sameRecords(oldSvc.metadata?.annotations, newSvc.metadata?.annotations) ||
    (oldSvc.metadata?.deletionTimestamp == null) !== (newSvc.metadata?.deletionTimestamp == null)
  );
}

/** Upstream portsEqualForLB/portEqualForLB: same count and, pairwise in order, the fields a load balancer uses. */
function portsEqualForLB(a: readonly V1ServicePort[], b: readonly V1ServicePort[]): boolean {
  if (a.length !== b.length) return false;
  return a.every((p, i) => {
    const q = b[i];
    return (
      q !== undefined &&
      (p.name ?? "") === (q.name ?? "") &&
      (p.protocol ?? "TCP") === (q.protocol ?? "TCP") &&
      p.port === q.port &&
      (p.nodePort ?? 0) === (q.nodePort ?? 0) &&
      p.targetPort === q.targetPort &&
      p.appProtocol === q.appProtocol
    );
  });
}

/** Go reflect.DeepEqual on []string, except nil and empty compare equal (as the apiserver round-trips them). */
function sameStrings(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  const x = a ?? [];
  const y = b ?? [];
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

function sameRecords(
  a: Readonly<Record<string, string>> | undefined,
  b: Readonly<Record<string, string>> | undefined,
): boolean {
  const x = a ?? {};
  const y = b ?? {};
  const keys = Object.keys(x);
  return keys.length === Object.keys(y).length && keys.every((k) => Object.hasOwn(y, k) && x[k] === y[k]);
}
