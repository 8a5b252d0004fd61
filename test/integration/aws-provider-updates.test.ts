/**
 * Updates through the whole AWS provider (awsProviderFor) against moto in server mode, counted: source ranges,
 * nodes joining and leaving, endpoints moving in ip mode, annotation changes (additional-resource-tags,
 * cross-zone). Each update asserts the resulting AWS resources and that only the writes the change needs were
 * made; afterwards an ensure with the same spec makes no mutating call. Create/no-op/delete are in
 * aws-provider.test.ts.
 */
import {
  DescribeListenersCommand,
  DescribeLoadBalancerAttributesCommand,
  DescribeLoadBalancersCommand,
  DescribeTagsCommand,
  DescribeTargetHealthCommand,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import {
  DescribeLoadBalancerAttributesCommand as DescribeClassicAttributesCommand,
  DescribeLoadBalancersCommand as DescribeClassicCommand,
  DescribeTagsCommand as DescribeClassicTagsCommand,
} from "@aws-sdk/client-elastic-load-balancing";
import type { V1EndpointSlice, V1Service } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { deriveSpec } from "../../src/model/derive-spec.js";
import type { LoadBalancerId, LoadBalancerSpec } from "../../src/provider.js";
import { backendSecurityGroupName, loadBalancerName } from "../../providers/aws/names.js";
import { freshAwsWorldPerTest, frontendRulesOf, groupIdByName } from "../env/aws-test-world.js";
import {
  newEndpointSlice,
  newService,
  tweakAnnotation,
  tweakPodMode,
  tweakSourceRanges,
  type EndpointFixture,
} from "../fixtures/services.js";

const CLUSTER = `upd${process.pid}`;
const A = "service.beta.kubernetes.io/aws-load-balancer-";
const TAGS = `${A}additional-resource-tags`;
const CROSS_ZONE = `${A}cross-zone-load-balancing-enabled`;
const signal = new AbortController().signal;

const aws = freshAwsWorldPerTest({ clusterId: CLUSTER, nodes: 2 });

const nlbType = tweakAnnotation(`${A}type`, "nlb");
const specOf = (svc: V1Service, slices: V1EndpointSlice[] = []): LoadBalancerSpec =>
  deriveSpec(svc, slices, aws.world.nodes(), { clusterId: CLUSTER });
const podSlice = (...endpoints: EndpointFixture[]): V1EndpointSlice =>
  newEndpointSlice("pods", "pods-1", [{ name: "http", port: 8080 }], endpoints);

/** Ensures and returns the mutating calls it made, by operation. */
async function ensure(spec: LoadBalancerSpec): Promise<Record<string, number>> {
  aws.recorder.reset();
  await aws.provider.ensure(spec, signal);
  return aws.recorder.byOperation({ mutating: true, qualified: true });
}

async function expectNoOp(spec: LoadBalancerSpec): Promise<void> {
  expect(await ensure(spec), "an unchanged ensure after the update").toEqual({});
}

/** The NLB's ARN, its (single) listener's and target group's ARNs. */
async function nlbArns(id: LoadBalancerId): Promise<{ lb: string; listener: string; tg: string }> {
  const lbs = await aws.raw.elbv2.send(
    new DescribeLoadBalancersCommand({ Names: [loadBalancerName(id, "nlb", "internet-facing")] }),
  );
  const lb = lbs.LoadBalancers![0]!.LoadBalancerArn!;
  const listener = (await aws.raw.elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: lb }))).Listeners![0]!;
  return { lb, listener: listener.ListenerArn!, tg: listener.DefaultActions![0]!.TargetGroupArn! };
}

async function nlbTargets(id: LoadBalancerId): Promise<string[]> {
  const out = await aws.raw.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: (await nlbArns(id)).tg }));
  // "draining": deregistration in progress (moto reports terminated instances so), no longer a target.
  return (out.TargetHealthDescriptions ?? [])
    .filter((d) => d.TargetHealth?.State !== "draining")
    .map((d) => `${d.Target?.Id}:${d.Target?.Port}`)
    .sort();
}

