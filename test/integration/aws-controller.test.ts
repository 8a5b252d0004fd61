/**
 * The AWS provider under the real controller: a real kube-apiserver, moto in server mode behind a fault-injecting
 * proxy, the real SDK v3 clients. Services are created through the API; the assertions look at what exists in
 * (moto's) AWS, at the Service status and at the Events.
 */
import {
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { DescribeLoadBalancersCommand as DescribeClassicCommand } from "@aws-sdk/client-elastic-load-balancing";
import type { V1Service } from "@kubernetes/client-node";
import pino from "pino";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { awsProviderFor } from "../../providers/aws/create-aws-provider.js";
import { type ControlPlane, startControlPlane } from "../env/control-plane.js";
import { KubeTestClient } from "../../testing/kube-test-client.js";
import { type RunningController, startController } from "../env/controller-harness.js";
import { eventually } from "../../testing/eventually.js";
import { type AwsFaultProxy, startAwsFaultProxy } from "../env/aws-fault-proxy.js";
import { type AwsWorld, createAwsWorld, isEmpty, listOwned } from "../env/aws-world.js";
import { type MotoServer, startMoto } from "../env/moto.js";
import { apiService } from "../fixtures/api-services.js";

const CLASS = "lb-operator.io/aws";
const CLUSTER = "test-cluster";
const A = "service.beta.kubernetes.io/aws-load-balancer-";

let cp: ControlPlane;
let moto: MotoServer;
let proxy: AwsFaultProxy;
let world: AwsWorld;
let controller: RunningController;
let kube: KubeTestClient;
let ns: string;
const aws = () => moto.clients();

beforeAll(async () => {
  [cp, moto] = await Promise.all([startControlPlane(), startMoto()]);
  proxy = await startAwsFaultProxy(moto.endpoint);
  world = await createAwsWorld(moto.clients(), { clusterId: CLUSTER, nodes: 3 });
  kube = new KubeTestClient(cp.kubeConfig());
  for (const node of world.nodes()) {
    const created = await kube.core.createNode({ body: { metadata: node.metadata, spec: node.spec } });
    await kube.core.replaceNodeStatus({ name: created.metadata!.name!, body: { ...created, status: node.status } });
  }
  const provider = awsProviderFor(moto.clients(proxy.endpoint), pino({ level: "silent" }));
  controller = await startController(cp.kubeConfig(), provider, {
    clusterId: CLUSTER,
    classOptions: { loadBalancerClass: CLASS, isDefaultClass: false },
  });
});

afterAll(async () => {
  await controller?.stop();
  await proxy?.stop();
  await moto?.stop();
  await cp?.stop();
});

beforeEach(async () => {
  ns = await kube.createNamespace("aws");
  proxy.clearFaults();
});

const service = (name: string, ...tweaks: ((s: V1Service) => void)[]): V1Service =>
  apiService(ns, name, CLASS, ...tweaks);
const annotate =
  (annotations: Record<string, string>) =>
  (s: V1Service): void => {
    s.metadata!.annotations = { ...s.metadata!.annotations, ...annotations };
  };

async function hostnameOf(name: string, timeoutMs = 30_000): Promise<string> {
  return eventually(
    `a hostname for ${ns}/${name}`,
    async () => (await kube.service(ns, name))?.status?.loadBalancer?.ingress?.[0]?.hostname,
    { timeoutMs },
  );
}

async function owned(name: string) {
  const svc = await kube.service(ns, name);
  return listOwned(aws(), { clusterId: CLUSTER, namespace: ns, name, uid: svc?.metadata?.uid });
}

async function nlbOf(hostname: string) {
  const lbs = (await aws().elbv2.send(new DescribeLoadBalancersCommand({}))).LoadBalancers ?? [];
  const lb = lbs.find((l) => l.DNSName?.toLowerCase() === hostname);
  if (!lb) throw new Error(`no NLB with DNS name ${hostname}`);
  const listeners =
    (await aws().elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: lb.LoadBalancerArn }))).Listeners ?? [];
  // Through the listeners: moto does not update a target group's load balancer after ModifyListener.
  const arns = listeners.flatMap((l) => (l.DefaultActions ?? []).map((a) => a.TargetGroupArn ?? "")).filter(Boolean);
  const tgs = arns.length
    ? ((await aws().elbv2.send(new DescribeTargetGroupsCommand({ TargetGroupArns: arns }))).TargetGroups ?? [])
    : [];
  const targets = new Map<number, string[]>();
  for (const tg of tgs) {
    const health =
      (await aws().elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg.TargetGroupArn })))
        .TargetHealthDescriptions ?? [];
    targets.set(
      tg.Port ?? 0,
      health
        .filter((h) => h.TargetHealth?.State !== "draining")
        .map((h) => `${h.Target?.Id}:${h.Target?.Port}`)
        .sort(),
    );
  }
  return { lb, tgs, listeners, targets };
}

async function warnings(name: string): Promise<string[]> {
  return (await kube.events(ns, name)).filter((e) => e.type === "Warning").map((e) => e.message ?? "");
}

