/**
 * What the provider needs to know about the account for one Service: the load balancer's subnets (one per zone,
 * from the `subnets` annotation or discovered by the kubernetes.io/role/(internal-)elb tags as both anchors do),
 * their VPC, the nodes' security group, and the instance targets. Instance IDs come from the nodes' providerID
 * (aws:///<zone>/<instance-id>), so no DescribeInstances per reconcile (kubernetes/kubernetes#43873: 1.2 M
 * DescribeInstances a day). Subnets and the node group are cached for `ttlMs`; only a cache miss calls AWS.
 */
import { DescribeSecurityGroupsCommand, DescribeSubnetsCommand, type Filter, type Subnet } from "@aws-sdk/client-ec2";
import { InvalidSpecError, LbOperatorError } from "../../src/errors.js";
import type { LoadBalancerSpec } from "../../src/provider.js";
import { quote } from "../../src/toolkit/index.js";
import type { Clock } from "../../src/util/clock.js";
import { awsCall } from "./aws-call.js";
import {
  AWS_ANNOTATION_PREFIX,
  type AwsClients,
  type AwsEnvironment,
  type AwsServiceConfig,
  type NodeInstance,
  type SubnetInfo,
  TAG_CLUSTER,
} from "./aws-types.js";

/** The account is missing something the cluster should have set up (tagged subnets, a node security group). */
export class AwsEnvironmentError extends LbOperatorError {}

const PROVIDER_ID = /^aws:\/\/\/?([^/]*)\/(i-[0-9a-zA-Z]+)$/;

interface Cached<T> {
  readonly value: T;
  readonly at: number;
}

export class AwsEnvironmentResolver {
  private readonly subnetCache = new Map<string, Cached<{ subnets: SubnetInfo[]; vpcId: string }>>();
  private readonly nodeGroupCache = new Map<string, Cached<string | undefined>>();

  constructor(
    private readonly clients: AwsClients,
    private readonly clock: Clock,
    private readonly ttlMs = 300_000,
  ) {}

  async resolve(spec: LoadBalancerSpec, config: AwsServiceConfig, signal: AbortSignal): Promise<AwsEnvironment> {
    const clusterId = spec.id.clusterId;
    const { subnets, vpcId } = await this.subnets(clusterId, config, signal);
    return {
      vpcId,
      subnets,
      instances: instancesOf(spec, config),
      nodeSecurityGroupId: await this.nodeSecurityGroup(clusterId, vpcId, signal),
    };
  }

  /** Forget everything (tests; or after an AWS error that suggests the cache is stale). */
  invalidate(): void {
    this.subnetCache.clear();
    this.nodeGroupCache.clear();
  }

  private fresh<T>(entry: Cached<T> | undefined): entry is Cached<T> {
    return entry !== undefined && this.clock.now() - entry.at < this.ttlMs;
  }

  private async subnets(
    clusterId: string,
    config: AwsServiceConfig,
    signal: AbortSignal,
  ): Promise<{ subnets: SubnetInfo[]; vpcId: string }> {
    const key = `${clusterId}|${config.scheme}|${(config.subnets ?? []).join(",")}`;
    const cached = this.subnetCache.get(key);
    if (this.fresh(cached)) return cached.value;
    const found = config.subnets
      ? await this.namedSubnets(config.subnets, signal)
      : await this.discoverSubnets(clusterId, config.scheme, signal);
    const vpcs = new Set(found.map((s) => s.VpcId));
    if (vpcs.size > 1) {
      throw new InvalidSpecError(
        `${AWS_ANNOTATION_PREFIX}subnets`,
        `subnets are in more than one VPC (${[...vpcs].join(", ")})`,
      );
    }
    const perZone = new Map<string, SubnetInfo>();
    for (const s of [...found].sort((a, b) => (a.SubnetId ?? "").localeCompare(b.SubnetId ?? ""))) {
      const zone = s.AvailabilityZone ?? "";
      if (!s.SubnetId || perZone.has(zone)) continue;
      perZone.set(zone, { id: s.SubnetId, availabilityZone: zone, cidr: s.CidrBlock ?? "" });
    }
    const subnets = [...perZone.values()].sort((a, b) => a.availabilityZone.localeCompare(b.availabilityZone));
    const vpcId = [...vpcs][0] ?? "";
    const value = { subnets, vpcId };
    this.subnetCache.set(key, { value, at: this.clock.now() });
    return value;
  }

