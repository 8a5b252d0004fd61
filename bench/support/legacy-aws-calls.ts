/**
 * The baseline of bench/aws-calls.ts: the AWS calls cloud-provider-aws (CPA, the legacy in-tree provider) makes
 * per reconcile of one Service, as ../shared/reference/aws.md documents them. CPA is not run (it is Go and needs
 * a cluster); this is a model, written out call by call so a reader can check every count against the reference.
 *
 * Model (per Service, one TCP port, so one target group; instance targets; the default cloud-config: no managed
 * NLB security group, no target-group-attributes, no proxy protocol, no extra tags):
 *
 * NLB no-op (section 3, "CPA NLB, no change"; the same code runs on every node-set change via UpdateLoadBalancer):
 *   DescribeSubnets + DescribeRouteTables (subnet discovery), DescribeLoadBalancers x2 (the second is the one the
 *   spurious `dirty=true` per existing listener causes), DescribeListeners, DescribeTargetGroups, DescribeTargetHealth
 *   per target group, DescribeLoadBalancerAttributes, DescribeSubnets (subnet CIDRs for the health rule), the
 *   unfiltered DescribeSecurityGroups (getTaggedSecurityGroups): 10 describes, no write.
 *   ETP=Local (HTTP health check): ensureTargetGroup compares the health-check path against an empty
 *   ModifyTargetGroupInput, so ModifyTargetGroup + DescribeTargetGroups per target group on every reconcile:
 *   11 describes + 1 needless write. This is the "about ten describes and one needless write per NLB".
 *   DescribeInstances is counted as 0: section 3 notes CPA's 10-minute instance cache, shared by all Services, so
 *   it costs about one call per 10 minutes for the whole cluster, not one per Service (an assumption in CPA's
 *   favour; kubernetes/kubernetes#25610 and #43873 are what it was like before the cache).
 * NLB node added: the no-op calls plus RegisterTargets per target group (section 2, step 4: register by diff,
 *   deregister first, nothing to deregister here). The new instance carries the same cluster-tagged node security
 *   group, whose rules are already there (section 2, step 5), so no security-group write.
 * NLB create: a LOWER BOUND, only the calls sections 2 and 3 name for a Service whose NLB does not exist yet:
 *   DescribeLoadBalancers (by name, not found), DescribeSubnets + DescribeRouteTables, CreateLoadBalancer,
 *   DescribeLoadBalancerAttributes + ModifyLoadBalancerAttributes (section 2 step 3), per port DescribeTargetGroups
 *   + CreateTargetGroup + RegisterTargets + DescribeListeners + CreateListener, DescribeSubnets (CIDRs) + the
 *   unfiltered DescribeSecurityGroups + at least one AuthorizeSecurityGroupIngress for the node rules (client,
 *   MTU, and for ETP=Local health rules: counted as one call, though CPA may send one per rule description).
 *   8 describes + 6 writes.
 *
 * Classic ELB no-op (section 3, "CPA CLB, no change"): DescribeSecurityGroups by name and then by ID,
 *   DescribeLoadBalancers, DescribeLoadBalancerAttributes, the unfiltered DescribeSecurityGroups and the one
 *   filtered on ip-permission.group-id: 6 describes, no write (CreateLoadBalancerPolicy and AddTags happen on
 *   every reconcile only with proxy-protocol or extra tags, which the bench does not set).
 * Classic ELB node added: no-op + RegisterInstancesWithLoadBalancer (section 2, "by diff").
 * Classic ELB create: not modelled (the reference gives the resources, not the calls).
 */

export type BenchPhase = "create" | "no-op" | "node-added";
export type LegacyKind = "nlb" | "clb";

export interface LegacyCall {
  /** "api:Operation", as the bench's call counter qualifies them. */
  readonly op: string;
  readonly count: number;
}

export interface LegacyEstimate {
  readonly calls: readonly LegacyCall[];
  readonly describes: number;
  readonly mutating: number;
  /** True when the model names only the calls the reference documents and the real count is likely higher. */
  readonly lowerBound: boolean;
}

