/**
 * A cluster's AWS side in moto for the AWS provider's tests: a VPC, public and internal subnets per zone tagged
 * for subnet discovery (kubernetes.io/role/elb, kubernetes.io/role/internal-elb, kubernetes.io/cluster/<id>;
 * ../shared/reference/aws.md section 1 "subnets"), a node security group tagged kubernetes.io/cluster/<id>=owned
 * (where CPA puts its node rules, section 2), and EC2 instances with the Kubernetes Node objects a kubelet
 * with the AWS cloud provider would register for them (spec.providerID aws:///<az>/<instance-id>).
 */
import {
  AssociateRouteTableCommand,
  AttachInternetGatewayCommand,
  CreateInternetGatewayCommand,
  CreateRouteCommand,
  CreateRouteTableCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DescribeSecurityGroupRulesCommand,
  RunInstancesCommand,
  TerminateInstancesCommand,
  type Instance,
  type SecurityGroupRule,
  type Tag,
} from "@aws-sdk/client-ec2";
import {
  DescribeLoadBalancersCommand as DescribeClassicCommand,
  DescribeTagsCommand as DescribeClassicTagsCommand,
} from "@aws-sdk/client-elastic-load-balancing";
import {
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeTagsCommand,
  DescribeTargetGroupsCommand,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { DescribeSecurityGroupsCommand } from "@aws-sdk/client-ec2";
import type { V1Node } from "@kubernetes/client-node";
import { LbOperatorError } from "../../src/errors.js";
import {
  TAG_CLUSTER,
  TAG_STACK,
  TAG_SERVICE_UID,
  type AwsClients,
  type SubnetInfo,
} from "../../providers/aws/aws-types.js";

export class AwsWorldError extends LbOperatorError {}

export interface AwsWorldOptions {
  readonly clusterId: string;
  /** Default ["us-east-1a", "us-east-1b"]. */
  readonly zones?: readonly string[];
  /** Instances (nodes) to start, spread round-robin over the zones. Default 2. */
  readonly nodes?: number;
  /** A /16; default 10.0.0.0/16. Public subnets take x.x.<i>.0/24, internal ones x.x.<100+i>.0/24. */
  readonly vpcCidr?: string;
  /** Labels put on every Node (e.g. for target-node-labels tests). */
  readonly nodeLabels?: Readonly<Record<string, string>>;
}

export interface WorldInstance {
  readonly instanceId: string;
  /** The Node name: the instance's private DNS name, as the AWS cloud provider names nodes. */
  readonly nodeName: string;
  readonly availabilityZone: string;
  readonly subnetId: string;
  readonly privateIp: string;
  readonly labels: Readonly<Record<string, string>>;
}

export interface AwsWorld {
  readonly clusterId: string;
  readonly vpcId: string;
  readonly vpcCidr: string;
  /** One per zone, in zone order; tagged kubernetes.io/role/elb=1 and kubernetes.io/cluster/<id>=shared. */
  readonly publicSubnets: readonly SubnetInfo[];
  /** One per zone, in zone order; tagged kubernetes.io/role/internal-elb=1 and kubernetes.io/cluster/<id>=shared. */
  readonly internalSubnets: readonly SubnetInfo[];
  readonly nodeSecurityGroupId: string;
  /** Running instances, in start order; addNodes/removeNode change it. */
  instances(): readonly WorldInstance[];
  /** Node objects for the running instances (Ready, InternalIP, zone labels). */
  nodes(): V1Node[];
  /** Starts `count` more instances (round-robin over the zones, continuing), with extra labels if given. */
  addNodes(count: number, labels?: Readonly<Record<string, string>>): Promise<readonly WorldInstance[]>;
  /** Terminates the instance behind a node. */
  removeNode(nodeName: string): Promise<void>;
  /** Ingress rules on the node security group, for asserting the provider's backend rules. */
  nodeSecurityGroupRules(): Promise<SecurityGroupRule[]>;
}

const tagSpec = (
  resourceType: "vpc" | "subnet" | "security-group" | "instance" | "internet-gateway" | "route-table",
  tags: Record<string, string>,
) => [{ ResourceType: resourceType, Tags: Object.entries(tags).map(([Key, Value]): Tag => ({ Key, Value })) }];

function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new AwsWorldError(`moto returned no ${what}`);
  return value;
}

