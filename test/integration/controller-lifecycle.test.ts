import { DiscoveryV1Api, type KubeConfig, type V1Service } from "@kubernetes/client-node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { RetryAfterError } from "../../src/errors.js";
import { LOAD_BALANCER_CLEANUP_FINALIZER } from "../../src/model/annotations.js";
import type { LoadBalancerSpec } from "../../src/provider.js";
import { type ControlPlane, startControlPlane } from "../env/control-plane.js";
import { type RunningController, TEST_CLASS, startController } from "../env/controller-harness.js";
import { delay, eventually } from "../../testing/eventually.js";
import { RecordingProvider } from "../fakes/recording-provider.js";
import { apiService } from "../fixtures/api-services.js";
import { newEndpointSlice, tweakAnnotation, tweakLocal, tweakPodMode } from "../fixtures/services.js";
import { KubeTestClient } from "../../testing/kube-test-client.js";

let cp: ControlPlane;
let kc: KubeConfig;
let kube: KubeTestClient;
let provider: RecordingProvider;
let controller: RunningController;

beforeAll(async () => {
  cp = await startControlPlane();
  kc = cp.kubeConfig();
  kube = new KubeTestClient(kc);
  provider = new RecordingProvider();
  controller = await startController(kc, provider);
});
afterAll(async () => {
  await controller?.stop();
  await cp?.stop();
});
afterEach(() => {
  provider.fault = () => undefined;
  provider.beforeEnsure = async () => undefined;
  provider.beforeDelete = async () => undefined;
});

const ensures = (ns: string, name: string) => provider.callsFor(`${ns}/${name}`, "ensure");