export interface LegacyInput {
  readonly kind: LegacyKind;
  readonly phase: BenchPhase;
  /** externalTrafficPolicy Local (HTTP health check on healthCheckNodePort). */
  readonly local: boolean;
  /** Target groups (= ports) of the Service. */
  readonly targetGroups: number;
}

const isDescribe = (op: string): boolean => /:(Describe|List|Get)[A-Z]/.test(op);

function nlbNoOp(local: boolean, tgs: number): LegacyCall[] {
  return [
    { op: "ec2:DescribeSubnets", count: 2 },
    { op: "ec2:DescribeRouteTables", count: 1 },
    { op: "elbv2:DescribeLoadBalancers", count: 2 },
    { op: "elbv2:DescribeListeners", count: 1 },
    { op: "elbv2:DescribeTargetGroups", count: tgs * (local ? 2 : 1) },
    { op: "elbv2:DescribeTargetHealth", count: tgs },
    { op: "elbv2:DescribeLoadBalancerAttributes", count: 1 },
    { op: "ec2:DescribeSecurityGroups", count: 1 },
    { op: "elbv2:ModifyTargetGroup", count: local ? tgs : 0 },
  ];
}

function nlbCreate(tgs: number): LegacyCall[] {
  return [
    { op: "elbv2:DescribeLoadBalancers", count: 1 },
    { op: "ec2:DescribeSubnets", count: 2 },
    { op: "ec2:DescribeRouteTables", count: 1 },
    { op: "elbv2:CreateLoadBalancer", count: 1 },
    { op: "elbv2:DescribeLoadBalancerAttributes", count: 1 },
    { op: "elbv2:ModifyLoadBalancerAttributes", count: 1 },
    { op: "elbv2:DescribeTargetGroups", count: tgs },
    { op: "elbv2:CreateTargetGroup", count: tgs },
    { op: "elbv2:RegisterTargets", count: tgs },
    { op: "elbv2:DescribeListeners", count: 1 },
    { op: "elbv2:CreateListener", count: tgs },
    { op: "ec2:DescribeSecurityGroups", count: 1 },
    { op: "ec2:AuthorizeSecurityGroupIngress", count: 1 },
  ];
}

const clbNoOp = (): LegacyCall[] => [
  { op: "ec2:DescribeSecurityGroups", count: 4 },
  { op: "elb:DescribeLoadBalancers", count: 1 },
  { op: "elb:DescribeLoadBalancerAttributes", count: 1 },
];

function calls(input: LegacyInput): { calls: LegacyCall[]; lowerBound: boolean } | undefined {
  const { kind, phase, local, targetGroups } = input;
  if (kind === "nlb") {
    if (phase === "create") return { calls: nlbCreate(targetGroups), lowerBound: true };
    const base = nlbNoOp(local, targetGroups);
    if (phase === "no-op") return { calls: base, lowerBound: false };
    return { calls: [...base, { op: "elbv2:RegisterTargets", count: targetGroups }], lowerBound: false };
  }
  if (phase === "create") return undefined;
  if (phase === "no-op") return { calls: clbNoOp(), lowerBound: false };
  return { calls: [...clbNoOp(), { op: "elb:RegisterInstancesWithLoadBalancer", count: 1 }], lowerBound: false };
}

/** The modelled calls of one reconcile of one Service; undefined where the reference gives no model. */
export function legacyCalls(input: LegacyInput): LegacyEstimate | undefined {
  const model = calls(input);
  if (model === undefined) return undefined;
  const list = model.calls.filter((c) => c.count > 0);
  const sum = (pick: (c: LegacyCall) => boolean): number => list.filter(pick).reduce((a, c) => a + c.count, 0);
  return {
    calls: list,
    describes: sum((c) => isDescribe(c.op)),
    mutating: sum((c) => !isDescribe(c.op)),
    lowerBound: model.lowerBound,
  };
}