describe("aws provider under the controller", () => {
  it("NLB with instance targets: created, updated (ports, traffic policy), deleted without leftovers", async () => {
    await kube.core.createNamespacedService({ namespace: ns, body: service("web", annotate({ [`${A}type`]: "nlb" })) });
    const hostname = await hostnameOf("web");
    const created = await nlbOf(hostname);
    expect(created.lb.Type).toBe("network");
    const svc = (await kube.service(ns, "web"))!;
    const nodePort = svc.spec!.ports![0]!.nodePort!;
    expect(created.targets.get(nodePort)).toEqual(
      world
        .instances()
        .map((i) => `${i.instanceId}:${nodePort}`)
        .sort(),
    );
    expect(created.listeners.map((l) => l.Port)).toEqual([80]);

    await kube.updateService(ns, "web", (s) =>
      s.spec!.ports!.push({ name: "https", port: 443, targetPort: 8443, protocol: "TCP" }),
    );
    await eventually("two listeners", async () => (await nlbOf(hostname)).listeners.length === 2);

    await kube.updateService(ns, "web", (s) => void (s.spec!.externalTrafficPolicy = "Local"));
    const local = await eventually("HTTP health checks on the healthCheckNodePort", async () => {
      const now = await nlbOf(hostname);
      const hcnp = (await kube.service(ns, "web"))?.spec?.healthCheckNodePort;
      return now.tgs.length === 2 &&
        now.tgs.every(
          (t) =>
            t.HealthCheckProtocol === "HTTP" && t.HealthCheckPort === String(hcnp) && t.HealthCheckPath === "/healthz",
        )
        ? now
        : undefined;
    });
    expect(local.tgs).toHaveLength(2);

    await kube.core.deleteNamespacedService({ namespace: ns, name: "web" });
    await eventually("the Service to be gone", async () => (await kube.service(ns, "web")) === undefined);
    expect(isEmpty(await listOwned(aws(), { clusterId: CLUSTER, namespace: ns, name: "web" }))).toBe(true);
  });

  it("classic ELB by default, switched to an NLB by annotation: the classic one is removed", async () => {
    await kube.core.createNamespacedService({ namespace: ns, body: service("classic") });
    const hostname = await hostnameOf("classic");
    const classic = (await aws().elb.send(new DescribeClassicCommand({}))).LoadBalancerDescriptions ?? [];
    expect(classic.some((l) => l.DNSName?.toLowerCase() === hostname)).toBe(true);
    await kube.updateService(
      ns,
      "classic",
      (s) => void (s.metadata!.annotations = { ...s.metadata!.annotations, [`${A}type`]: "nlb" }),
    );
    await eventually("an NLB and no classic ELB", async () => {
      const o = await owned("classic");
      return o.loadBalancers.length === 1 && o.classicLoadBalancers.length === 0;
    });
  });

  it("bad input gives one clear Warning and creates nothing", async () => {
    const bad: [string, Record<string, string>, RegExp][] = [
      ["badtype", { [`${A}type`]: "alb" }, /aws-load-balancer-type.*alb/],
      ["badtags", { [`${A}additional-resource-tags`]: "team" }, /additional-resource-tags.*team/],
      ["badeip", { [`${A}type`]: "nlb", [`${A}eip-allocations`]: "eipalloc-1" }, /eip-allocations/],
    ];
    for (const [name, annotations] of bad)
      await kube.core.createNamespacedService({ namespace: ns, body: service(name, annotate(annotations)) });
    await kube.core.createNamespacedService({
      namespace: ns,
      body: service("mixed", (s) => {
        s.spec!.ports = [
          { name: "tcp", port: 53, targetPort: 53, protocol: "TCP" },
          { name: "udp", port: 53, targetPort: 53, protocol: "UDP" },
        ];
      }),
    });
    await kube.core.createNamespacedService({
      namespace: ns,
      body: service(
        "noendpoints",
        annotate({ [`${A}type`]: "nlb" }),
        (s) => void (s.spec!.allocateLoadBalancerNodePorts = false),
      ),
    });
    for (const [name, , pattern] of [
      ...bad,
      ["mixed", {}, /UDP/i] as const,
      ["noendpoints", {}, /no ready endpoints/] as const,
    ]) {
      const w = await eventually(`a Warning for ${name}`, async () => (await warnings(name))[0]);
      expect(w).toMatch(pattern);
      expect(isEmpty(await owned(name))).toBe(true);
    }
  });

  it("throttling, a 500 and a connection dropped after the create: converges, nothing leaks", async () => {
    proxy.inject("CreateLoadBalancer", "drop-after", { api: "elbv2" });
    proxy.inject("CreateTargetGroup", "server-error", { api: "elbv2" });
    proxy.inject("CreateListener", "throttle", { api: "elbv2" });
    await kube.core.createNamespacedService({
      namespace: ns,
      body: service("faulty", annotate({ [`${A}type`]: "nlb" })),
    });
    const w = await eventually("a throttling Warning", async () =>
      (await warnings("faulty")).find((m) => /throttled/.test(m)),
    );
    expect(w).toMatch(/CreateListener/);
    const hostname = await hostnameOf("faulty", 60_000);
    expect(proxy.pendingFaults()).toEqual([]);
    const o = await owned("faulty");
    expect(o.loadBalancers).toHaveLength(1);
    expect(o.targetGroups).toHaveLength(1);
    expect(o.listeners).toHaveLength(1);
    expect((await nlbOf(hostname)).listeners).toHaveLength(1);
  }, 120_000);
});
