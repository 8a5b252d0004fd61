/**
 * Deterministic AWS resource names, in aws-load-balancer-controller's shape `k8s-{ns:8}-{name:8}-{hash:10}`
 * (reference section 2, LBC pkg/service model_build_load_balancer.go / model_build_target_group.go). Names are
 * only a convenience for people reading the console and for a cheap describe-by-name: ownership is decided by
 * tags (aws-types.ts ownershipTags), so a truncated namespace or name colliding with another Service's is harmless,
 * the hash tells them apart.
 *
 * Like LBC, every character that is not [A-Za-z0-9] is dropped from the namespace and name before truncation,
 * and the hash is sha256 in lowercase hex. Unlike LBC, the hashed fields are joined with a NUL separator, so
 * ("ab", "c") and ("a", "bc") do not hash alike.
 *
 * ELB and target group names: at most 32 characters, [A-Za-z0-9-], no leading or trailing hyphen, and not
 * starting with "internal-" (the ELBv2 CreateLoadBalancer/CreateTargetGroup rules); every name here starts with
 * "k8s-" and ends with the hash, so all of that holds by construction.
 */
import { createHash } from "node:crypto";
import type { LoadBalancerId } from "../../src/provider.js";
import type { LoadBalancerKind, Scheme, TargetType } from "./aws-types.js";

/** The ELB and ELBv2 name limit. */
export const MAX_ELB_NAME_LENGTH = 32;

const HASH_LENGTH = 10;
const PART_LENGTH = 8;
/** LBC's backend security group name keeps 15 characters of the cluster name (pkg/networking backend_sg_provider.go). */
const CLUSTER_PART_LENGTH = 15;

export type TargetGroupProtocol = "TCP" | "UDP" | "TLS" | "TCP_UDP";

/**
 * What a target group name covers: the properties AWS cannot change on an existing target group (port, protocol,
 * target type), plus the health check protocol and interval, which cloud-provider-aws and LBC also treat as
 * "replace the target group" (reference section 2: a change of HC protocol or interval gives a new TG). A change
 * in any of them gives a new name, so the deployer creates the new group, moves the listener, then deletes the old.
 */
export interface TargetGroupNameInput {
  /** The Service port (listener port). */
  readonly port: number;
  readonly protocol: TargetGroupProtocol;
  readonly targetType: TargetType;
  readonly healthCheckProtocol: "TCP" | "HTTP" | "HTTPS";
  readonly healthCheckIntervalSeconds: number;
  /** The target group's own port: the NodePort for instance targets, the pod port (or 1) for ip targets. */
  readonly targetPort: number;
}

/** The NLB's or classic ELB's name. Kind or scheme changes give a new name: neither can be changed in place. */
export function loadBalancerName(id: LoadBalancerId, kind: LoadBalancerKind, scheme: Scheme): string {
  return serviceScopedName(id, hash([id.clusterId, id.uid, kind, scheme]));
}

export function targetGroupName(id: LoadBalancerId, tg: TargetGroupNameInput): string {
  return serviceScopedName(
    id,
    hash([
      id.clusterId,
      id.uid,
      "target-group",
      String(tg.port),
      tg.protocol,
      tg.targetType,
      tg.healthCheckProtocol,
      String(tg.healthCheckIntervalSeconds),
      String(tg.targetPort),
    ]),
  );
}

/** The managed frontend security group of one Service (one per load balancer, whatever its kind). */
export function securityGroupName(id: LoadBalancerId): string {
  return serviceScopedName(id, hash([id.clusterId, id.uid, "security-group"]));
}

/**
 * The cluster-wide backend security group that every managed load balancer carries and that node security groups
 * admit traffic from: one rule per node group, however many Services (LBC's `k8s-traffic-<cluster>-<hash>`).
 */
export function backendSecurityGroupName(clusterId: string): string {
  return `k8s-traffic-${sanitize(clusterId).slice(0, CLUSTER_PART_LENGTH)}-${hash([clusterId, "backend-security-group"])}`;
}

function serviceScopedName(id: LoadBalancerId, digest: string): string {
  return `k8s-${sanitize(id.namespace).slice(0, PART_LENGTH)}-${sanitize(id.name).slice(0, PART_LENGTH)}-${digest}`;
}

function sanitize(text: string): string {
  return text.replace(/[^A-Za-z0-9]/g, "");
}

function hash(fields: readonly string[]): string {
  return createHash("sha256").update(fields.join("\0")).digest("hex").slice(0, HASH_LENGTH);
}