function subnetCidr(vpcCidr: string, third: number): string {
  const m = /^(\d+)\.(\d+)\.0\.0\/16$/.exec(vpcCidr);
  if (!m) throw new AwsWorldError(`vpcCidr must be a x.y.0.0/16, got ${vpcCidr}`);
  return `${m[1]}.${m[2]}.${third}.0/24`;
}

export async function createAwsWorld(clients: AwsClients, options: AwsWorldOptions): Promise<AwsWorld> {
  const { clusterId } = options;
  const zones = options.zones ?? ["us-east-1a", "us-east-1b"];
  if (zones.length === 0 || zones.length > 99) throw new AwsWorldError("zones: between 1 and 99");
  const vpcCidr = options.vpcCidr ?? "10.0.0.0/16";
  const clusterTag = `kubernetes.io/cluster/${clusterId}`;
  const { ec2 } = clients;

  const vpc = await ec2.send(
    new CreateVpcCommand({
      CidrBlock: vpcCidr,
      TagSpecifications: tagSpec("vpc", { Name: `${clusterId}-vpc`, [clusterTag]: "shared" }),
    }),
  );
  const vpcId = required(vpc.Vpc?.VpcId, "VpcId");

  // Public subnets route to an internet gateway, as CPA's subnet discovery checks (reference section 3).
  const igw = await ec2.send(
    new CreateInternetGatewayCommand({
      TagSpecifications: tagSpec("internet-gateway", { Name: `${clusterId}-igw` }),
    }),
  );
  const igwId = required(igw.InternetGateway?.InternetGatewayId, "InternetGatewayId");
  await ec2.send(new AttachInternetGatewayCommand({ InternetGatewayId: igwId, VpcId: vpcId }));
  const rt = await ec2.send(
    new CreateRouteTableCommand({
      VpcId: vpcId,
      TagSpecifications: tagSpec("route-table", { Name: `${clusterId}-public` }),
    }),
  );
  const routeTableId = required(rt.RouteTable?.RouteTableId, "RouteTableId");
  await ec2.send(
    new CreateRouteCommand({ RouteTableId: routeTableId, DestinationCidrBlock: "0.0.0.0/0", GatewayId: igwId }),
  );

  const makeSubnet = async (zone: string, third: number, role: string, name: string): Promise<SubnetInfo> => {
    const cidr = subnetCidr(vpcCidr, third);
    const out = await ec2.send(
      new CreateSubnetCommand({
        VpcId: vpcId,
        CidrBlock: cidr,
        AvailabilityZone: zone,
        TagSpecifications: tagSpec("subnet", { Name: name, [role]: "1", [clusterTag]: "shared" }),
      }),
    );
    return { id: required(out.Subnet?.SubnetId, "SubnetId"), availabilityZone: zone, cidr };
  };
  const publicSubnets: SubnetInfo[] = [];
  const internalSubnets: SubnetInfo[] = [];
  for (const [i, zone] of zones.entries()) {
    const pub = await makeSubnet(zone, i, "kubernetes.io/role/elb", `${clusterId}-public-${zone}`);
    await ec2.send(new AssociateRouteTableCommand({ RouteTableId: routeTableId, SubnetId: pub.id }));
    publicSubnets.push(pub);
    internalSubnets.push(
      await makeSubnet(zone, 100 + i, "kubernetes.io/role/internal-elb", `${clusterId}-internal-${zone}`),
    );
  }

  const sg = await ec2.send(
    new CreateSecurityGroupCommand({
      GroupName: `${clusterId}-nodes`,
      Description: `nodes of ${clusterId}`,
      VpcId: vpcId,
      TagSpecifications: tagSpec("security-group", { Name: `${clusterId}-nodes`, [clusterTag]: "owned" }),
    }),
  );
  const nodeSecurityGroupId = required(sg.GroupId, "GroupId");

  const running: WorldInstance[] = [];
  let started = 0;

  const toWorldInstance = (
    inst: Instance,
    zone: string,
    subnetId: string,
    labels: Record<string, string>,
  ): WorldInstance => {
    const instanceId = required(inst.InstanceId, "InstanceId");
    const privateIp = required(inst.PrivateIpAddress, "PrivateIpAddress");
    const nodeName = inst.PrivateDnsName ?? `ip-${privateIp.replaceAll(".", "-")}.ec2.internal`;
    return { instanceId, nodeName, availabilityZone: zone, subnetId, privateIp, labels };
  };

  const addNodes = async (
    count: number,
    labels: Readonly<Record<string, string>> = {},
  ): Promise<readonly WorldInstance[]> => {
    const added: WorldInstance[] = [];
    for (let i = 0; i < count; i++) {
      const zoneIndex = started++ % zones.length;
      const zone = required(zones[zoneIndex], "zone");
      // Nodes live in the internal subnets, as in a usual EKS/kops layout.
      const subnet = required(internalSubnets[zoneIndex], "subnet");
      const out = await ec2.send(
        new RunInstancesCommand({
          ImageId: "ami-12c6146b",
          InstanceType: "t3.medium",
          MinCount: 1,
          MaxCount: 1,
          SubnetId: subnet.id,
          SecurityGroupIds: [nodeSecurityGroupId],
          TagSpecifications: tagSpec("instance", { [clusterTag]: "owned" }),
        }),
      );
      const inst = required(out.Instances?.[0], "instance");
      const w = toWorldInstance(inst, zone, subnet.id, { ...options.nodeLabels, ...labels });
      running.push(w);
      added.push(w);
    }
    return added;
  };

  await addNodes(options.nodes ?? 2);

  return {
    clusterId,
    vpcId,
    vpcCidr,
    publicSubnets,
    internalSubnets,
    nodeSecurityGroupId,
    instances: () => [...running],
    nodes: () => running.map(nodeObject),
    addNodes,
    async removeNode(nodeName: string): Promise<void> {
      const index = running.findIndex((w) => w.nodeName === nodeName);
      const w = running[index];
      if (!w) throw new AwsWorldError(`no node ${nodeName}`);
      await ec2.send(new TerminateInstancesCommand({ InstanceIds: [w.instanceId] }));
      running.splice(index, 1);
    },
    async nodeSecurityGroupRules(): Promise<SecurityGroupRule[]> {
      const out = await ec2.send(
        new DescribeSecurityGroupRulesCommand({
          Filters: [{ Name: "group-id", Values: [nodeSecurityGroupId] }],
        }),
      );
      return (out.SecurityGroupRules ?? []).filter((r) => r.IsEgress !== true);
    },
  };
}

