/**
 * Well-known keys the model reads. Upstream names are reused on purpose so existing tooling (kubectl plugins,
 * alerts, runbooks written for the in-tree service controller) understands what this operator does.
 */

/**
 * Comma-separated CIDRs clients may come from; `spec.loadBalancerSourceRanges` wins over it
 * (k8s.io/api core/v1 AnnotationLoadBalancerSourceRangesKey; cloud-provider service/helpers
 * GetLoadBalancerSourceRanges).
 */
export const SOURCE_RANGES_ANNOTATION = "service.beta.kubernetes.io/load-balancer-source-ranges";

/**
 * Ours: comma-separated addresses the Service asks for, at most one per IP family. The dual-stack successor of the
 * deprecated single-valued `spec.loadBalancerIP` (the shape MetalLB's `metallb.universe.tf/loadBalancerIPs` uses).
 */
export const REQUESTED_IPS_ANNOTATION = "lb-operator.io/load-balancer-ips";

/**
 * The upstream cleanup finalizer (k8s.io/cloud-provider service controller: servicehelper.LoadBalancerCleanupFinalizer),
 * so `kubectl get svc -o yaml` reads the same as with the in-tree controller.
 */
export const LOAD_BALANCER_CLEANUP_FINALIZER = "service.kubernetes.io/load-balancer-cleanup";

/**
 * Ours, next to the upstream one. The upstream finalizer is shared by every cloud-provider based controller, so
 * on its own it cannot tell whose load balancer a Service has once `loadBalancerClass` is wiped (a type change
 * wipes it). This one marks the Services whose load balancer *we* made: only they are ever cleaned up by us.
 */
export const OWNER_FINALIZER = "lb-operator.io/load-balancer-cleanup";

/**
 * Status condition set to False (reason InvalidSpec) while the Service asks for something that cannot be built,
 * so `kubectl get svc -o yaml` shows why it has no address even after the Warning event has expired.
 * Removed once the load balancer is ensured.
 */
export const SPEC_VALID_CONDITION = "lb-operator.io/SpecValid";

/** Added together (one patch) before the first provider call, removed together after a successful delete. */
export const LOAD_BALANCER_FINALIZERS: readonly string[] = [LOAD_BALANCER_CLEANUP_FINALIZER, OWNER_FINALIZER];

/** Node label that removes a node from every load balancer's targets (k8s.io/api core/v1 LabelNodeExcludeBalancers). */
export const EXCLUDE_FROM_LOAD_BALANCERS_LABEL = "node.kubernetes.io/exclude-from-external-load-balancers";

/**
 * Taint the cluster autoscaler puts on a node it is about to remove
 * (k8s.io/cloud-provider service controller: ToBeDeletedTaint); such nodes stop receiving new traffic.
 */
export const TO_BE_DELETED_TAINT = "ToBeDeletedByClusterAutoscaler";

/** Well-known zone label copied into backends (k8s.io/api core/v1 LabelTopologyZone). */
export const ZONE_LABEL = "topology.kubernetes.io/zone";

/** Label linking an EndpointSlice to its Service (k8s.io/api discovery/v1 LabelServiceName). */
export const SERVICE_NAME_LABEL = "kubernetes.io/service-name";
