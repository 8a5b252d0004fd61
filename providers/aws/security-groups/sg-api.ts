/**
 * The EC2 calls the security-group code shares. Every DescribeSecurityGroups call is filtered (by VPC and tags,
 * or by id): cloud-provider-aws's unfiltered DescribeSecurityGroups on every reconcile is one of the patterns
 * the reference (section 3) tells us not to copy.
 */
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  type Filter,
  type IpPermission,
  type SecurityGroup,
  type SecurityGroupRule,
} from "@aws-sdk/client-ec2";
import { awsCall } from "../aws-call.js";
import type { AwsClients } from "../aws-types.js";

export function tagFilters(tags: Readonly<Record<string, string>>): Filter[] {
  return Object.entries(tags).map(([key, value]) => ({ Name: `tag:${key}`, Values: [value] }));
}

export function tagsOf(group: SecurityGroup): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const tag of group.Tags ?? []) if (tag.Key !== undefined) tags[tag.Key] = tag.Value ?? "";
  return tags;
}

/** Groups matching all `filters` (never called without one), sorted by id so choices are deterministic. */
export async function findSecurityGroups(
  clients: AwsClients,
  filters: readonly Filter[],
  signal?: AbortSignal,
): Promise<SecurityGroup[]> {
  if (filters.length === 0) throw new RangeError("findSecurityGroups needs at least one filter");
  const groups: SecurityGroup[] = [];
  let nextToken: string | undefined;
  do {
    const page = await awsCall(
      "DescribeSecurityGroups",
      () =>
        clients.ec2.send(new DescribeSecurityGroupsCommand({ Filters: [...filters], NextToken: nextToken }), {
          abortSignal: signal,
        }),
      { signal },
    );
    groups.push(...(page.SecurityGroups ?? []));
    nextToken = page.NextToken;
  } while (nextToken);
  return groups.sort((a, b) => (a.GroupId ?? "").localeCompare(b.GroupId ?? ""));
}

/** Ingress and egress rules of one group. */
export async function securityGroupRules(
  clients: AwsClients,
  groupId: string,
  signal?: AbortSignal,
): Promise<SecurityGroupRule[]> {
  const rules: SecurityGroupRule[] = [];
  let nextToken: string | undefined;
  do {
    const page = await awsCall(
      "DescribeSecurityGroupRules",
      () =>
        clients.ec2.send(
          new DescribeSecurityGroupRulesCommand({
            Filters: [{ Name: "group-id", Values: [groupId] }],
            NextToken: nextToken,
          }),
          { abortSignal: signal },
        ),
      { signal },
    );
    rules.push(...(page.SecurityGroupRules ?? []));
    nextToken = page.NextToken;
  } while (nextToken);
  return rules;
}

export interface CreateGroupRequest {
  readonly vpcId: string;
  readonly name: string;
  readonly description: string;
  readonly tags: Readonly<Record<string, string>>;
}

/** Creates the group with its tags in one call, so a crash never leaves an untagged (unfindable) group. */
export async function createSecurityGroup(
  clients: AwsClients,
  request: CreateGroupRequest,
  signal?: AbortSignal,
): Promise<string> {
  const out = await awsCall(
    "CreateSecurityGroup",
    () =>
      clients.ec2.send(
        new CreateSecurityGroupCommand({
          VpcId: request.vpcId,
          GroupName: request.name,
          Description: request.description,
          TagSpecifications: [
            {
              ResourceType: "security-group",
              Tags: Object.entries(request.tags).map(([Key, Value]) => ({ Key, Value })),
            },
          ],
        }),
        { abortSignal: signal },
      ),
    { signal },
  );
  if (!out.GroupId) throw new RangeError("CreateSecurityGroup answered without a GroupId");
  return out.GroupId;
}

export async function authorizeIngress(
  clients: AwsClients,
  groupId: string,
  permissions: IpPermission[],
  signal?: AbortSignal,
): Promise<void> {
  await awsCall(
    "AuthorizeSecurityGroupIngress",
    () =>
      clients.ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: permissions }), {
        abortSignal: signal,
      }),
    { signal },
  );
}