/** The Node a kubelet with the AWS cloud provider registers for an instance. */
export function nodeObject(w: WorldInstance): V1Node {
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name: w.nodeName,
      labels: {
        "kubernetes.io/hostname": w.nodeName,
        "kubernetes.io/os": "linux",
        "node.kubernetes.io/instance-type": "t3.medium",
        "topology.kubernetes.io/region": "us-east-1",
        "topology.kubernetes.io/zone": w.availabilityZone,
        ...w.labels,
      },
    },
    spec: { providerID: `aws:///${w.availabilityZone}/${w.instanceId}` },
    status: {
      addresses: [
        { type: "InternalIP", address: w.privateIp },
        { type: "InternalDNS", address: w.nodeName },
        { type: "Hostname", address: w.nodeName },
      ],
      conditions: [{ type: "Ready", status: "True" }],
    },
  };
}

/** Whose resources listOwned returns: a cluster's, or one Service's (namespace + name, optionally uid). */
export interface OwnerFilter {
  readonly clusterId: string;
  readonly namespace?: string;
  readonly name?: string;
  readonly uid?: string;
}

/** Everything tagged as owned (aws-types.ts ownershipTags) by the filter's owner. */
export interface OwnedResources {
  readonly loadBalancers: string[];
  readonly classicLoadBalancers: string[];
  readonly targetGroups: string[];
  readonly listeners: string[];
  readonly securityGroups: string[];
}

type Tags = Record<string, string>;

function tagMap(tags: readonly { Key?: string | undefined; Value?: string | undefined }[] | undefined): Tags {
  const out: Tags = {};
  for (const t of tags ?? []) if (t.Key !== undefined) out[t.Key] = t.Value ?? "";
  return out;
}

