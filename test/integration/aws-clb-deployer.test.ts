/**
 * The classic ELB deployer against moto in server mode through the real SDK v3 clients: create, a no-op second
 * ensure (zero mutating calls, counted on the wrapped clients), updates (ports, nodes, source ranges, traffic
 * policy, attributes, proxy protocol, scheme), a foreign load balancer with our name, and delete.
 * The security groups come from security-groups/ as the provider wires them (frontend + shared backend).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CreateLoadBalancerCommand,
  DescribeLoadBalancerAttributesCommand,
  DescribeLoadBalancersCommand,
  DescribeTagsCommand,
  type LoadBalancerDescription,
} from "@aws-sdk/client-elastic-load-balancing";
import { InvalidSpecError } from "../../src/errors.js";
import type { LoadBalancerSpec } from "../../src/provider.js";
import {
  TAG_CLUSTER,
  TAG_SERVICE_UID,
  TAG_STACK,
  type AwsClients,
  type AwsEnvironment,
  type AwsServiceConfig,
} from "../../providers/aws/aws-types.js";
import { ClbDeployer, ForeignLoadBalancerError } from "../../providers/aws/clb/clb-deployer.js";
import { PROXY_PROTOCOL_POLICY } from "../../providers/aws/clb/clb-model.js";
import { loadBalancerName } from "../../providers/aws/names.js";
import {
  ensureBackendSecurityGroup,
  ensureNodeAccess,
} from "../../providers/aws/security-groups/backend-security-group.js";
import {
  deleteFrontendSecurityGroup,
  ensureFrontendSecurityGroup,
} from "../../providers/aws/security-groups/frontend-security-group.js";
import { securityGroupRules } from "../../providers/aws/security-groups/sg-api.js";
import { newSpec, type NewSpecOptions } from "../../testing/new-spec.js";
import { countCalls, type CallCounter } from "../env/aws-call-counter.js";
import { createAwsWorld, isEmpty, listOwned, type AwsWorld } from "../env/aws-world.js";
import { startMoto, type MotoServer } from "../env/moto.js";
import { clbConfig } from "../fixtures/aws-config.js";

const CLUSTER = `clb${process.pid}`;
const clbSpec = (options: NewSpecOptions = {}): LoadBalancerSpec => newSpec({ clusterId: CLUSTER, ...options });
const id = clbSpec().id;
const signal = new AbortController().signal;
// moto registers IAM server-certificate ARNs without looking them up (ACM ARNs must exist in moto's ACM).
const CERT = "arn:aws:iam::123456789012:server-certificate/lb-operator-test";

let moto: MotoServer;
let raw: AwsClients;
let counter: CallCounter;
let world: AwsWorld;
let deployer: ClbDeployer;

beforeAll(async () => {
  moto = await startMoto();
  raw = moto.clients();
  counter = countCalls(raw);
  world = await createAwsWorld(raw, { clusterId: CLUSTER, nodes: 3 });
  deployer = new ClbDeployer({ clients: counter.clients });
});
afterAll(async () => {
  await moto?.stop();
});

function env(): AwsEnvironment {
  const instances = world
    .instances()
    .map((w) => ({ nodeName: w.nodeName, instanceId: w.instanceId, availabilityZone: w.availabilityZone }))
    .sort((a, b) => a.instanceId.localeCompare(b.instanceId));
  return {
    vpcId: world.vpcId,
    subnets: world.publicSubnets,
    instances,
    nodeSecurityGroupId: world.nodeSecurityGroupId,
  };
}

/** What the provider does for a classic ELB: frontend + backend groups, the node rule, then the deployer. */
async function ensure(spec: LoadBalancerSpec, config: AwsServiceConfig) {
  const c = counter.clients;
  const ports = spec.ports.map((p) => ({ protocol: "TCP" as const, port: p.port }));
  const frontend = await ensureFrontendSecurityGroup(
    c,
    { id: spec.id, vpcId: world.vpcId, ports, sourceRanges: spec.sourceRanges, extraTags: config.additionalTags },
    signal,
  );
  const backend = await ensureBackendSecurityGroup(c, { clusterId: spec.id.clusterId, vpcId: world.vpcId }, signal);
  await ensureNodeAccess(c, world.nodeSecurityGroupId, backend, signal);
  const { dnsName } = await deployer.ensure(
    { spec, config, env: env(), securityGroupIds: [frontend, backend] },
    signal,
  );
  return { dnsName, frontend, backend };
}