  private async namedSubnets(wanted: readonly string[], signal: AbortSignal): Promise<Subnet[]> {
    const ids = wanted.filter((w) => w.startsWith("subnet-"));
    const names = wanted.filter((w) => !w.startsWith("subnet-"));
    const out: Subnet[] = [];
    if (ids.length > 0) {
      const r = await awsCall(
        "DescribeSubnets",
        () => this.clients.ec2.send(new DescribeSubnetsCommand({ SubnetIds: ids }), { abortSignal: signal }),
        { signal },
      );
      out.push(...(r.Subnets ?? []));
    }
    if (names.length > 0) {
      const r = await awsCall(
        "DescribeSubnets",
        () =>
          this.clients.ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: "tag:Name", Values: names }] }), {
            abortSignal: signal,
          }),
        { signal },
      );
      out.push(...(r.Subnets ?? []));
    }
    for (const w of wanted) {
      const hit = out.some((s) => s.SubnetId === w || (s.Tags ?? []).some((t) => t.Key === "Name" && t.Value === w));
      if (!hit)
        throw new InvalidSpecError(
          `${AWS_ANNOTATION_PREFIX}subnets`,
          `subnet ${quote(w)} not found (by ID or Name tag)`,
        );
    }
    return out;
  }

  private async discoverSubnets(
    clusterId: string,
    scheme: AwsServiceConfig["scheme"],
    signal: AbortSignal,
  ): Promise<Subnet[]> {
    const role = scheme === "internal" ? "kubernetes.io/role/internal-elb" : "kubernetes.io/role/elb";
    const filters: Filter[] = [
      { Name: "tag-key", Values: [role] },
      { Name: `tag:kubernetes.io/cluster/${clusterId}`, Values: ["owned", "shared"] },
    ];
    const r = await awsCall(
      "DescribeSubnets",
      () => this.clients.ec2.send(new DescribeSubnetsCommand({ Filters: filters }), { abortSignal: signal }),
      { signal },
    );
    const subnets = r.Subnets ?? [];
    if (subnets.length === 0) {
      throw new AwsEnvironmentError(
        `no subnets tagged ${role} and kubernetes.io/cluster/${clusterId} (owned or shared); tag them or set ${AWS_ANNOTATION_PREFIX}subnets`,
      );
    }
    return subnets;
  }

  private async nodeSecurityGroup(clusterId: string, vpcId: string, signal: AbortSignal): Promise<string | undefined> {
    const key = `${clusterId}|${vpcId}`;
    const cached = this.nodeGroupCache.get(key);
    if (this.fresh(cached)) return cached.value;
    const r = await awsCall(
      "DescribeSecurityGroups",
      () =>
        this.clients.ec2.send(
          new DescribeSecurityGroupsCommand({
            Filters: [
              { Name: "vpc-id", Values: [vpcId] },
              { Name: `tag:kubernetes.io/cluster/${clusterId}`, Values: ["owned"] },
            ],
          }),
          { abortSignal: signal },
        ),
      { signal },
    );
    // Every group we create carries the cluster's `owned` tag too (ownershipTags): they are load balancers' groups,
    // never the nodes'. Without this, a resolver started after the first frontend group existed (a restart) could
    // pick one and put the backend->node rule on it.
    const id = (r.SecurityGroups ?? [])
      .filter((g) => !(g.Tags ?? []).some((t) => t.Key === TAG_CLUSTER))
      .map((g) => g.GroupId ?? "")
      .filter(Boolean)
      .sort()[0];
    this.nodeGroupCache.set(key, { value: id, at: this.clock.now() });
    return id;
  }
}

/** Instance targets: eligible nodes with an AWS providerID and every target-node-labels label; sorted by id. */
export function instancesOf(spec: LoadBalancerSpec, config: AwsServiceConfig): NodeInstance[] {
  if (spec.backends.mode !== "nodePort") return [];
  const wanted = Object.entries(config.targetNodeLabels);
  const out: NodeInstance[] = [];
  for (const node of spec.backends.nodes) {
    const m = PROVIDER_ID.exec(node.providerID ?? "");
    if (!m) continue;
    if (!wanted.every(([k, v]) => node.labels[k] === v)) continue;
    out.push({ nodeName: node.name, instanceId: m[2]!, availabilityZone: m[1] || node.zone });
  }
  return out.sort((a, b) => a.instanceId.localeCompare(b.instanceId));
}
