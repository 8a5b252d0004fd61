/**
 * The whole AWS provider (awsProviderFor: annotations, environment, security groups, NLB/classic ELB deployers)
 * against moto in server mode through the real SDK v3 clients, wrapped by the call aws.recorder. No apiserver: specs
 * come from deriveSpec over fixture Services/EndpointSlices and the world's Nodes. For NLB instance targets, NLB ip
 * targets and classic ELB: create, asserting load balancer, targets, listeners and security groups. The provider
 * contract for the same three (a second ensure makes no mutating call, delete is idempotent and leaves nothing, a
 * stopped create leaks nothing) is in contract-aws.test.ts; updates are in aws-provider-updates.test.ts.
 */
import {
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import {
  DescribeLoadBalancersCommand as DescribeClassicCommand,
  type LoadBalancerDescription,
} from "@aws-sdk/client-elastic-load-balancing";
import type { V1EndpointSlice, V1Service } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { deriveSpec } from "../../src/model/derive-spec.js";
import type { LoadBalancerId, LoadBalancerSpec } from "../../src/provider.js";
import { backendSecurityGroupName, loadBalancerName, securityGroupName } from "../../providers/aws/names.js";
import { freshAwsWorldPerTest, frontendRulesOf, groupIdByName } from "../env/aws-test-world.js";
import { newEndpointSlice, newService, tweakAnnotation, tweakPodMode, tweakPorts } from "../fixtures/services.js";

const CLUSTER = `prov${process.pid}`;
const A = "service.beta.kubernetes.io/aws-load-balancer-";
const signal = new AbortController().signal;

const aws = freshAwsWorldPerTest({ clusterId: CLUSTER, nodes: 2 });

const twoPorts = tweakPorts(
  { name: "http", protocol: "TCP", port: 80, targetPort: 8080, nodePort: 30080 },
  { name: "https", protocol: "TCP", port: 443, targetPort: 8443, nodePort: 30443 },
);
const specOf = (svc: V1Service, slices: V1EndpointSlice[] = []): LoadBalancerSpec =>
  deriveSpec(svc, slices, aws.world.nodes(), { clusterId: CLUSTER });

async function ensure(spec: LoadBalancerSpec) {
  aws.recorder.reset();
  const status = await aws.provider.ensure(spec, signal);
  return { status, mutating: aws.recorder.byOperation({ mutating: true }) };
}

/** A second ensure with the same spec: no mutating call; prints the describes it made, by operation. */
async function expectNoOp(spec: LoadBalancerSpec, label: string): Promise<void> {
  const { mutating } = await ensure(spec);
  expect(mutating, `${label}: mutating calls on an unchanged ensure`).toEqual({});
  const describes = aws.recorder.byOperation({ mutating: false, qualified: true });
  console.log(
    `[aws-provider] no-op ensure, ${label}: ${aws.recorder.count()} describe calls ${JSON.stringify(describes)}`,
  );
}

async function nlb(id: LoadBalancerId) {
  const out = await aws.raw.elbv2.send(
    new DescribeLoadBalancersCommand({ Names: [loadBalancerName(id, "nlb", "internet-facing")] }),
  );
  return out.LoadBalancers![0]!;
}

/** Per listener port: [target group port, target type, sorted "id:port" targets]. */
async function nlbTargets(lbArn: string): Promise<Record<number, [number | undefined, string | undefined, string[]]>> {
  const out: Record<number, [number | undefined, string | undefined, string[]]> = {};
  for (const l of (await aws.raw.elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: lbArn }))).Listeners ??
    []) {
    const arn = l.DefaultActions![0]!.TargetGroupArn!;
    const tg = (await aws.raw.elbv2.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [arn] })))
      .TargetGroups![0]!;
    const health = await aws.raw.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn }));
    out[l.Port!] = [
      tg.Port,
      tg.TargetType,
      (health.TargetHealthDescriptions ?? []).map((d) => `${d.Target?.Id}:${d.Target?.Port}`).sort(),
    ];
  }
  return out;
}

async function clb(id: LoadBalancerId): Promise<LoadBalancerDescription> {
  const out = await aws.raw.elb.send(
    new DescribeClassicCommand({ LoadBalancerNames: [loadBalancerName(id, "clb", "internet-facing")] }),
  );
  return out.LoadBalancerDescriptions![0]!;
}

const groupId = (name: string): Promise<string> => groupIdByName(aws.raw, name);
const frontendRules = (id: LoadBalancerId): Promise<string[]> => frontendRulesOf(aws.raw, id);

/** The node group holds exactly one rule, from the shared backend group, and the load balancer carries both groups. */
async function expectSecurityGroups(id: LoadBalancerId, attached: readonly string[] | undefined): Promise<void> {
  const backend = await groupId(backendSecurityGroupName(CLUSTER));
  const frontend = await groupId(securityGroupName(id));
  expect([...(attached ?? [])].sort()).toEqual([frontend, backend].sort());
  const nodeRules = await aws.world.nodeSecurityGroupRules();
  expect(nodeRules.map((r) => [r.IpProtocol, r.ReferencedGroupInfo?.GroupId])).toEqual([["-1", backend]]);
}