async function describeLb(name: string): Promise<LoadBalancerDescription> {
  const out = await raw.elb.send(new DescribeLoadBalancersCommand({ LoadBalancerNames: [name] }));
  const lb = out.LoadBalancerDescriptions?.[0];
  if (!lb) throw new Error(`no load balancer ${name}`);
  return lb;
}

async function exists(name: string): Promise<boolean> {
  return describeLb(name).then(
    () => true,
    (err: unknown) => {
      if ((err as Error).name === "AccessPointNotFoundException") return false;
      throw err;
    },
  );
}

const listeners = (lb: LoadBalancerDescription) =>
  (lb.ListenerDescriptions ?? [])
    .map((d) => d.Listener)
    .map((l) => [l?.LoadBalancerPort, l?.Protocol, l?.InstancePort, l?.InstanceProtocol, l?.SSLCertificateId])
    .sort((a, b) => Number(a[0]) - Number(b[0]));
const instanceIds = (lb: LoadBalancerDescription) => (lb.Instances ?? []).map((i) => i.InstanceId).sort();
const worldIds = () =>
  world
    .instances()
    .map((w) => w.instanceId)
    .sort();
const attributesOf = async (name: string) =>
  (await raw.elb.send(new DescribeLoadBalancerAttributesCommand({ LoadBalancerName: name }))).LoadBalancerAttributes;
const ingressOf = async (groupId: string) =>
  (await securityGroupRules(raw, groupId))
    .filter((r) => !r.IsEgress)
    .map(
      (r) => `${r.IpProtocol}:${r.FromPort}-${r.ToPort}:${r.CidrIpv4 ?? r.CidrIpv6 ?? r.ReferencedGroupInfo?.GroupId}`,
    )
    .sort();

async function noOpEnsure(spec: LoadBalancerSpec, config: AwsServiceConfig): Promise<void> {
  counter.reset();
  await ensure(spec, config);
  console.log(
    "classic ELB steady-state reconcile (security groups + deployer):",
    counter.byOperation({ qualified: true }),
  );
  expect(counter.calls({ mutating: true })).toEqual([]);
  // The deployer's share: DescribeLoadBalancers, DescribeTags, DescribeLoadBalancerAttributes.
  expect(counter.byOperation({ api: "elb" })).toEqual({
    DescribeLoadBalancers: 1,
    DescribeTags: 1,
    DescribeLoadBalancerAttributes: 1,
  });
}

