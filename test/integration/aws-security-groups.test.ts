/**
 * The managed security groups against moto in server mode: the frontend group's rule diffing (only the
 * difference is written; nothing when converged), recovery of a group created by a crashed reconcile, and the
 * bounded node rules: one backend group per cluster, referenced by exactly one node rule however many load
 * balancers there are (reference section 4, #6).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuthorizeSecurityGroupIngressCommand, DescribeSecurityGroupsCommand } from "@aws-sdk/client-ec2";
import { ownershipTags, type AwsClients } from "../../providers/aws/aws-types.js";
import { backendSecurityGroupName, securityGroupName } from "../../providers/aws/names.js";
import {
  BACKEND_RULE_DESCRIPTION,
  ensureBackendSecurityGroup,
  ensureNodeAccess,
} from "../../providers/aws/security-groups/backend-security-group.js";
import {
  FRONTEND_SG_RESOURCE,
  deleteFrontendSecurityGroup,
  ensureFrontendSecurityGroup,
} from "../../providers/aws/security-groups/frontend-security-group.js";
import { createSecurityGroup, securityGroupRules } from "../../providers/aws/security-groups/sg-api.js";
import { AwsEnvironmentResolver } from "../../providers/aws/aws-environment.js";
import { systemClock } from "../../src/util/clock.js";
import { newSpec, newSpecId } from "../../testing/new-spec.js";
import { countCalls, type CallCounter } from "../env/aws-call-counter.js";
import { createAwsWorld, listOwned, type AwsWorld } from "../env/aws-world.js";
import { startMoto, type MotoServer } from "../env/moto.js";
import { nlbConfig } from "../fixtures/aws-config.js";

const CLUSTER = `sg${process.pid}`;
const idOf = (name: string, uid?: string) => newSpecId({ name, uid, clusterId: CLUSTER });
const signal = new AbortController().signal;

let moto: MotoServer;
let raw: AwsClients;
let counter: CallCounter;
let world: AwsWorld;

beforeAll(async () => {
  moto = await startMoto();
  raw = moto.clients();
  counter = countCalls(raw);
  world = await createAwsWorld(raw, { clusterId: CLUSTER, nodes: 1 });
});
afterAll(async () => {
  await moto?.stop();
});

const ingressOf = async (groupId: string) =>
  (await securityGroupRules(raw, groupId))
    .filter((r) => !r.IsEgress)
    .map(
      (r) => `${r.IpProtocol}:${r.FromPort}-${r.ToPort}:${r.CidrIpv4 ?? r.CidrIpv6 ?? r.ReferencedGroupInfo?.GroupId}`,
    )
    .sort();

async function groupById(groupId: string) {
  const out = await raw.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [groupId] }));
  const group = out.SecurityGroups?.[0];
  if (!group) throw new Error(`no group ${groupId}`);
  const tags: Record<string, string> = {};
  for (const t of group.Tags ?? []) if (t.Key !== undefined) tags[t.Key] = t.Value ?? "";
  return { ...group, tags };
}

describe("frontend security group", () => {
  const id = idOf("front");
  const request = (sourceRanges: string[], extraTags: Record<string, string> = { team: "web" }) => ({
    id,
    vpcId: world.vpcId,
    ports: [
      { protocol: "TCP" as const, port: 80 },
      { protocol: "UDP" as const, port: 53 },
    ],
    sourceRanges,
    extraTags,
  });
  let groupId: string;

  it("is created with ownership tags, named deterministically, admitting only the ranges on the listener ports", async () => {
    counter.reset();
    groupId = await ensureFrontendSecurityGroup(
      counter.clients,
      request(["198.51.100.0/24", "203.0.113.0/24"]),
      signal,
    );
    const group = await groupById(groupId);
    expect(group.GroupName).toBe(securityGroupName(id));
    expect(group.VpcId).toBe(world.vpcId);
    expect(group.tags).toEqual({ ...ownershipTags(id, FRONTEND_SG_RESOURCE), team: "web" });
    expect(await ingressOf(groupId)).toEqual([
      "icmp:3-4:198.51.100.0/24",
      "icmp:3-4:203.0.113.0/24",
      "tcp:80-80:198.51.100.0/24",
      "tcp:80-80:203.0.113.0/24",
      "udp:53-53:198.51.100.0/24",
      "udp:53-53:203.0.113.0/24",
    ]);
    expect(counter.byOperation({ mutating: true })).toEqual({
      CreateSecurityGroup: 1,
      AuthorizeSecurityGroupIngress: 1,
    });
  });

  it("makes no mutating call when converged, and never an unfiltered DescribeSecurityGroups", async () => {
    const describes: unknown[] = [];
    raw.ec2.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === "DescribeSecurityGroupsCommand") describes.push(args.input);
        return next(args);
      },
      { step: "initialize", name: "tapDescribes" },
    );
    try {
      counter.reset();
      expect(
        await ensureFrontendSecurityGroup(counter.clients, request(["198.51.100.0/24", "203.0.113.0/24"]), signal),
      ).toBe(groupId);
      expect(counter.calls({ mutating: true })).toEqual([]);
      expect(counter.byOperation()).toEqual({ DescribeSecurityGroups: 1, DescribeSecurityGroupRules: 1 });
      expect(describes).toHaveLength(1);
      expect((describes[0] as { Filters?: unknown[] }).Filters).toContainEqual({
        Name: "vpc-id",
        Values: [world.vpcId],
      });
    } finally {
      raw.ec2.middlewareStack.remove("tapDescribes");
    }
  });

  it("authorizes only the missing rules and revokes only the extra ones when the ranges change (IPv6 gets ICMPv6)", async () => {
    counter.reset();
    await ensureFrontendSecurityGroup(counter.clients, request(["203.0.113.0/24", "2001:db8::/32"]), signal);
    expect(await ingressOf(groupId)).toEqual([
      "icmp:3-4:203.0.113.0/24",
      "icmpv6:2-0:2001:db8::/32",
      "tcp:80-80:2001:db8::/32",
      "tcp:80-80:203.0.113.0/24",
      "udp:53-53:2001:db8::/32",
      "udp:53-53:203.0.113.0/24",
    ]);
    expect(counter.byOperation({ mutating: true })).toEqual({
      AuthorizeSecurityGroupIngress: 1,
      RevokeSecurityGroupIngress: 1,
    });
  });

  it("revokes a rule someone added by hand and opens 0.0.0.0/0 when the ranges are empty", async () => {
    await raw.ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: groupId,
        IpPermissions: [{ IpProtocol: "tcp", FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: "192.0.2.0/24" }] }],
      }),
    );
    await ensureFrontendSecurityGroup(counter.clients, request([]), signal);
    expect(await ingressOf(groupId)).toEqual(["icmp:3-4:0.0.0.0/0", "tcp:80-80:0.0.0.0/0", "udp:53-53:0.0.0.0/0"]);
  });

  it("adds a changed additional tag without touching the rules", async () => {
    counter.reset();
    await ensureFrontendSecurityGroup(counter.clients, request([], { team: "payments" }), signal);
    expect((await groupById(groupId)).tags.team).toBe("payments");
    expect(counter.byOperation({ mutating: true })).toEqual({ CreateTags: 1 });
  });

  it("adopts a tagged group left without rules by a crash between create and authorize", async () => {
    const crashed = idOf("crashed");
    const leftover = await createSecurityGroup(raw, {
      vpcId: world.vpcId,
      name: securityGroupName(crashed),
      description: "left over",
      tags: ownershipTags(crashed, FRONTEND_SG_RESOURCE),
    });
    counter.reset();
    const got = await ensureFrontendSecurityGroup(
      counter.clients,
      { ...request([]), id: crashed, extraTags: {} },
      signal,
    );
    expect(got).toBe(leftover);
    expect(counter.byOperation({ mutating: true })).toEqual({ AuthorizeSecurityGroupIngress: 1 });
    await deleteFrontendSecurityGroup(raw, crashed, signal);
  });

  it("delete removes only this Service's group and is idempotent", async () => {
    const other = idOf("other");
    const otherGroup = await ensureFrontendSecurityGroup(raw, { ...request([]), id: other }, signal);
    await deleteFrontendSecurityGroup(counter.clients, id, signal);
    expect(
      (await listOwned(raw, { clusterId: CLUSTER, namespace: id.namespace, name: id.name })).securityGroups,
    ).toEqual([]);
    counter.reset();
    await deleteFrontendSecurityGroup(counter.clients, id, signal);
    expect(counter.calls({ mutating: true })).toEqual([]);
    expect((await groupById(otherGroup)).GroupId).toBe(otherGroup);
    await deleteFrontendSecurityGroup(raw, other, signal);
  });
});

describe("backend security group and node access", () => {
  it("adds one node rule for any number of load balancers", async () => {
    const before = await ingressOf(world.nodeSecurityGroupId);
    expect(before).toEqual([]);
    counter.reset();
    const backends = new Set<string>();
    for (let i = 0; i < 6; i++) {
      await ensureFrontendSecurityGroup(
        counter.clients,
        {
          id: idOf(`svc${i}`),
          vpcId: world.vpcId,
          ports: [
            { protocol: "TCP", port: 80 + i },
            { protocol: "TCP", port: 443 },
          ],
          sourceRanges: [`198.51.100.${i * 16}/28`, "203.0.113.0/24"],
          extraTags: {},
        },
        signal,
      );
      const backend = await ensureBackendSecurityGroup(
        counter.clients,
        { clusterId: CLUSTER, vpcId: world.vpcId },
        signal,
      );
      await ensureNodeAccess(counter.clients, world.nodeSecurityGroupId, backend, signal);
      backends.add(backend);
    }
    expect(backends.size).toBe(1);
    const [backend] = [...backends];
    expect(await ingressOf(world.nodeSecurityGroupId)).toEqual([`-1:-1--1:${backend}`]);
    // moto's DescribeSecurityGroupRules drops the description of group-referencing rules; the group's
    // IpPermissions keep it.
    const nodeGroup = await groupById(world.nodeSecurityGroupId);
    expect(
      nodeGroup.IpPermissions?.flatMap((p) => p.UserIdGroupPairs ?? []).map((p) => [p.GroupId, p.Description]),
    ).toEqual([[backend, BACKEND_RULE_DESCRIPTION]]);
    // 6 frontends + 1 backend group; 6 frontend rule sets + 1 node rule.
    expect(counter.byOperation({ mutating: true })).toEqual({
      CreateSecurityGroup: 7,
      AuthorizeSecurityGroupIngress: 7,
    });

    const group = await groupById(backend!);
    expect(group.GroupName).toBe(backendSecurityGroupName(CLUSTER));
    expect(group.tags).toEqual({
      "elbv2.k8s.aws/cluster": CLUSTER,
      "service.k8s.aws/resource": "BackendSecurityGroup",
    });
    expect(await ingressOf(backend!)).toEqual([]);
  });

  it("is one group per cluster", async () => {
    const mine = await ensureBackendSecurityGroup(raw, { clusterId: CLUSTER, vpcId: world.vpcId }, signal);
    const theirs = await ensureBackendSecurityGroup(raw, { clusterId: `${CLUSTER}-b`, vpcId: world.vpcId }, signal);
    expect(theirs).not.toBe(mine);
    expect(await ensureBackendSecurityGroup(raw, { clusterId: `${CLUSTER}-b`, vpcId: world.vpcId }, signal)).toBe(
      theirs,
    );
  });
});

describe("the nodes' security group", () => {
  it("is found by a resolver started after frontend groups exist, which carry the cluster's owned tag too (a restart)", async () => {
    // Several load balancers' groups, each tagged kubernetes.io/cluster/<id>=owned like the nodes' group.
    for (const name of ["restart-a", "restart-b", "restart-c", "restart-d", "restart-e", "restart-f", "restart-g"]) {
      await ensureFrontendSecurityGroup(
        raw,
        { id: idOf(name), vpcId: world.vpcId, ports: [{ protocol: "TCP", port: 80 }], sourceRanges: [], extraTags: {} },
        signal,
      );
    }
    const owned = await raw.ec2.send(
      new DescribeSecurityGroupsCommand({
        Filters: [
          { Name: "vpc-id", Values: [world.vpcId] },
          { Name: `tag:kubernetes.io/cluster/${CLUSTER}`, Values: ["owned"] },
        ],
      }),
    );
    expect((owned.SecurityGroups ?? []).length).toBeGreaterThan(3);
    const spec = newSpec({ clusterId: CLUSTER });
    const env = await new AwsEnvironmentResolver(raw, systemClock).resolve(spec, nlbConfig(), signal);
    expect(env.nodeSecurityGroupId).toBe(world.nodeSecurityGroupId);
  });
});
