/**
 * The shared backend security group: one per cluster and VPC, attached to every load balancer next to its
 * frontend group. The nodes' security group admits all traffic from it with exactly one rule, so any number of
 * Services, ports and source ranges adds no node rule. This is aws-load-balancer-controller's backend SG
 * (`k8s-traffic-<cluster>-<hash>`, reference section 2); it replaces cloud-provider-aws's per-load-balancer
 * node rules (one per CIDR per NodePort for NLBs), which hit RulesPerSecurityGroupLimitExceeded
 * (reference section 4, #6).
 *
 * The backend group deliberately does not carry `kubernetes.io/cluster/<id>`: that tag is how the node group
 * is discovered (AwsEnvironment.nodeSecurityGroupId), and the two must not be confused.
 */
import { hasCode } from "../aws-call.js";
import { TAG_CLUSTER, TAG_RESOURCE, type AwsClients } from "../aws-types.js";
import { backendSecurityGroupName } from "../names.js";
import { authorizeIngress, createSecurityGroup, findSecurityGroups, securityGroupRules, tagFilters } from "./sg-api.js";

export const BACKEND_SG_RESOURCE = "BackendSecurityGroup";
export const BACKEND_RULE_DESCRIPTION = "lb-operator.io/backend";

export interface BackendSecurityGroupRequest {
  readonly clusterId: string;
  readonly vpcId: string;
}

export function backendSecurityGroupTags(clusterId: string): Record<string, string> {
  return { [TAG_CLUSTER]: clusterId, [TAG_RESOURCE]: BACKEND_SG_RESOURCE };
}

/**
 * Finds (by tags, in the VPC) or creates the cluster's backend group; returns its id. It has no ingress rules
 * and keeps EC2's default allow-all egress. It is shared, so Service deletion never removes it. Shared also means
 * raced: Services reconciled at once (or two replicas) all find none and all create it; the losers get
 * InvalidGroup.Duplicate and take the winner's group.
 */
export async function ensureBackendSecurityGroup(
  clients: AwsClients,
  request: BackendSecurityGroupRequest,
  signal?: AbortSignal,
): Promise<string> {
  const tags = backendSecurityGroupTags(request.clusterId);
  const name = backendSecurityGroupName(request.clusterId);
  const find = async (): Promise<string | undefined> => {
    const found = await findSecurityGroups(
      clients,
      [{ Name: "vpc-id", Values: [request.vpcId] }, ...tagFilters(tags)],
      signal,
    );
    return (found.find((group) => group.GroupName === name) ?? found[0])?.GroupId;
  };
  const existing = await find();
  if (existing) return existing;
  try {
    return await createSecurityGroup(
      clients,
      { vpcId: request.vpcId, name, description: `lb-operator backend for cluster ${request.clusterId}`, tags },
      signal,
    );
  } catch (err) {
    if (!hasCode(err, "InvalidGroup.Duplicate")) throw err;
    const winner = await find();
    if (winner) return winner;
    throw err;
  }
}

/**
 * Makes sure the nodes' group admits all traffic from the backend group: one ingress rule, added once.
 * Converged: one DescribeSecurityGroupRules, no mutating call. A concurrent reconcile that added the rule first
 * makes ours InvalidPermission.Duplicate: the rule is there, which is all we wanted.
 */
export async function ensureNodeAccess(
  clients: AwsClients,
  nodeSecurityGroupId: string,
  backendGroupId: string,
  signal?: AbortSignal,
): Promise<void> {
  const rules = await securityGroupRules(clients, nodeSecurityGroupId, signal);
  const present = rules.some(
    (rule) => !rule.IsEgress && rule.IpProtocol === "-1" && rule.ReferencedGroupInfo?.GroupId === backendGroupId,
  );
  if (present) return;
  try {
    await authorizeIngress(
      clients,
      nodeSecurityGroupId,
      [
        {
          IpProtocol: "-1",
          UserIdGroupPairs: [{ GroupId: backendGroupId, Description: BACKEND_RULE_DESCRIPTION }],
        },
      ],
      signal,
    );
  } catch (err) {
    if (!hasCode(err, "InvalidPermission.Duplicate")) throw err;
  }
}
