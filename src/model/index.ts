/** The pure model: Kubernetes objects in, provider-neutral LoadBalancerSpec and reconcile decisions out. */
export {
  EXCLUDE_FROM_LOAD_BALANCERS_LABEL,
  LOAD_BALANCER_CLEANUP_FINALIZER,
  REQUESTED_IPS_ANNOTATION,
  SERVICE_NAME_LABEL,
  SOURCE_RANGES_ANNOTATION,
  TO_BE_DELETED_TAINT,
  ZONE_LABEL,
} from "./annotations.js";
export { deriveSpec } from "./derive-spec.js";
export type { DeriveOptions } from "./derive-spec.js";
export { loadBalancerId } from "./load-balancer-id.js";
export { isNodeEligible, nodeChangeMatters } from "./node-eligibility.js";
export { parseRequestedIPs } from "./requested-ips.js";
export {
  hasFinalizer,
  isOurs,
  isPodMode,
  needsCleanup,
  needsUpdate,
  usesEndpoints,
  wantsLoadBalancer,
} from "./service-predicates.js";
export type { ClassOptions } from "./service-predicates.js";
export { parseSourceRanges } from "./source-ranges.js";
export { decodeStatus, encodeStatus, statusEqual } from "./status-codec.js";
export { derivePodEndpoints } from "./pod-endpoints.js";
export { KUBE_PROXY_HEALTHZ_PORT } from "./service-settings.js";
