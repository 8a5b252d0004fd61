/**
 * The managed frontend security group: one per load balancer, admitting only the source ranges on the listener
 * ports (plus path-MTU ICMP). Nodes never get per-CIDR or per-NodePort rules; they admit the shared backend
 * group instead (backend-security-group.ts), so rule growth is bounded (reference section 4, #6:
 * RulesPerSecurityGroupLimitExceeded). Found by ownership tags, like aws-load-balancer-controller's
 * `ManagedLBSecurityGroup` (reference section 2), so a crash between create and authorize leaks nothing.
 */
import { RevokeSecurityGroupIngressCommand, CreateTagsCommand, type SecurityGroup } from "@aws-sdk/client-ec2";
import type { LoadBalancerId } from "../../../src/provider.js";
import { awsCall } from "../aws-call.js";
import { TAG_CLUSTER, TAG_RESOURCE, TAG_SERVICE_UID, ownershipTags, type AwsClients } from "../aws-types.js";
import { securityGroupName } from "../names.js";
import { deleteSecurityGroupWithRetry, type DeleteRetryOptions } from "./delete-security-group.js";
import {
  authorizeIngress,
  createSecurityGroup,
  findSecurityGroups,
  securityGroupRules,
  tagFilters,
  tagsOf,
} from "./sg-api.js";
import {
  FRONTEND_RULE_DESCRIPTION,
  desiredFrontendRules,
  diffIngressRules,
  toIpPermissions,
  type ListenerPort,
} from "./sg-rules.js";

export const FRONTEND_SG_RESOURCE = "ManagedLBSecurityGroup";

export interface FrontendSecurityGroupRequest {
  readonly id: LoadBalancerId;
  readonly vpcId: string;
  readonly ports: readonly ListenerPort[];
  /** Normalised CIDRs; empty means 0.0.0.0/0. */
  readonly sourceRanges: readonly string[];
  /** additional-resource-tags; the ownership tags win on conflict. */
  readonly extraTags: Readonly<Record<string, string>>;
}

/** The tags that identify a Service's frontend group: cluster, Service UID and resource kind. */
function ownedFilterTags(id: LoadBalancerId): Record<string, string> {
  return { [TAG_CLUSTER]: id.clusterId, [TAG_SERVICE_UID]: id.uid, [TAG_RESOURCE]: FRONTEND_SG_RESOURCE };
}

/**
 * Creates or converges the frontend group and returns its id. Converged: one DescribeSecurityGroups and one
 * DescribeSecurityGroupRules, no mutating call.
 */
export async function ensureFrontendSecurityGroup(
  clients: AwsClients,
  request: FrontendSecurityGroupRequest,
  signal?: AbortSignal,
): Promise<string> {
  const { id, vpcId } = request;
  const desiredTags = { ...request.extraTags, ...ownershipTags(id, FRONTEND_SG_RESOURCE) };
  const found = await findSecurityGroups(
    clients,
    [{ Name: "vpc-id", Values: [vpcId] }, ...tagFilters(ownedFilterTags(id))],
    signal,
  );
  const name = securityGroupName(id);
  const existing = found.find((group) => group.GroupName === name) ?? found[0];
  let groupId: string;
  if (existing?.GroupId) {
    groupId = existing.GroupId;
    await addMissingTags(clients, existing, desiredTags, signal);
  } else {
    groupId = await createSecurityGroup(
      clients,
      {
        vpcId,
        name,
        description: `lb-operator frontend for ${id.namespace}/${id.name}`,
        tags: desiredTags,
      },
      signal,
    );
  }

  const desired = desiredFrontendRules(request.ports, request.sourceRanges);
  const diff = diffIngressRules(await securityGroupRules(clients, groupId, signal), desired);
  // Authorize before revoking: a range that moves from one rule to another is never closed in between.
  if (diff.authorize.length > 0) {
    await authorizeIngress(clients, groupId, toIpPermissions(diff.authorize, FRONTEND_RULE_DESCRIPTION), signal);
  }
  if (diff.revoke.length > 0) {
    await awsCall(
      "RevokeSecurityGroupIngress",
      () =>
        clients.ec2.send(
          new RevokeSecurityGroupIngressCommand({ GroupId: groupId, SecurityGroupRuleIds: [...diff.revoke] }),
          { abortSignal: signal },
        ),
      { signal },
    );
  }
  return groupId;
}

/**
 * Only adds or updates tags: a tag that left additional-resource-tags stays (we cannot tell it from one a
 * person added by hand; cloud-provider-aws does the same).
 */
async function addMissingTags(
  clients: AwsClients,
  group: SecurityGroup,
  desired: Readonly<Record<string, string>>,
  signal: AbortSignal | undefined,
): Promise<void> {
  const current = tagsOf(group);
  const missing = Object.entries(desired).filter(([key, value]) => current[key] !== value);
  if (missing.length === 0 || !group.GroupId) return;
  const groupId = group.GroupId;
  await awsCall(
    "CreateTags",
    () =>
      clients.ec2.send(
        new CreateTagsCommand({
          Resources: [groupId],
          Tags: missing.map(([Key, Value]) => ({ Key, Value })),
        }),
        { abortSignal: signal },
      ),
    { signal },
  );
}

/**
 * Deletes every frontend group owned by `id`, in any VPC (found by tags only). Call it after the load
 * balancer is gone. Idempotent; DependencyViolation is retried for a bounded time (delete-security-group.ts).
 */
export async function deleteFrontendSecurityGroup(
  clients: AwsClients,
  id: LoadBalancerId,
  signal?: AbortSignal,
  options?: DeleteRetryOptions,
): Promise<void> {
  const groups = await findSecurityGroups(clients, tagFilters(ownedFilterTags(id)), signal);
  for (const group of groups) {
    if (group.GroupId) await deleteSecurityGroupWithRetry(clients, group.GroupId, signal, options);
  }
}
