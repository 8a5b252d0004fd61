/**
 * Ownership by tags (aws-load-balancer-controller's tracking tags, reference section 2 and 7): a resource is ours
 * when it carries this Service's uid and this cluster's id. Names only find candidates; tags decide.
 */
import type { LoadBalancerId } from "../../../src/provider.js";
import { LbOperatorError } from "../../../src/errors.js";
import { TAG_CLUSTER, TAG_SERVICE_UID, ownershipTags } from "../aws-types.js";
import { TAG_ADDITIONAL_KEYS } from "./nlb-diff.js";

/**
 * A resource with our deterministic name belongs to someone else (another cluster or Service, or a person).
 * Nothing is changed; the user must rename one of them (or delete the stranger).
 */
export class ForeignResourceError extends LbOperatorError {
  readonly resourceName: string;
  constructor(kind: string, resourceName: string, owner: string) {
    super(`${kind} ${resourceName} exists but is not owned by this Service (${owner}); refusing to modify it`);
    this.resourceName = resourceName;
  }
}

export function isOwned(tags: Readonly<Record<string, string>> | undefined, id: LoadBalancerId): boolean {
  return tags !== undefined && tags[TAG_SERVICE_UID] === id.uid && tags[TAG_CLUSTER] === id.clusterId;
}

export function assertOwned(
  kind: string,
  name: string,
  tags: Readonly<Record<string, string>> | undefined,
  id: LoadBalancerId,
): void {
  if (isOwned(tags, id)) return;
  const owner =
    tags?.[TAG_SERVICE_UID] === undefined
      ? "no ownership tags"
      : `service uid ${tags[TAG_SERVICE_UID]}, cluster ${tags[TAG_CLUSTER] ?? "?"}`;
  throw new ForeignResourceError(kind, name, owner);
}

/** Tag keys the deployer may remove when no longer desired. */
export function ownedTagKeys(id: LoadBalancerId): ReadonlySet<string> {
  return new Set([...Object.keys(ownershipTags(id, "")), TAG_ADDITIONAL_KEYS]);
}
