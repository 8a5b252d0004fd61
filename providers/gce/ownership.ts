/**
 * Ownership of Compute resources, recorded in their descriptions (gce-types.ts): a Service's own resources carry
 * ownershipDescription(id); resources shared by the cluster's Services (the instance groups, the kube-proxy health
 * check and its firewall) carry the cluster id only. A same-named resource with any other description belongs to
 * someone else (another cluster, the GKE controller, a person) and is never modified or deleted.
 */
import { LbOperatorError } from "../../src/errors.js";
import type { LoadBalancerId } from "../../src/provider.js";
import { isOwnedBy, ownershipDescription } from "./gce-types.js";

const CLUSTER_KEY = "lb-operator.io/cluster-id";

/** A resource with our deterministic name is not ours; nothing was changed. */
export class ForeignResourceError extends LbOperatorError {
  readonly resourceName: string;
  constructor(kind: string, resourceName: string, description: string | null | undefined) {
    super(
      `${kind} ${resourceName} exists but is not owned by this ${kind.includes("shared") ? "cluster" : "Service"} (description ${JSON.stringify(description ?? "")}); refusing to modify it`,
    );
    this.resourceName = resourceName;
  }
}

/** Description of a cluster-shared resource. */
export function clusterDescription(clusterId: string): string {
  return JSON.stringify({ [CLUSTER_KEY]: clusterId });
}

export function isClusterResource(description: string | null | undefined, clusterId: string): boolean {
  try {
    const parsed = JSON.parse(description ?? "") as Record<string, unknown>;
    return parsed[CLUSTER_KEY] === clusterId && Object.keys(parsed).length === 1;
  } catch {
    return false;
  }
}

/** Who a resource must belong to: one Service, or the cluster (shared resources). */
export type Owner =
  { readonly kind: "service"; readonly id: LoadBalancerId } | { readonly kind: "cluster"; readonly clusterId: string };

export function descriptionFor(owner: Owner): string {
  return owner.kind === "service" ? ownershipDescription(owner.id) : clusterDescription(owner.clusterId);
}

export function isOwnedByOwner(description: string | null | undefined, owner: Owner): boolean {
  return owner.kind === "service" ? isOwnedBy(description, owner.id) : isClusterResource(description, owner.clusterId);
}

export function assertOwner(kind: string, name: string, description: string | null | undefined, owner: Owner): void {
  if (!isOwnedByOwner(description, owner))
    throw new ForeignResourceError(owner.kind === "cluster" ? `shared ${kind}` : kind, name, description);
}