describe("controller lifecycle against a real apiserver", () => {
  it("adds the finalizer before the first provider call, then writes ingress, then records EnsuredLoadBalancer", async () => {
    const ns = await kube.createNamespace("life");
    const seenAtEnsure: string[][] = [];
    provider.beforeEnsure = async (spec) => {
      const svc = await kube.service(spec.id.namespace, spec.id.name);
      seenAtEnsure.push(svc?.metadata?.finalizers ?? []);
    };
    await kube.core.createNamespacedService({ namespace: ns, body: apiService(ns, "web", TEST_CLASS) });
    const svc = await eventually("ingress", async () => {
      const s = await kube.service(ns, "web");
      return s?.status?.loadBalancer?.ingress?.length ? s : undefined;
    });
    expect(seenAtEnsure[0]).toContain(LOAD_BALANCER_CLEANUP_FINALIZER);
    expect(svc.metadata?.finalizers).toContain(LOAD_BALANCER_CLEANUP_FINALIZER);
    expect(svc.status?.loadBalancer?.ingress?.[0]?.ip).toMatch(/^198\.51\.100\./);
    expect(svc.status?.loadBalancer?.ingress?.[0]?.ipMode).toBe("VIP");
    expect(svc.status?.loadBalancer?.ingress?.[0]?.ports).toEqual([{ port: 80, protocol: "TCP" }]);
    const events = await eventually("EnsuredLoadBalancer event", async () => {
      const evs = await kube.events(ns, "web");
      return evs.some((e) => e.reason === "EnsuredLoadBalancer") ? evs : undefined;
    });
    // EnsuringLoadBalancer is written only for an ensure still running after a second (progress-event.ts); this
    // one returns at once unless the machine stalls, so it is not asserted either way here (unit tests do).
    const outcome = events.filter((e) => e.reason !== "EnsuringLoadBalancer");
    expect(outcome.map((e) => e.reason)).toEqual(["EnsuredLoadBalancer"]);
    expect(outcome[0]?.source?.component).toBe("lb-operator");
  });

  it("passes changes of ports, source ranges, annotations and traffic policy to the provider as a new spec", async () => {
    const ns = await kube.createNamespace("chg");
    await kube.core.createNamespacedService({ namespace: ns, body: apiService(ns, "app", TEST_CLASS) });
    await eventually("first ensure", () => ensures(ns, "app").length >= 1);
    const steps: [string, (s: V1Service) => void, (spec: LoadBalancerSpec) => boolean][] = [
      [
        "ports",
        (s) => s.spec!.ports!.push({ name: "https", port: 443, targetPort: 8443, protocol: "TCP" }),
        (spec) => spec.ports.length === 2,
      ],
      [
        "source ranges",
        (s) => (s.spec!.loadBalancerSourceRanges = ["203.0.113.0/24"]),
        (spec) => spec.sourceRanges.join() === "203.0.113.0/24",
      ],
      [
        "annotations",
        (s) => (s.metadata!.annotations = { ...s.metadata!.annotations, "example.com/tier": "gold" }),
        (spec) => spec.annotations["example.com/tier"] === "gold",
      ],
      [
        "traffic policy",
        (s) => (s.spec!.externalTrafficPolicy = "Local"),
        (spec) => spec.healthCheck.kind === "http" && spec.healthCheck.source === "healthCheckNodePort",
      ],
    ];
    for (const [what, change, seen] of steps) {
      const before = ensures(ns, "app").length;
      await kube.updateService(ns, "app", change);
      await eventually(
        `spec with new ${what}`,
        () => ensures(ns, "app").length > before && seen(provider.lastSpec(`${ns}/app`)!),
      );
    }
  });

  it("passes endpoint changes of a pod-mode Service to the provider, and ignores them for a nodePort Cluster Service", async () => {
    const ns = await kube.createNamespace("eps");
    await kube.core.createNamespacedService({
      namespace: ns,
      body: apiService(ns, "pods", TEST_CLASS, tweakPodMode()),
    });
    await kube.core.createNamespacedService({ namespace: ns, body: apiService(ns, "nodes", TEST_CLASS) });
    await eventually("both ensured", () => ensures(ns, "pods").length >= 1 && ensures(ns, "nodes").length >= 1);
    expect(provider.lastSpec(`${ns}/pods`)?.backends).toEqual({ mode: "pod", endpoints: [] });
    const nodeEnsures = ensures(ns, "nodes").length;
    const slice = (svc: string, ip: string) =>
      newEndpointSlice(svc, `${svc}-abc`, [{ name: "http", port: 8080 }], [{ ip }], ns);
    const discovery = kc.makeApiClient(DiscoveryV1Api);
    await discovery.createNamespacedEndpointSlice({ namespace: ns, body: slice("pods", "192.0.2.10") });
    await discovery.createNamespacedEndpointSlice({ namespace: ns, body: slice("nodes", "192.0.2.11") });
    await eventually("pod endpoint reaches the provider", () => {
      const b = provider.lastSpec(`${ns}/pods`)?.backends;
      return (
        b?.mode === "pod" && b.endpoints.map((e) => e.ip).join() === "192.0.2.10" && b.endpoints[0]?.ports.http === 8080
      );
    });
    await delay(1_000);
    expect(ensures(ns, "nodes").length).toBe(nodeEnsures);
  });

  it("an unchanged Service reaches the provider no more often than the drift-repair period allows", async () => {
    const ns = await kube.createNamespace("drift");
    const drifting = new RecordingProvider();
    const second = await startController(kc, drifting, {
      driftPeriodMs: 2_000,
      classOptions: { loadBalancerClass: "lb-operator.io/drift", isDefaultClass: false },
    });
    try {
      await kube.core.createNamespacedService({ namespace: ns, body: apiService(ns, "still", "lb-operator.io/drift") });
      await eventually("first ensure", () => drifting.callsFor(`${ns}/still`, "ensure").length === 1);
      const start = Date.now();
      // Changes that do not alter the spec: a label, and status rewritten by us.
      await kube.updateService(ns, "still", (s) => (s.metadata!.labels = { touched: "yes" }));
      await delay(7_000);
      const elapsed = Date.now() - start;
      const calls = drifting.callsFor(`${ns}/still`, "ensure").length - 1;
      expect(calls).toBeGreaterThanOrEqual(1); // drift repair did run
      expect(calls).toBeLessThanOrEqual(Math.floor(elapsed / 2_000) + 1);
    } finally {
      await second.stop();
    }
  });

  it("type LoadBalancer -> ClusterIP deletes the load balancer, removes the finalizer and clears ingress", async () => {
    const ns = await kube.createNamespace("type");
    await kube.core.createNamespacedService({ namespace: ns, body: apiService(ns, "flip", TEST_CLASS) });
    await eventually("ingress", async () => (await kube.service(ns, "flip"))?.status?.loadBalancer?.ingress?.length);
    await kube.updateService(ns, "flip", (s) => {
      s.spec!.type = "ClusterIP";
      delete s.spec!.loadBalancerClass;
      delete s.spec!.allocateLoadBalancerNodePorts;
      delete s.spec!.externalTrafficPolicy;
      for (const p of s.spec!.ports ?? []) delete p.nodePort;
    });
    const svc = await eventually("cleanup", async () => {
      const s = await kube.service(ns, "flip");
      return s && !s.metadata?.finalizers?.length && !s.status?.loadBalancer?.ingress?.length ? s : undefined;
    });
    expect(svc.spec?.type).toBe("ClusterIP");
    expect(provider.callsFor(`${ns}/flip`, "delete")).toHaveLength(1);
    expect(provider.live.has(`${ns}/flip`)).toBe(false);
    const reasons = (await kube.events(ns, "flip")).map((e) => e.reason);
    await eventually("DeletedLoadBalancer event", async () =>
      (await kube.events(ns, "flip")).some((e) => e.reason === "DeletedLoadBalancer"),
    );
    expect(reasons).toContain("EnsuredLoadBalancer");
  });

  it("deleting the Service deletes the load balancer while the object still exists", async () => {
    const ns = await kube.createNamespace("del");
    await kube.core.createNamespacedService({ namespace: ns, body: apiService(ns, "gone", TEST_CLASS) });
    await eventually("ingress", async () => (await kube.service(ns, "gone"))?.status?.loadBalancer?.ingress?.length);
    let seenAtDelete: { exists: boolean; deleting: boolean } | undefined;
    provider.beforeDelete = async (id) => {
      const s = await kube.service(id.namespace, id.name);
      seenAtDelete = { exists: s !== undefined, deleting: s?.metadata?.deletionTimestamp !== undefined };
    };
    await kube.core.deleteNamespacedService({ namespace: ns, name: "gone" });
    await eventually("Service gone", async () => (await kube.service(ns, "gone")) === undefined);
    expect(seenAtDelete).toEqual({ exists: true, deleting: true });
    expect(provider.live.has(`${ns}/gone`)).toBe(false);
  });

  it("never touches Services of another loadBalancerClass or class-less ones when not the default", async () => {
    const ns = await kube.createNamespace("cls");
    await kube.core.createNamespacedService({ namespace: ns, body: apiService(ns, "theirs", "example.com/other") });
    await kube.core.createNamespacedService({ namespace: ns, body: apiService(ns, "classless", undefined) });
    await kube.core.createNamespacedService({ namespace: ns, body: apiService(ns, "ours", TEST_CLASS) });
    await eventually(
      "ours ensured",
      async () => (await kube.service(ns, "ours"))?.status?.loadBalancer?.ingress?.length,
    );
    await delay(500);
    for (const name of ["theirs", "classless"]) {
      const svc = await kube.service(ns, name);
      expect(svc?.metadata?.finalizers ?? []).toEqual([]);
      expect(svc?.status?.loadBalancer?.ingress ?? []).toEqual([]);
      expect(provider.callsFor(`${ns}/${name}`)).toEqual([]);
      expect(await kube.events(ns, name)).toEqual([]);
    }
  });

  it("Local traffic policy and annotations arrive parsed: health check on healthCheckNodePort", async () => {
    const ns = await kube.createNamespace("local");
    await kube.core.createNamespacedService({
      namespace: ns,
      body: apiService(
        ns,
        "loc",
        TEST_CLASS,
        tweakLocal(),
        tweakAnnotation("service.beta.kubernetes.io/load-balancer-source-ranges", "198.51.100.0/24, 2001:db8::/32"),
      ),
    });
    await eventually("ensure", () => ensures(ns, "loc").length >= 1);
    const spec = provider.lastSpec(`${ns}/loc`)!;
    const svc = await kube.service(ns, "loc");
    expect(spec.healthCheck).toEqual({
      kind: "http",
      source: "healthCheckNodePort",
      port: svc?.spec?.healthCheckNodePort,
      path: "/healthz",
    });
    expect(spec.sourceRanges).toEqual(["198.51.100.0/24", "2001:db8::/32"]);
  });

  it("a provider error gives SyncLoadBalancerFailed and backs off from 5 s; the next attempt converges", async () => {
    const ns = await kube.createNamespace("fail");
    let failures = 1;
    provider.fault = (op, key) =>
      op === "ensure" && key === `${ns}/flaky` && failures-- > 0 ? new Error("cloud is down") : undefined;
    await kube.core.createNamespacedService({ namespace: ns, body: apiService(ns, "flaky", TEST_CLASS) });
    const warning = await eventually("a Warning event", async () =>
      (await kube.events(ns, "flaky")).find((e) => e.type === "Warning"),
    );
    expect(warning.reason).toBe("SyncLoadBalancerFailed");
    expect(warning.message).toContain("cloud is down");
    await eventually(
      "ingress after the retry",
      async () => (await kube.service(ns, "flaky"))?.status?.loadBalancer?.ingress?.length,
      {
        timeoutMs: 15_000,
      },
    );
    const [first, second] = ensures(ns, "flaky");
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(4_900);
  });

  it("a RetryAfterError retries after exactly its delay, not the backoff", async () => {
    const ns = await kube.createNamespace("throttle");
    let throttled = 1;
    provider.fault = (op, key) =>
      op === "ensure" && key === `${ns}/slow` && throttled-- > 0
        ? new RetryAfterError("Throttling: rate exceeded", 1_500)
        : undefined;
    await kube.core.createNamespacedService({ namespace: ns, body: apiService(ns, "slow", TEST_CLASS) });
    await eventually(
      "ingress after the retry",
      async () => (await kube.service(ns, "slow"))?.status?.loadBalancer?.ingress?.length,
    );
    const [first, second] = ensures(ns, "slow");
    const gap = second!.at - first!.at;
    expect(gap).toBeGreaterThanOrEqual(1_450);
    expect(gap).toBeLessThan(4_000);
    const reasons = (await kube.events(ns, "slow")).map((e) => e.reason);
    expect(reasons).toContain("SyncLoadBalancerFailed");
  });

  it("an invalid spec sets the SpecValid=False condition, which goes once the Service is fixed", async () => {
    const ns = await kube.createNamespace("cond");
    await kube.core.createNamespacedService({
      namespace: ns,
      body: apiService(ns, "bad", TEST_CLASS, tweakAnnotation("lb-operator.io/load-balancer-ips", "300.1.2.3")),
    });
    const condition = await eventually("the condition", async () =>
      (await kube.service(ns, "bad"))?.status?.conditions?.find((c) => c.type === "lb-operator.io/SpecValid"),
    );
    expect(condition).toMatchObject({ status: "False", reason: "InvalidSpec" });
    expect(condition.message).toContain("300.1.2.3");
    expect(ensures(ns, "bad")).toEqual([]);
    await kube.updateService(ns, "bad", (s) => delete s.metadata!.annotations!["lb-operator.io/load-balancer-ips"]);
    const fixed = await eventually("ingress and no condition", async () => {
      const s = await kube.service(ns, "bad");
      return s?.status?.loadBalancer?.ingress?.length && !s.status.conditions?.length ? s : undefined;
    });
    expect(fixed.status?.conditions ?? []).toEqual([]);
  });
});