const instanceTargets = (port: number) =>
  aws.world
    .instances()
    .map((w) => `${w.instanceId}:${port}`)
    .sort();
const openRules = (...ports: number[]) => [...ports.map((p) => `tcp:${p}-${p}:0.0.0.0/0`), "icmp:3-4:0.0.0.0/0"].sort();

describe("AWS provider: create", () => {
  it("NLB with instance targets: NodePorts on every node's instance", async () => {
    const spec = specOf(newService("web", tweakAnnotation(`${A}type`, "nlb"), twoPorts));
    const created = await ensure(spec);
    expect(created.mutating).toMatchObject({
      CreateLoadBalancer: 1,
      CreateTargetGroup: 2,
      CreateListener: 2,
      RegisterTargets: 2,
    });
    const lb = await nlb(spec.id);
    expect([lb.Type, lb.Scheme]).toEqual(["network", "internet-facing"]);
    expect(created.status.ingress).toEqual([
      {
        hostname: lb.DNSName!.toLowerCase(),
        ports: [
          { port: 80, protocol: "TCP" },
          { port: 443, protocol: "TCP" },
        ],
      },
    ]);
    expect(await nlbTargets(lb.LoadBalancerArn!)).toEqual({
      80: [30080, "instance", instanceTargets(30080)],
      443: [30443, "instance", instanceTargets(30443)],
    });
    expect(await frontendRules(spec.id)).toEqual(openRules(80, 443));
    await expectSecurityGroups(spec.id, lb.SecurityGroups);
  });

  it("NLB with ip targets (pod mode): ready pod addresses on the target port", async () => {
    const svc = newService("pods", tweakAnnotation(`${A}type`, "nlb"), tweakPodMode());
    const slice = newEndpointSlice(
      "pods",
      "pods-1",
      [{ name: "http", port: 8080 }],
      [{ ip: "10.0.100.10" }, { ip: "10.0.101.11" }, { ip: "10.0.100.12", ready: false }],
    );
    const spec = specOf(svc, [slice]);
    const created = await ensure(spec);
    expect(created.mutating).toMatchObject({
      CreateLoadBalancer: 1,
      CreateTargetGroup: 1,
      CreateListener: 1,
      RegisterTargets: 1,
    });
    const lb = await nlb(spec.id);
    expect(created.status.ingress[0]?.hostname).toBe(lb.DNSName!.toLowerCase());
    expect(await nlbTargets(lb.LoadBalancerArn!)).toEqual({ 80: [1, "ip", ["10.0.100.10:8080", "10.0.101.11:8080"]] });
    expect(await frontendRules(spec.id)).toEqual(openRules(80));
    await expectSecurityGroups(spec.id, lb.SecurityGroups);
  });

  it("classic ELB: listeners port -> NodePort, instances registered, TCP health check on the first NodePort", async () => {
    const spec = specOf(newService("classic", twoPorts));
    const created = await ensure(spec);
    expect(created.mutating).toMatchObject({
      CreateLoadBalancer: 1,
      ConfigureHealthCheck: 1,
      RegisterInstancesWithLoadBalancer: 1,
    });
    const lb = await clb(spec.id);
    expect(created.status.ingress[0]?.hostname).toBe(lb.DNSName!.toLowerCase());
    expect(
      (lb.ListenerDescriptions ?? []).map((d) => [d.Listener?.LoadBalancerPort, d.Listener?.InstancePort]).sort(),
    ).toEqual([
      [443, 30443],
      [80, 30080],
    ]);
    expect((lb.Instances ?? []).map((i) => i.InstanceId).sort()).toEqual(
      aws.world
        .instances()
        .map((w) => w.instanceId)
        .sort(),
    );
    expect(lb.HealthCheck?.Target).toBe("TCP:30080");
    expect(await frontendRules(spec.id)).toEqual(openRules(80, 443));
    await expectSecurityGroups(spec.id, lb.SecurityGroups);
  });

  it("target-node-labels: only the labelled nodes' instances are targets (NLB and classic ELB)", async () => {
    const [edge] = await aws.world.addNodes(1, { "node.example.com/pool": "edge" });
    const selector = tweakAnnotation(`${A}target-node-labels`, "node.example.com/pool=edge");
    const nlbSpec = specOf(newService("edge-nlb", tweakAnnotation(`${A}type`, "nlb"), selector));
    const clbSpec = specOf(newService("edge-clb", selector));
    expect(nlbSpec.backends.mode === "nodePort" && nlbSpec.backends.nodes.length).toBe(3);

    await ensure(nlbSpec);
    expect(await nlbTargets((await nlb(nlbSpec.id)).LoadBalancerArn!)).toEqual({
      80: [30080, "instance", [`${edge!.instanceId}:30080`]],
    });
    await ensure(clbSpec);
    expect((await clb(clbSpec.id)).Instances?.map((i) => i.InstanceId)).toEqual([edge!.instanceId]);
    await expectNoOp(nlbSpec, "NLB instance, target-node-labels");
  });
});