describe("classic ELB deployer on moto", () => {
  const name = loadBalancerName(id, "clb", "internet-facing");
  const baseSpec = clbSpec({
    ports: [
      { port: 80, nodePort: 30080, name: "http" },
      { port: 443, nodePort: 30443, name: "https" },
    ],
  });
  const baseConfig = clbConfig({
    additionalTags: { team: "web" },
    crossZone: true,
    idleTimeoutSeconds: 300,
    proxyProtocol: true,
    connectionDraining: { enabled: true, timeoutSeconds: 120 },
    accessLog: { enabled: true, bucket: "logs", prefix: "web", emitIntervalMinutes: 5 },
    sslCertificate: CERT,
    sslPorts: [443],
    backendProtocol: "ssl",
  });
  let groups: { frontend: string; backend: string };

  it("creates the load balancer with listeners, health check, attributes, instances, tags and groups", async () => {
    counter.reset();
    const out = await ensure(baseSpec, baseConfig);
    groups = out;
    const lb = await describeLb(name);
    expect(out.dnsName).toBe(lb.DNSName);
    expect(lb.Scheme).toBe("internet-facing");
    // backend-protocol ssl on an ssl-port: SSL/SSL (cloud-provider-aws's mapping). moto echoes Protocol as
    // InstanceProtocol, so SSL->TCP would never look converged here (AWS stores it); unit tests cover that case.
    expect(listeners(lb)).toEqual([
      [80, "TCP", 30080, "TCP", undefined],
      [443, "SSL", 30443, "SSL", CERT],
    ]);
    expect(lb.HealthCheck).toEqual({
      Target: "TCP:30080",
      Interval: 10,
      Timeout: 5,
      HealthyThreshold: 2,
      UnhealthyThreshold: 6,
    });
    expect(instanceIds(lb)).toEqual(worldIds());
    expect([...(lb.Subnets ?? [])].sort()).toEqual(world.publicSubnets.map((s) => s.id).sort());
    expect([...(lb.SecurityGroups ?? [])].sort()).toEqual([out.frontend, out.backend].sort());
    expect(lb.BackendServerDescriptions?.map((b) => [b.InstancePort, b.PolicyNames]).sort()).toEqual([
      [30080, [PROXY_PROTOCOL_POLICY]],
      [30443, [PROXY_PROTOCOL_POLICY]],
    ]);
    expect(await attributesOf(name)).toMatchObject({
      CrossZoneLoadBalancing: { Enabled: true },
      ConnectionDraining: { Enabled: true, Timeout: 120 },
      ConnectionSettings: { IdleTimeout: 300 },
      AccessLog: { Enabled: true, S3BucketName: "logs", S3BucketPrefix: "web", EmitInterval: 5 },
    });
    const tags =
      (await raw.elb.send(new DescribeTagsCommand({ LoadBalancerNames: [name] }))).TagDescriptions?.[0]?.Tags ?? [];
    expect(Object.fromEntries(tags.map((t) => [t.Key, t.Value]))).toMatchObject({
      team: "web",
      [TAG_CLUSTER]: CLUSTER,
      [TAG_SERVICE_UID]: id.uid,
      [TAG_STACK]: "default/web",
      "service.k8s.aws/resource": "LoadBalancer",
    });
    expect(await ingressOf(out.frontend)).toEqual([
      "icmp:3-4:0.0.0.0/0",
      "tcp:443-443:0.0.0.0/0",
      "tcp:80-80:0.0.0.0/0",
    ]);
    expect(await ingressOf(world.nodeSecurityGroupId)).toEqual([`-1:-1--1:${out.backend}`]);
    // The new load balancer has no health check until configured (moto, reference section 6): one ConfigureHealthCheck.
    expect(counter.byOperation({ api: "elb", mutating: true })).toEqual({
      CreateLoadBalancer: 1,
      ConfigureHealthCheck: 1,
      ModifyLoadBalancerAttributes: 1,
      CreateLoadBalancerPolicy: 1,
      SetLoadBalancerPoliciesForBackendServer: 2,
      RegisterInstancesWithLoadBalancer: 1,
    });
  });

  it("makes no mutating call on a second ensure with the same input", async () => {
    await noOpEnsure(baseSpec, baseConfig);
  });

  it("converges ports, nodes, source ranges, attributes and proxy protocol with only the needed writes", async () => {
    const leaving = world.instances()[0]!;
    await world.removeNode(leaving.nodeName);
    const [joined] = await world.addNodes(1);
    const spec = clbSpec({
      ports: [
        { port: 80, nodePort: 31080, name: "http" },
        { port: 8080, nodePort: 30808, name: "alt" },
      ],
      sourceRanges: ["198.51.100.0/24", "203.0.113.0/24"],
    });
    const config = clbConfig({ ...baseConfig, proxyProtocol: false, idleTimeoutSeconds: 120 });
    counter.reset();
    await ensure(spec, config);
    const lb = await describeLb(name);
    expect(listeners(lb)).toEqual([
      [80, "TCP", 31080, "TCP", undefined],
      [8080, "TCP", 30808, "TCP", undefined],
    ]);
    expect(lb.HealthCheck?.Target).toBe("TCP:31080");
    expect(instanceIds(lb)).toEqual(worldIds());
    expect(instanceIds(lb)).toContain(joined!.instanceId);
    expect(instanceIds(lb)).not.toContain(leaving.instanceId);
    expect(lb.BackendServerDescriptions?.flatMap((b) => b.PolicyNames ?? [])).toEqual([]);
    expect((await attributesOf(name))?.ConnectionSettings).toEqual({ IdleTimeout: 120 });
    expect(await ingressOf(groups.frontend)).toEqual([
      "icmp:3-4:198.51.100.0/24",
      "icmp:3-4:203.0.113.0/24",
      "tcp:80-80:198.51.100.0/24",
      "tcp:80-80:203.0.113.0/24",
      "tcp:8080-8080:198.51.100.0/24",
      "tcp:8080-8080:203.0.113.0/24",
    ]);
    expect(await ingressOf(world.nodeSecurityGroupId)).toEqual([`-1:-1--1:${groups.backend}`]);
    expect(counter.byOperation({ mutating: true })).toEqual({
      AuthorizeSecurityGroupIngress: 1,
      RevokeSecurityGroupIngress: 1,
      DeleteLoadBalancerListeners: 2,
      CreateLoadBalancerListeners: 1,
      ConfigureHealthCheck: 1,
      ModifyLoadBalancerAttributes: 1,
      // Our policy leaves 30080 and 30443; the new NodePorts never get it.
      SetLoadBalancerPoliciesForBackendServer: 2,
      RegisterInstancesWithLoadBalancer: 1,
      DeregisterInstancesFromLoadBalancer: 1,
    });
    await noOpEnsure(spec, config);
  });

  it("registers only joining nodes and switches the health check for externalTrafficPolicy Local", async () => {
    await world.addNodes(2);
    const spec = clbSpec({
      ports: [
        { port: 80, nodePort: 31080, name: "http" },
        { port: 8080, nodePort: 30808, name: "alt" },
      ],
      sourceRanges: ["198.51.100.0/24", "203.0.113.0/24"],
      healthCheckNodePort: 32000,
    });
    const config = clbConfig({ ...baseConfig, proxyProtocol: false, idleTimeoutSeconds: 120 });
    counter.reset();
    await ensure(spec, config);
    const lb = await describeLb(name);
    expect(lb.HealthCheck?.Target).toBe("HTTP:32000/healthz");
    expect(instanceIds(lb)).toEqual(worldIds());
    expect(counter.byOperation({ mutating: true })).toEqual({
      ConfigureHealthCheck: 1,
      RegisterInstancesWithLoadBalancer: 1,
    });
    await noOpEnsure(spec, config);
  });

  it("replaces the load balancer when the scheme changes", async () => {
    const config = clbConfig({ ...baseConfig, scheme: "internal" });
    const internalName = loadBalancerName(id, "clb", "internal");
    expect(internalName).not.toBe(name);
    const out = await ensure(baseSpec, config);
    const lb = await describeLb(internalName);
    expect(lb.Scheme).toBe("internal");
    expect(out.dnsName).toBe(lb.DNSName);
    expect(await exists(name)).toBe(false);
    await noOpEnsure(baseSpec, config);
  });

  it("rejects bad input before any write", async () => {
    const udp = clbSpec({ name: "bad", ports: [{ port: 53, nodePort: 30053, protocol: "UDP" }] });
    counter.reset();
    await expect(
      deployer.ensure({ spec: udp, config: clbConfig(), env: env(), securityGroupIds: [] }, signal),
    ).rejects.toThrow(InvalidSpecError);
    const pod = clbSpec({ name: "bad", endpoints: [] });
    await expect(
      deployer.ensure({ spec: pod, config: clbConfig(), env: env(), securityGroupIds: [] }, signal),
    ).rejects.toThrow(InvalidSpecError);
    expect(counter.count()).toBe(0);
  });

  it("never modifies or deletes a same-named classic ELB without our tags", async () => {
    const foreign = clbSpec({ name: "foreign", uid: "11111111-2222-3333-4444-555555555555" });
    const foreignId = foreign.id;
    const foreignName = loadBalancerName(foreignId, "clb", "internet-facing");
    await raw.elb.send(
      new CreateLoadBalancerCommand({
        LoadBalancerName: foreignName,
        Subnets: [world.publicSubnets[0]!.id],
        Listeners: [{ Protocol: "TCP", LoadBalancerPort: 22, InstanceProtocol: "TCP", InstancePort: 30022 }],
        Tags: [{ Key: TAG_CLUSTER, Value: "someone-else" }],
      }),
    );
    counter.reset();
    await expect(
      deployer.ensure({ spec: foreign, config: clbConfig(), env: env(), securityGroupIds: [] }, signal),
    ).rejects.toThrow(ForeignLoadBalancerError);
    await deployer.delete(foreignId, signal);
    expect(counter.calls({ mutating: true })).toEqual([]);
    expect(listeners(await describeLb(foreignName))).toEqual([[22, "TCP", 30022, "TCP", undefined]]);
  });

  it("delete removes everything the Service owns and is idempotent", async () => {
    await deployer.delete(id, signal);
    await deleteFrontendSecurityGroup(counter.clients, id, signal);
    expect(await exists(loadBalancerName(id, "clb", "internal"))).toBe(false);
    expect(isEmpty(await listOwned(raw, { clusterId: CLUSTER, namespace: id.namespace, name: id.name }))).toBe(true);
    counter.reset();
    await deployer.delete(id, signal);
    await deleteFrontendSecurityGroup(counter.clients, id, signal);
    expect(counter.calls({ mutating: true })).toEqual([]);
  });
});
