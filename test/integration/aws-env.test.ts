/**
 * The AWS test environment itself: moto in server mode, the world fixture, the fault proxy (the SDK must see
 * the error names aws-call.ts classifies) and the call counter.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  CreateSecurityGroupCommand,
  DescribeInstancesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
} from "@aws-sdk/client-ec2";
import {
  CreateLoadBalancerCommand as CreateClassicCommand,
  DescribeLoadBalancersCommand as DescribeClassicCommand,
} from "@aws-sdk/client-elastic-load-balancing";
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DeleteLoadBalancerCommand,
  DeleteTargetGroupCommand,
  DescribeLoadBalancersCommand,
  DescribeTargetGroupsCommand,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { RetryAfterError } from "../../src/errors.js";
import { awsCall, errorCode, isThrottling, isTransient, statusOf } from "../../providers/aws/aws-call.js";
import { ownershipTags, type AwsClients } from "../../providers/aws/aws-types.js";
import type { LoadBalancerId } from "../../src/provider.js";
import { countCalls, isMutating } from "../env/aws-call-counter.js";
import { startAwsFaultProxy, type AwsFaultProxy } from "../env/aws-fault-proxy.js";
import { createAwsWorld, isEmpty, listOwned, type AwsWorld } from "../env/aws-world.js";
import { startMoto, type MotoServer } from "../env/moto.js";

const CLUSTER = `c${process.pid}`;
const idOf = (name: string): LoadBalancerId => ({
  clusterId: CLUSTER,
  namespace: "default",
  name,
  uid: `uid-${name}`,
  shortName: `a${name}`,
});
const tagList = (tags: Record<string, string>): { Key: string; Value: string }[] =>
  Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

let moto: MotoServer;
let clients: AwsClients;
let world: AwsWorld;

beforeAll(async () => {
  moto = await startMoto();
  clients = moto.clients();
});
afterAll(async () => {
  await moto.stop();
});

describe("moto and the world", () => {
  beforeAll(async () => {
    world = await createAwsWorld(clients, { clusterId: CLUSTER, zones: ["us-east-1a", "us-east-1b"], nodes: 3 });
  });

  it("creates tagged subnets per zone in its own VPC", async () => {
    const vpcs = await clients.ec2.send(new DescribeVpcsCommand({ VpcIds: [world.vpcId] }));
    expect(vpcs.Vpcs?.[0]?.CidrBlock).toBe("10.0.0.0/16");
    const out = await clients.ec2.send(
      new DescribeSubnetsCommand({
        Filters: [
          { Name: "tag:kubernetes.io/role/elb", Values: ["1"] },
          { Name: `tag:kubernetes.io/cluster/${CLUSTER}`, Values: ["shared"] },
        ],
      }),
    );
    expect((out.Subnets ?? []).map((s) => [s.SubnetId, s.AvailabilityZone, s.VpcId]).sort()).toEqual(
      world.publicSubnets.map((s) => [s.id, s.availabilityZone, world.vpcId]).sort(),
    );
    const internal = await clients.ec2.send(
      new DescribeSubnetsCommand({
        Filters: [{ Name: "tag:kubernetes.io/role/internal-elb", Values: ["1"] }],
      }),
    );
    expect((internal.Subnets ?? []).map((s) => s.SubnetId).sort()).toEqual(
      world.internalSubnets.map((s) => s.id).sort(),
    );
  });

  it("tags the node security group owned and runs the instances in it", async () => {
    const sgs = await clients.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [world.nodeSecurityGroupId] }));
    expect(sgs.SecurityGroups?.[0]?.Tags).toContainEqual({ Key: `kubernetes.io/cluster/${CLUSTER}`, Value: "owned" });
    const ids = world.instances().map((w) => w.instanceId);
    expect(ids).toHaveLength(3);
    const out = await clients.ec2.send(new DescribeInstancesCommand({ InstanceIds: ids }));
    const instances = (out.Reservations ?? []).flatMap((r) => r.Instances ?? []);
    for (const w of world.instances()) {
      const inst = instances.find((i) => i.InstanceId === w.instanceId);
      expect(inst?.PrivateIpAddress).toBe(w.privateIp);
      expect(inst?.Placement?.AvailabilityZone).toBe(w.availabilityZone);
      expect(inst?.SecurityGroups?.map((g) => g.GroupId)).toEqual([world.nodeSecurityGroupId]);
    }
    expect(new Set(world.instances().map((w) => w.availabilityZone))).toEqual(new Set(["us-east-1a", "us-east-1b"]));
  });

  it("describes the instances as Nodes with providerID, InternalIP and zone", () => {
    for (const [i, node] of world.nodes().entries()) {
      const w = world.instances()[i];
      expect(node.spec?.providerID).toBe(`aws:///${w?.availabilityZone}/${w?.instanceId}`);
      expect(node.status?.addresses).toContainEqual({ type: "InternalIP", address: w?.privateIp });
      expect(node.metadata?.labels?.["topology.kubernetes.io/zone"]).toBe(w?.availabilityZone);
    }
  });

  it("adds and removes nodes", async () => {
    const [added] = await world.addNodes(1, { role: "edge" });
    expect(added?.labels).toEqual({ role: "edge" });
    expect(world.nodes().map((n) => n.metadata?.name)).toContain(added?.nodeName);
    await world.removeNode(added?.nodeName ?? "");
    expect(world.instances()).toHaveLength(3);
    const out = await clients.ec2.send(new DescribeInstancesCommand({ InstanceIds: [added?.instanceId ?? ""] }));
    expect(out.Reservations?.[0]?.Instances?.[0]?.State?.Name).toMatch(/shutting-down|terminated/);
  });

  it("lists what a Service owns by tags, and only that", async () => {
    const create = async (name: string): Promise<string> => {
      const id = idOf(name);
      const lb = await clients.elbv2.send(
        new CreateLoadBalancerCommand({
          Name: `k8s-${name}`,
          Type: "network",
          Subnets: world.publicSubnets.map((s) => s.id),
          Tags: tagList(ownershipTags(id, "LoadBalancer")),
        }),
      );
      const lbArn = lb.LoadBalancers?.[0]?.LoadBalancerArn ?? "";
      const tg = await clients.elbv2.send(
        new CreateTargetGroupCommand({
          Name: `k8s-${name}-80`,
          Protocol: "TCP",
          Port: 30080,
          VpcId: world.vpcId,
          TargetType: "instance",
          Tags: tagList(ownershipTags(id, "default/x:80")),
        }),
      );
      await clients.elbv2.send(
        new CreateListenerCommand({
          LoadBalancerArn: lbArn,
          Protocol: "TCP",
          Port: 80,
          Tags: tagList(ownershipTags(id, "default/x:80")),
          DefaultActions: [{ Type: "forward", TargetGroupArn: tg.TargetGroups?.[0]?.TargetGroupArn ?? "" }],
        }),
      );
      await clients.ec2.send(
        new CreateSecurityGroupCommand({
          GroupName: `k8s-${name}`,
          Description: "frontend",
          VpcId: world.vpcId,
          TagSpecifications: [
            { ResourceType: "security-group", Tags: tagList(ownershipTags(id, "ManagedLBSecurityGroup")) },
          ],
        }),
      );
      await clients.elb.send(
        new CreateClassicCommand({
          LoadBalancerName: `clb-${name}`,
          Subnets: world.publicSubnets.map((s) => s.id),
          Listeners: [{ Protocol: "TCP", LoadBalancerPort: 80, InstancePort: 30080 }],
          Tags: tagList(ownershipTags(id, "LoadBalancer")),
        }),
      );
      return lbArn;
    };
    const arnA = await create("svca");
    await create("svcb");

    const a = await listOwned(clients, { clusterId: CLUSTER, namespace: "default", name: "svca" });
    expect(a.loadBalancers).toEqual([arnA]);
    expect(a.targetGroups).toHaveLength(1);
    expect(a.listeners).toHaveLength(1);
    expect(a.securityGroups).toHaveLength(1);
    expect(a.classicLoadBalancers).toEqual(["clb-svca"]);
    expect(isEmpty(a)).toBe(false);
    const all = await listOwned(clients, { clusterId: CLUSTER });
    expect(all.loadBalancers).toHaveLength(2);
    // The world's own node group is kubernetes.io/cluster-owned but carries no provider ownership tags.
    expect(all.securityGroups).not.toContain(world.nodeSecurityGroupId);

    await clients.elbv2.send(new DeleteLoadBalancerCommand({ LoadBalancerArn: arnA }));
    await clients.elbv2.send(new DeleteTargetGroupCommand({ TargetGroupArn: a.targetGroups[0] ?? "" }));
    const after = await listOwned(clients, { clusterId: CLUSTER, namespace: "default", name: "svca" });
    expect(after.loadBalancers).toEqual([]);
    expect(after.targetGroups).toEqual([]);
    expect(after.listeners).toEqual([]);
    expect(after.securityGroups).toHaveLength(1);
  });
});

describe("fault proxy", () => {
  let proxy: AwsFaultProxy;
  let via: AwsClients;
  beforeAll(async () => {
    proxy = await startAwsFaultProxy(moto.endpoint);
    via = moto.clients(proxy.endpoint);
  });
  afterAll(async () => {
    await proxy.stop();
  });
  beforeEach(() => {
    proxy.clearFaults();
    proxy.clearSeen();
  });

  const failure = async (p: Promise<unknown>): Promise<unknown> =>
    p.then(
      () => {
        throw new Error("call succeeded");
      },
      (e: unknown) => e,
    );

  it("passes calls through and records the operation per API", async () => {
    await via.elbv2.send(new DescribeLoadBalancersCommand({}));
    await via.elb.send(new DescribeClassicCommand({}));
    await via.ec2.send(new DescribeVpcsCommand({}));
    expect(proxy.seen()).toEqual([
      { api: "elbv2", operation: "DescribeLoadBalancers", fault: undefined, forwarded: true },
      { api: "elb", operation: "DescribeLoadBalancers", fault: undefined, forwarded: true },
      { api: "ec2", operation: "DescribeVpcs", fault: undefined, forwarded: true },
    ]);
  });

  it("throttles ELBv2 and classic ELB as Throttling, EC2 as RequestLimitExceeded, one-shot", async () => {
    proxy.inject("DescribeLoadBalancers", "throttle", { api: "elbv2" });
    proxy.inject("DescribeLoadBalancers", "throttle", { api: "elb" });
    proxy.inject("DescribeVpcs", "throttle");
    const v2 = await failure(via.elbv2.send(new DescribeLoadBalancersCommand({})));
    const v1 = await failure(via.elb.send(new DescribeClassicCommand({})));
    const ec2 = await failure(via.ec2.send(new DescribeVpcsCommand({})));
    expect([errorCode(v2), statusOf(v2)]).toEqual(["Throttling", 400]);
    expect([errorCode(v1), statusOf(v1)]).toEqual(["Throttling", 400]);
    expect([errorCode(ec2), statusOf(ec2)]).toEqual(["RequestLimitExceeded", 503]);
    for (const e of [v2, v1, ec2]) expect(isThrottling(e)).toBe(true);
    // One-shot: the next call goes through.
    await via.elbv2.send(new DescribeLoadBalancersCommand({}));
    expect(proxy.pendingFaults()).toEqual([]);
    await expect(
      awsCall("DescribeVpcs", () => via.ec2.send(new DescribeVpcsCommand({}))).then(() => "ok"),
    ).resolves.toBe("ok");
  });

  it("N-shot faults and awsCall turns throttling into RetryAfterError", async () => {
    proxy.inject("DescribeTargetGroups", "throttle", { times: 2 });
    const call = (): Promise<unknown> =>
      awsCall("DescribeTargetGroups", () => via.elbv2.send(new DescribeTargetGroupsCommand({})));
    await expect(call()).rejects.toBeInstanceOf(RetryAfterError);
    await expect(call()).rejects.toBeInstanceOf(RetryAfterError);
    await expect(call()).resolves.toBeDefined();
    expect(proxy.seen().map((s) => s.fault)).toEqual(["throttle", "throttle", undefined]);
  });

  it("answers 500 with the API's internal error, which awsCall retries", async () => {
    proxy.inject("DescribeLoadBalancers", "server-error", { api: "elbv2" });
    const err = await failure(via.elbv2.send(new DescribeLoadBalancersCommand({})));
    expect([errorCode(err), statusOf(err), isTransient(err)]).toEqual(["InternalFailure", 500, true]);
    proxy.inject("DescribeVpcs", "server-error");
    const ec2 = await failure(via.ec2.send(new DescribeVpcsCommand({})));
    expect([errorCode(ec2), statusOf(ec2)]).toEqual(["InternalError", 500]);
    proxy.clearSeen();
    proxy.inject("DescribeLoadBalancers", "server-error", { api: "elbv2" });
    await awsCall("DescribeLoadBalancers", () => via.elbv2.send(new DescribeLoadBalancersCommand({})));
    expect(proxy.seen().map((s) => [s.fault, s.forwarded])).toEqual([
      ["server-error", false],
      [undefined, true],
    ]);
  });

  it("drops the connection before forwarding: a network error, nothing created", async () => {
    proxy.inject("CreateTargetGroup", "drop-before");
    const err = await failure(
      via.elbv2.send(
        new CreateTargetGroupCommand({
          Name: "drop-before",
          Protocol: "TCP",
          Port: 30001,
          VpcId: world.vpcId,
          TargetType: "instance",
        }),
      ),
    );
    // The SDK's node handler names a reset socket TimeoutError with code ECONNRESET; isTransient takes both.
    expect([statusOf(err), errorCode(err), (err as { code?: string }).code]).toEqual([
      undefined,
      "TimeoutError",
      "ECONNRESET",
    ]);
    expect(isTransient(err)).toBe(true);
    expect(proxy.seen()).toEqual([
      { api: "elbv2", operation: "CreateTargetGroup", fault: "drop-before", forwarded: false },
    ]);
    const tgs = await clients.elbv2.send(new DescribeTargetGroupsCommand({}));
    expect(tgs.TargetGroups?.map((t) => t.TargetGroupName)).not.toContain("drop-before");
  });

  it("drops the connection after moto performed the create: the caller errs, the resource exists", async () => {
    proxy.inject("CreateTargetGroup", "drop-after");
    const err = await failure(
      via.elbv2.send(
        new CreateTargetGroupCommand({
          Name: "drop-after",
          Protocol: "TCP",
          Port: 30002,
          VpcId: world.vpcId,
          TargetType: "instance",
        }),
      ),
    );
    // The SDK's node handler names a reset socket TimeoutError with code ECONNRESET; isTransient takes both.
    expect([statusOf(err), errorCode(err), (err as { code?: string }).code]).toEqual([
      undefined,
      "TimeoutError",
      "ECONNRESET",
    ]);
    expect(isTransient(err)).toBe(true);
    expect(proxy.seen()).toEqual([
      { api: "elbv2", operation: "CreateTargetGroup", fault: "drop-after", forwarded: true },
    ]);
    const tgs = await clients.elbv2.send(new DescribeTargetGroupsCommand({}));
    expect(tgs.TargetGroups?.map((t) => t.TargetGroupName)).toContain("drop-after");
    // The same client keeps working after its socket was destroyed.
    await via.elbv2.send(new DescribeTargetGroupsCommand({}));
  });

  it("delays a call", async () => {
    proxy.inject("DescribeVpcs", { kind: "delay", ms: 300 });
    const t0 = Date.now();
    await via.ec2.send(new DescribeVpcsCommand({}));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
  });
});

describe("call counter", () => {
  it("counts sends by operation, classifies mutating calls and resets", async () => {
    const counter = countCalls(clients);
    await counter.clients.elbv2.send(new DescribeLoadBalancersCommand({}));
    await counter.clients.elbv2.send(new DescribeLoadBalancersCommand({}));
    await counter.clients.elb.send(new DescribeClassicCommand({}));
    await counter.clients.ec2.send(
      new CreateSecurityGroupCommand({ GroupName: "counted", Description: "d", VpcId: world.vpcId }),
    );
    // A failed call counts too.
    await expect(
      counter.clients.ec2.send(
        new CreateSecurityGroupCommand({ GroupName: "counted", Description: "d", VpcId: world.vpcId }),
      ),
    ).rejects.toThrow();
    // The originals are not counted.
    await clients.ec2.send(new DescribeVpcsCommand({}));

    expect(counter.byOperation()).toEqual({ DescribeLoadBalancers: 3, CreateSecurityGroup: 2 });
    expect(counter.byOperation({ qualified: true })).toEqual({
      "elbv2:DescribeLoadBalancers": 2,
      "elb:DescribeLoadBalancers": 1,
      "ec2:CreateSecurityGroup": 2,
    });
    expect(counter.count({ mutating: true })).toBe(2);
    expect(counter.count({ mutating: false, api: "elbv2" })).toBe(2);
    expect(counter.clients.ec2.config).toBe(clients.ec2.config);
    counter.reset();
    expect(counter.count()).toBe(0);
    expect(["DescribeTags", "ListTagsForResource", "GetResources"].map(isMutating)).toEqual([false, false, false]);
    expect(["ModifyTargetGroup", "RegisterTargets", "AddTags", "DeleteLoadBalancer"].map(isMutating)).toEqual([
      true,
      true,
      true,
      true,
    ]);
  });
});

describe("reset and stop", () => {
  it("reset forgets every resource", async () => {
    await moto.reset();
    const lbs = await clients.elbv2.send(new DescribeLoadBalancersCommand({}));
    expect(lbs.LoadBalancers ?? []).toEqual([]);
    const vpcs = await clients.ec2.send(
      new DescribeVpcsCommand({ Filters: [{ Name: "vpc-id", Values: [world.vpcId] }] }),
    );
    expect(vpcs.Vpcs ?? []).toEqual([]);
    expect(isEmpty(await listOwned(clients, { clusterId: CLUSTER }))).toBe(true);
  });

  it("stop leaves no process", async () => {
    const other = await startMoto();
    const pid = other.pid ?? 0;
    expect(pid).toBeGreaterThan(0);
    expect(alive(pid)).toBe(true);
    await other.stop();
    expect(alive(pid)).toBe(false);
    await expect(fetch(`${other.endpoint}/moto-api/data.json`)).rejects.toThrow();
    await other.stop();
  });
});