const clbName = (id: LoadBalancerId): string => loadBalancerName(id, "clb", "internet-facing");
async function clbInstances(id: LoadBalancerId): Promise<string[]> {
  const out = await aws.raw.elb.send(new DescribeClassicCommand({ LoadBalancerNames: [clbName(id)] }));
  return (out.LoadBalancerDescriptions![0]!.Instances ?? []).map((i) => i.InstanceId!).sort();
}

const groupId = (name: string): Promise<string> => groupIdByName(aws.raw, name);
const frontendRules = (id: LoadBalancerId): Promise<string[]> => frontendRulesOf(aws.raw, id);

const rulesFor = (port: number, ...cidrs: string[]): string[] =>
  cidrs.flatMap((c) => [`tcp:${port}-${port}:${c}`, `icmp:3-4:${c}`]).sort();
const instanceIds = (): string[] =>
  aws.world
    .instances()
    .map((w) => w.instanceId)
    .sort();

async function elbv2Tags(arn: string): Promise<Record<string, string>> {
  const out = await aws.raw.elbv2.send(new DescribeTagsCommand({ ResourceArns: [arn] }));
  return Object.fromEntries((out.TagDescriptions![0]!.Tags ?? []).map((t) => [t.Key!, t.Value!]));
}

describe("AWS provider: updates", () => {
  it("source ranges: each load balancer's frontend rules follow; the node group keeps one rule from the backend group", async () => {
    const web = newService("web", nlbType, tweakSourceRanges("203.0.113.0/24"));
    const classic = newService("classic", tweakSourceRanges("198.51.100.0/24"));
    await ensure(specOf(web));
    await ensure(specOf(classic));
    expect(await frontendRules(specOf(web).id)).toEqual(rulesFor(80, "203.0.113.0/24"));
    expect(await frontendRules(specOf(classic).id)).toEqual(rulesFor(80, "198.51.100.0/24"));

    const moved = specOf(newService("web", nlbType, tweakSourceRanges("198.51.100.0/25", "192.0.2.0/24")));
    expect(await ensure(moved)).toEqual({
      "ec2:AuthorizeSecurityGroupIngress": 1,
      "ec2:RevokeSecurityGroupIngress": 1,
    });
    const order = aws.recorder.calls({ mutating: true }).map((c) => c.operation);
    expect(order, "authorize before revoke: a moved range is never closed in between").toEqual([
      "AuthorizeSecurityGroupIngress",
      "RevokeSecurityGroupIngress",
    ]);
    expect(await frontendRules(moved.id)).toEqual(rulesFor(80, "198.51.100.0/25", "192.0.2.0/24"));
    expect(await frontendRules(specOf(classic).id), "the other load balancer's rules are untouched").toEqual(
      rulesFor(80, "198.51.100.0/24"),
    );
    const backend = await groupId(backendSecurityGroupName(CLUSTER));
    expect(
      (await aws.world.nodeSecurityGroupRules()).map((r) => [r.IpProtocol, r.ReferencedGroupInfo?.GroupId, r.CidrIpv4]),
    ).toEqual([["-1", backend, undefined]]);
    await expectNoOp(moved);
  });

  it("nodes joining and leaving: instance targets follow with one register or deregister call (NLB and classic ELB)", async () => {
    const nlbSvc = newService("web", nlbType);
    const clbSvc = newService("classic");
    await ensure(specOf(nlbSvc));
    await ensure(specOf(clbSvc));
    const nlbId = specOf(nlbSvc).id;
    const clbId = specOf(clbSvc).id;
    const expectTargets = async (ids: string[]): Promise<void> => {
      expect(await nlbTargets(nlbId)).toEqual(ids.map((i) => `${i}:30080`));
      expect(await clbInstances(clbId)).toEqual(ids);
    };
    await expectTargets(instanceIds());

    await aws.world.addNodes(1);
    expect(instanceIds()).toHaveLength(3);
    expect(await ensure(specOf(nlbSvc))).toEqual({ "elbv2:RegisterTargets": 1 });
    expect(await ensure(specOf(clbSvc))).toEqual({ "elb:RegisterInstancesWithLoadBalancer": 1 });
    await expectTargets(instanceIds());

    // A Node leaves Kubernetes (here: excluded from load balancers) while its instance keeps running.
    const [leaving] = aws.world.instances();
    const nodes = aws.world.nodes().map((n) =>
      n.metadata!.name !== leaving!.nodeName
        ? n
        : {
            ...n,
            metadata: {
              ...n.metadata,
              labels: { ...n.metadata!.labels, "node.kubernetes.io/exclude-from-external-load-balancers": "true" },
            },
          },
    );
    const without = (svc: V1Service): LoadBalancerSpec => deriveSpec(svc, [], nodes, { clusterId: CLUSTER });
    expect(await ensure(without(nlbSvc))).toEqual({ "elbv2:DeregisterTargets": 1 });
    expect(await ensure(without(clbSvc))).toEqual({ "elb:DeregisterInstancesFromLoadBalancer": 1 });
    const remaining = instanceIds().filter((i) => i !== leaving!.instanceId);
    await expectTargets(remaining);

    // The instance is then terminated: ELBv2 (and moto) deregisters a terminated instance itself, so nothing to write.
    await aws.world.removeNode(leaving!.nodeName);
    await expectNoOp(specOf(nlbSvc));
    await expectNoOp(specOf(clbSvc));

    // A node whose instance is terminated first: ELBv2 drops the target on its own (moto reports it "draining",
    // which the provider does not count as registered); the classic ELB keeps it until we deregister it.
    const gone = aws.world.instances()[0]!;
    await aws.world.removeNode(gone.nodeName);
    expect(await ensure(specOf(nlbSvc))).toEqual({});
    expect(await ensure(specOf(clbSvc))).toEqual({ "elb:DeregisterInstancesFromLoadBalancer": 1 });
    await expectTargets(instanceIds());
    await expectNoOp(specOf(nlbSvc));
    await expectNoOp(specOf(clbSvc));
  });

  it("endpoints moving in ip mode: new targets are registered before old ones are deregistered", async () => {
    const svc = newService("pods", nlbType, tweakPodMode());
    const { id } = specOf(svc, [podSlice({ ip: "10.0.100.10" }, { ip: "10.0.101.10" })]);
    await ensure(specOf(svc, [podSlice({ ip: "10.0.100.10" }, { ip: "10.0.101.10" })]));
    expect(await nlbTargets(id)).toEqual(["10.0.100.10:8080", "10.0.101.10:8080"]);

    // Every pod replaced (a rollout or selector flip, aws-load-balancer-controller#3621): never an empty group.
    const flipped = specOf(svc, [podSlice({ ip: "10.0.100.20" }, { ip: "10.0.101.20" })]);
    expect(await ensure(flipped)).toEqual({ "elbv2:RegisterTargets": 1, "elbv2:DeregisterTargets": 1 });
    expect(aws.recorder.calls({ mutating: true }).map((c) => c.operation)).toEqual([
      "RegisterTargets",
      "DeregisterTargets",
    ]);
    expect(await nlbTargets(id)).toEqual(["10.0.100.20:8080", "10.0.101.20:8080"]);

    // One pod moves, one new pod is not ready yet: only ready endpoints are targets.
    const partial = specOf(svc, [
      podSlice({ ip: "10.0.100.20" }, { ip: "10.0.101.30" }, { ip: "10.0.101.31", ready: false }),
    ]);
    expect(await ensure(partial)).toEqual({ "elbv2:RegisterTargets": 1, "elbv2:DeregisterTargets": 1 });
    expect(await nlbTargets(id)).toEqual(["10.0.100.20:8080", "10.0.101.30:8080"]);
    await expectNoOp(partial);
  });

  // aws-provider.ts validateTargets: an existing ip-mode NLB whose endpoints all go away is converged to no targets.
  it("endpoints all gone in ip mode: the target group is emptied, not the Service refused", async () => {
    const svc = newService("pods", nlbType, tweakPodMode());
    const live = specOf(svc, [podSlice({ ip: "10.0.100.10" })]);
    await ensure(live);
    const drained = specOf(svc, [podSlice({ ip: "10.0.100.10", ready: false })]);
    expect(drained.backends.mode === "pod" && drained.backends.endpoints).toEqual([]);
    expect(await ensure(drained)).toEqual({ "elbv2:DeregisterTargets": 1 });
    expect(await nlbTargets(live.id)).toEqual([]);
    expect(await ensure(live)).toEqual({ "elbv2:RegisterTargets": 1 });
    expect(await nlbTargets(live.id)).toEqual(["10.0.100.10:8080"]);
  });

  it("NLB annotations: additional-resource-tags follow on load balancer, target group and listener; cross-zone toggles", async () => {
    const plain = specOf(newService("web", nlbType));
    await ensure(plain);
    const arns = await nlbArns(plain.id);
    const crossZone = async (): Promise<string | undefined> =>
      (
        await aws.raw.elbv2.send(new DescribeLoadBalancerAttributesCommand({ LoadBalancerArn: arns.lb }))
      ).Attributes?.find((a) => a.Key === "load_balancing.cross_zone.enabled")?.Value;
    expect(await crossZone()).toBe("false");

    const tagged = specOf(newService("web", nlbType, tweakAnnotation(TAGS, "team=payments,env=test")));
    const added = await ensure(tagged);
    expect(Object.keys(added).sort()).toEqual(["ec2:CreateTags", "elbv2:AddTags"]);
    for (const arn of Object.values(arns))
      expect(await elbv2Tags(arn)).toMatchObject({ team: "payments", env: "test" });
    await expectNoOp(tagged);

    // RemoveTags for the keys, AddTags to clear the record of added keys (nlb-diff.ts TAG_ADDITIONAL_KEYS).
    expect(await ensure(plain)).toEqual({ "elbv2:RemoveTags": 3, "elbv2:AddTags": 3 });
    for (const arn of Object.values(arns)) {
      const tags = await elbv2Tags(arn);
      expect([tags.team, tags.env], arn).toEqual([undefined, undefined]);
      expect(tags["elbv2.k8s.aws/cluster"], "ownership tags stay").toBe(CLUSTER);
    }

    const zonal = specOf(newService("web", nlbType, tweakAnnotation(CROSS_ZONE, "true")));
    expect(await ensure(zonal)).toEqual({ "elbv2:ModifyLoadBalancerAttributes": 1 });
    expect(await crossZone()).toBe("true");
    await expectNoOp(zonal);
    expect(await ensure(specOf(newService("web", nlbType, tweakAnnotation(CROSS_ZONE, "false"))))).toEqual({
      "elbv2:ModifyLoadBalancerAttributes": 1,
    });
    expect(await crossZone()).toBe("false");
    await expectNoOp(plain);
  });

  it("classic ELB annotations: tags are added (never removed, clb-model.ts missingTags); cross-zone toggles", async () => {
    const plain = specOf(newService("classic"));
    await ensure(plain);
    const tags = async (): Promise<Record<string, string>> => {
      const out = await aws.raw.elb.send(new DescribeClassicTagsCommand({ LoadBalancerNames: [clbName(plain.id)] }));
      return Object.fromEntries((out.TagDescriptions![0]!.Tags ?? []).map((t) => [t.Key!, t.Value!]));
    };
    const crossZone = async (): Promise<boolean | undefined> =>
      (await aws.raw.elb.send(new DescribeClassicAttributesCommand({ LoadBalancerName: clbName(plain.id) })))
        .LoadBalancerAttributes?.CrossZoneLoadBalancing?.Enabled;

    const tagged = specOf(newService("classic", tweakAnnotation(TAGS, "team=payments")));
    expect(Object.keys(await ensure(tagged)).sort()).toEqual(["ec2:CreateTags", "elb:AddTags"]);
    expect(await tags()).toMatchObject({ team: "payments" });
    await expectNoOp(tagged);
    await expectNoOp(plain);
    expect((await tags()).team).toBe("payments");

    const zonal = specOf(newService("classic", tweakAnnotation(CROSS_ZONE, "true")));
    expect(await ensure(zonal)).toEqual({ "elb:ModifyLoadBalancerAttributes": 1 });
    expect(await crossZone()).toBe(true);
    await expectNoOp(zonal);
    expect(await ensure(plain)).toEqual({ "elb:ModifyLoadBalancerAttributes": 1 });
    expect(await crossZone()).toBe(false);
  });
});
