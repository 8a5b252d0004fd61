/**
 * Which nodes receive load-balancer traffic in nodePort mode. Ported from the k8s.io/cloud-provider service
 * controller's stableNodeSetPredicates (KEP-3458): readiness is deliberately NOT a predicate, so a flapping kubelet
 * does not churn every load balancer; kube-proxy's health check takes unhealthy nodes out instead.
 */
import type { V1Node } from "@kubernetes/client-node";
import { parseGoBool } from "../toolkit/go-bool.js";
import { EXCLUDE_FROM_LOAD_BALANCERS_LABEL, TO_BE_DELETED_TAINT, ZONE_LABEL } from "./annotations.js";

/**
 * upstream nodeNotDeletedPredicate: a node being deleted takes no new traffic.
 * upstream nodeIncludedPredicate: the exclude label absent, or parsing as false; an unparsable value excludes
 *   (fail closed: the user clearly meant something by setting it).
 * upstream nodeUnTaintedPredicate: no ToBeDeletedByClusterAutoscaler taint, whatever its effect.
 */
export function isNodeEligible(node: V1Node): boolean {
  if (node.metadata?.deletionTimestamp != null) return false;
  const exclude = node.metadata?.labels?.[EXCLUDE_FROM_LOAD_BALANCERS_LABEL];
  if (exclude !== undefined && parseGoBool(exclude) !== false) return false;
  return !(node.spec?.taints ?? []).some((t) => t.key === TO_BE_DELETED_TAINT);
}

/**
 * Whether a node update can change any LoadBalancerSpec. Upstream re-syncs on an eligibility flip or a providerID
 * change; we also carry addresses and the zone into NodeBackend, so those count too. Everything else (conditions,
 * heartbeats, other labels) is ignored, or every kubelet status update would wake every load balancer.
 */
export function nodeChangeMatters(oldNode: V1Node, newNode: V1Node): boolean {
  if (isNodeEligible(oldNode) !== isNodeEligible(newNode)) return true;
  if ((oldNode.spec?.providerID ?? "") !== (newNode.spec?.providerID ?? "")) return true;
  if (oldNode.metadata?.labels?.[ZONE_LABEL] !== newNode.metadata?.labels?.[ZONE_LABEL]) return true;
  return addressesDiffer(oldNode, newNode);
}

function addressesDiffer(oldNode: V1Node, newNode: V1Node): boolean {
  const a = oldNode.status?.addresses ?? [];
  const b = newNode.status?.addresses ?? [];
  return a.length !== b.length || a.some((x, i) => x.type !== b[i]?.type || x.address !== b[i]?.address);
}