function ownedBy(filter: OwnerFilter): (tags: Tags) => boolean {
  return (tags) =>
    tags[TAG_CLUSTER] === filter.clusterId &&
    (filter.namespace === undefined ||
      filter.name === undefined ||
      tags[TAG_STACK] === `${filter.namespace}/${filter.name}`) &&
    (filter.uid === undefined || tags[TAG_SERVICE_UID] === filter.uid);
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Follows a Marker/NextToken paginated describe to the end, collecting the defined ids. */
async function pages<O>(
  page: (marker: string | undefined) => Promise<O>,
  read: (out: O) => [readonly (string | undefined)[], string | undefined],
): Promise<string[]> {
  const ids: string[] = [];
  let marker: string | undefined;
  do {
    const [items, next] = read(await page(marker));
    for (const id of items) if (id !== undefined) ids.push(id);
    marker = next;
  } while (marker);
  return ids;
}

/**
 * Lists, by tags, every ELBv2 load balancer, target group and listener, classic ELB and security group the
 * owner holds, so tests can assert that nothing owned remains after a delete. Reads the whole (test) account.
 */
export async function listOwned(clients: AwsClients, filter: OwnerFilter): Promise<OwnedResources> {
  const match = ownedBy(filter);

  const lbArns = await pages(
    (Marker) => clients.elbv2.send(new DescribeLoadBalancersCommand({ Marker })),
    (o) => [(o.LoadBalancers ?? []).map((lb) => lb.LoadBalancerArn), o.NextMarker],
  );
  const tgArns = await pages(
    (Marker) => clients.elbv2.send(new DescribeTargetGroupsCommand({ Marker })),
    (o) => [(o.TargetGroups ?? []).map((tg) => tg.TargetGroupArn), o.NextMarker],
  );
  // Listeners of any load balancer: an owned listener could sit on a load balancer someone else tagged.
  const listenerArns: string[] = [];
  for (const LoadBalancerArn of lbArns) {
    listenerArns.push(
      ...(await pages(
        (Marker) => clients.elbv2.send(new DescribeListenersCommand({ LoadBalancerArn, Marker })),
        (o) => [(o.Listeners ?? []).map((l) => l.ListenerArn), o.NextMarker],
      )),
    );
  }

  const ownedV2 = new Set<string>();
  for (const batch of chunks([...lbArns, ...tgArns, ...listenerArns], 20)) {
    const out = await clients.elbv2.send(new DescribeTagsCommand({ ResourceArns: batch }));
    for (const d of out.TagDescriptions ?? []) if (d.ResourceArn && match(tagMap(d.Tags))) ownedV2.add(d.ResourceArn);
  }

  const classicNames = await pages(
    (Marker) => clients.elb.send(new DescribeClassicCommand({ Marker })),
    (o) => [(o.LoadBalancerDescriptions ?? []).map((lb) => lb.LoadBalancerName), o.NextMarker],
  );
  const classicLoadBalancers: string[] = [];
  for (const batch of chunks(classicNames, 20)) {
    const out = await clients.elb.send(new DescribeClassicTagsCommand({ LoadBalancerNames: batch }));
    for (const d of out.TagDescriptions ?? []) {
      if (d.LoadBalancerName && match(tagMap(d.Tags))) classicLoadBalancers.push(d.LoadBalancerName);
    }
  }

  const securityGroups: string[] = [];
  let token: string | undefined;
  do {
    const out = await clients.ec2.send(new DescribeSecurityGroupsCommand({ NextToken: token }));
    for (const g of out.SecurityGroups ?? []) if (g.GroupId && match(tagMap(g.Tags))) securityGroups.push(g.GroupId);
    token = out.NextToken;
  } while (token);

  return {
    loadBalancers: lbArns.filter((a) => ownedV2.has(a)),
    classicLoadBalancers,
    targetGroups: tgArns.filter((a) => ownedV2.has(a)),
    listeners: listenerArns.filter((a) => ownedV2.has(a)),
    securityGroups,
  };
}

/** True when listOwned found nothing. */
export function isEmpty(owned: OwnedResources): boolean {
  return Object.values(owned).every((list: string[]) => list.length === 0);
}
