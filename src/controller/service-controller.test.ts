import type { V1EndpointSlice, V1Node, V1Service } from "@kubernetes/client-node";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { FakeCacheFactory } from "../../test/fakes/fake-caches.js";
import { FakeClock } from "../../test/fakes/fake-clock.js";
import { RecordingEvents } from "../../test/fakes/recording-events.js";
import { RecordingProvider } from "../../test/fakes/recording-provider.js";
import { RecordingWriter } from "../../test/fakes/recording-writer.js";
import {
  newEndpointSlice,
  newNode,
  newService,
  nodeLabel,
  tweakClass,
  tweakFinalizer,
  tweakLocal,
  tweakPodMode,
  tweakPorts,
} from "../../test/fixtures/services.js";
import { RetryAfterError } from "../errors.js";
import { ControllerMetrics } from "../metrics.js";
import { LOAD_BALANCER_FINALIZERS } from "../model/annotations.js";
import type { ClassOptions } from "../model/service-predicates.js";
import type { ExistingLoadBalancer, LoadBalancerProvider, PodEndpoint } from "../provider.js";
import { withDeadline } from "./provider-deadline.js";
import { ServiceController } from "./service-controller.js";

const CLUSTER = "test-cluster";
const OURS = "lb-operator.io/test";
const AS_DEFAULT: ClassOptions = { loadBalancerClass: OURS, isDefaultClass: true };
const DRIFT_MS = 60_000;

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
async function settle(): Promise<void> {
  for (let i = 0; i < 30; i++) await tick();
}

/** Records the argument of restore() and the moment it ran relative to onSynced. */
class RestoreRecordingProvider extends RecordingProvider {
  readonly restored: ExistingLoadBalancer[][] = [];
  restoreError: Error | undefined;
  constructor(private readonly order: string[]) {
    super();
  }
  override async restore(existing: readonly ExistingLoadBalancer[]): Promise<void> {
    this.order.push("restore");
    this.restored.push([...existing]);
    if (this.restoreError) throw this.restoreError;
    await super.restore(existing);
  }
}

interface Seed {
  services?: V1Service[];
  nodes?: V1Node[];
  slices?: V1EndpointSlice[];
}

function startController(
  seed: Seed,
  configure: (provider: RestoreRecordingProvider) => void = () => undefined,
  wrap: (provider: LoadBalancerProvider, clock: FakeClock) => LoadBalancerProvider = (provider) => provider,
) {
  const caches = new FakeCacheFactory();
  for (const s of seed.services ?? []) caches.serviceCache.seed(s);
  for (const n of seed.nodes ?? [newNode("n1", "192.0.2.1"), newNode("n2", "192.0.2.2")]) caches.nodeCache.seed(n);
  for (const s of seed.slices ?? []) caches.sliceCache.seed(s);
  const order: string[] = [];
  const provider = new RestoreRecordingProvider(order);
  configure(provider);
  const writer = new RecordingWriter(caches.serviceCache);
  const events = new RecordingEvents();
  const clock = new FakeClock();
  const metrics = new ControllerMetrics({ processMetrics: false });
  const controller = new ServiceController({
    caches,
    writer,
    events,
    provider: wrap(provider, clock),
    metrics,
    logger: pino({ level: "silent" }),
    clock,
    clusterId: CLUSTER,
    classOptions: AS_DEFAULT,
    workers: 2,
    driftPeriodMs: DRIFT_MS,
    onSynced: () => order.push("synced"),
  });
  const abort = new AbortController();
  const running = controller.run(abort.signal);
  const services = caches.serviceCache;
  return {
    caches,
    services,
    provider,
    writer,
    events,
    clock,
    metrics,
    controller,
    order,
    running,
    /** Reconciles finished so far (every verdict is counted by the controller's onVerdict). */
    reconciles: async (): Promise<number> =>
      (await metrics.reconcileTotal.get()).values.reduce((sum, v) => sum + v.value, 0),
    ensures: (key: string): number => provider.callsFor(key, "ensure").length,
    edit: (name: string, change: (svc: V1Service) => void) => services.edit(name, "default", change),
    stop: async (): Promise<void> => {
      abort.abort();
      await running;
    },
  };
}

function endpointsOf(h: ReturnType<typeof startController>, key: string): readonly PodEndpoint[] | undefined {
  const backends = h.provider.lastSpec(key)?.backends;
  return backends?.mode === "pod" ? backends.endpoints : undefined;
}

describe("ServiceController: start-up", () => {
  it("restores the existing load balancers once the caches synced, before onSynced and the first ensure", async () => {
    const kept = newService("kept", tweakFinalizer(), (s) => {
      s.status = {
        loadBalancer: { ingress: [{ ip: "203.0.113.7", ipMode: "VIP", ports: [{ port: 80, protocol: "TCP" }] }] },
      };
    });
    const h = startController({
      services: [kept, newService("fresh"), newService("other", tweakClass("other.io/lb"))],
    });
    await settle();
    expect(h.caches.all.map((c) => c.startCalls)).toEqual([1, 1, 1]);
    expect(h.order).toEqual(["restore", "synced"]);
    expect(h.controller.hasSynced).toBe(true);
    expect(h.provider.restored).toHaveLength(1);
    expect(h.provider.restored[0]?.map((e) => [e.id.name, e.status])).toEqual([
      ["kept", { ingress: [{ ip: "203.0.113.7", ipMode: "VIP", ports: [{ port: 80, protocol: "TCP" }] }] }],
    ]);
    expect(h.provider.calls[0]).toMatchObject({ op: "restore", key: "default/kept" });
    expect(
      h.provider.calls
        .slice(1)
        .map((c) => `${c.op} ${c.key}`)
        .sort(),
    ).toEqual(["ensure default/fresh", "ensure default/kept"]);
    // the restored address came back from ensure, so the kept Service needs no write at all
    expect(h.writer.opsFor("default/kept")).toEqual([]);
    expect(h.writer.opsFor("default/fresh")).toEqual(["addFinalizers", "patchLoadBalancerStatus"]);
    expect(h.writer.opsFor("default/other")).toEqual([]);
    await h.stop();
  });

  it("builds pod-mode backends from the slices listed at start-up", async () => {
    const h = startController({
      services: [newService("web", tweakPodMode())],
      slices: [newEndpointSlice("web", "web-1", [{ name: "http", port: 8080 }], [{ ip: "10.0.0.1", nodeName: "n1" }])],
    });
    await settle();
    expect(h.ensures("default/web")).toBe(1);
    expect(endpointsOf(h, "default/web")?.map((e) => [e.ip, e.ports])).toEqual([["10.0.0.1", { http: 8080 }]]);
    await h.stop();
  });

  it("stops its caches and timers when the signal aborts", async () => {
    const h = startController({ services: [newService("web")] });
    await settle();
    await h.stop();
    expect(h.caches.all.map((c) => c.stopCalls)).toEqual([1, 1, 1]);
    expect(h.clock.pendingTimers).toBe(0);
  });

  it("stops its caches when restore() fails", async () => {
    const h = startController({ services: [newService("web")] }, (p) => (p.restoreError = new Error("restore failed")));
    await expect(h.running).rejects.toThrow("restore failed");
    expect(h.caches.all.map((c) => c.stopCalls)).toEqual([1, 1, 1]);
  });
});

describe("ServiceController: Service events", () => {
  it("its own finalizer and status writes do not loop back into another reconcile", async () => {
    const h = startController({ services: [newService("web")] });
    await settle();
    expect(h.writer.opsFor("default/web")).toEqual(["addFinalizers", "patchLoadBalancerStatus"]);
    expect(await h.reconciles()).toBe(1);
    await h.stop();
  });

  it("a status-only update does not enqueue (an erased status waits for drift repair)", async () => {
    const h = startController({ services: [newService("web")] });
    await settle();
    h.edit("web", (s) => (s.status = { loadBalancer: {} }));
    await settle();
    expect(await h.reconciles()).toBe(1);
    expect(h.writer.calls).toHaveLength(2);
    // drift repair puts it back, still without a provider-visible change
    h.clock.advance(DRIFT_MS);
    await settle();
    expect(h.writer.opsFor("default/web")).toEqual([
      "addFinalizers",
      "patchLoadBalancerStatus",
      "patchLoadBalancerStatus",
    ]);
    await h.stop();
  });

  it("a label-only or resourceVersion-only update does not enqueue", async () => {
    const h = startController({ services: [newService("web")] });
    await settle();
    h.edit("web", (s) => (s.metadata!.labels = { team: "blue" }));
    h.edit("web", (s) => (s.metadata!.resourceVersion = "42"));
    await settle();
    expect(await h.reconciles()).toBe(1);
    expect(h.ensures("default/web")).toBe(1);
    await h.stop();
  });

  it("an annotation change enqueues and reaches the provider", async () => {
    const h = startController({ services: [newService("web")] });
    await settle();
    h.edit("web", (s) => (s.metadata!.annotations = { "example.com/tier": "gold" }));
    await settle();
    expect(await h.reconciles()).toBe(2);
    expect(h.ensures("default/web")).toBe(2);
    expect(h.provider.lastSpec("default/web")?.annotations).toEqual({ "example.com/tier": "gold" });
    await h.stop();
  });

  it("a Service added after start-up is ensured; one of another class is not", async () => {
    const h = startController({});
    await settle();
    h.services.upsert(newService("late"));
    h.services.upsert(newService("foreign", tweakClass("other.io/lb")));
    await settle();
    expect(h.provider.calls.map((c) => `${c.op} ${c.key}`)).toEqual(["ensure default/late"]);
    expect(await h.reconciles()).toBe(1);
    await h.stop();
  });

  it("a type change away from LoadBalancer deletes the load balancer and clears the status", async () => {
    const h = startController({ services: [newService("web")] });
    await settle();
    h.edit("web", (s) => (s.spec!.type = "ClusterIP"));
    await settle();
    expect(h.provider.callsFor("default/web", "delete")).toHaveLength(1);
    expect(h.writer.opsFor("default/web").slice(2)).toEqual(["removeFinalizers", "patchLoadBalancerStatus"]);
    expect(h.services.get("web", "default")?.status?.loadBalancer).toEqual({});
    await h.stop();
  });

  it("deletion: one provider.delete, the finalizer goes, the Service disappears, nothing more", async () => {
    const h = startController({ services: [newService("web")] });
    await settle();
    h.edit("web", (s) => (s.metadata!.deletionTimestamp = new Date("2026-01-01T00:00:00Z")));
    await settle();
    expect(h.provider.callsFor("default/web", "delete")).toHaveLength(1);
    expect(h.writer.opsFor("default/web").slice(2)).toEqual(["removeFinalizers"]);
    expect(h.services.get("web", "default")).toBeUndefined();
    expect(h.provider.live.size).toBe(0);
    await h.stop();
  });

  it("a Service force-removed without our finalizer still gets its load balancer deleted", async () => {
    const h = startController({ services: [newService("web")] });
    await settle();
    h.services.remove(newService("web"));
    await settle();
    expect(h.provider.calls.map((c) => c.op)).toEqual(["ensure", "delete"]);
    expect(h.provider.live.size).toBe(0);
    await h.stop();
  });

  it("a RetryAfterError is retried after exactly its delay", async () => {
    let failures = 1;
    const h = startController({ services: [newService("web")] }, (p) => {
      p.fault = () => (failures-- > 0 ? new RetryAfterError("throttled", 7_000) : undefined);
    });
    await settle();
    expect(h.ensures("default/web")).toBe(1);
    h.clock.advance(6_999);
    await settle();
    expect(h.ensures("default/web")).toBe(1);
    h.clock.advance(1);
    await settle();
    expect(h.ensures("default/web")).toBe(2);
    expect(h.services.get("web", "default")?.status?.loadBalancer?.ingress).toHaveLength(1);
    // Each reconcile is timed under the provider's name and its verdict.
    const timed = (await h.metrics.reconcileSeconds.get()).values.filter((v) => v.metricName?.endsWith("_count"));
    expect(Object.fromEntries(timed.map((v) => [`${v.labels.provider}/${v.labels.verdict}`, v.value]))).toEqual({
      [`${h.provider.name}/retryAfter`]: 1,
      [`${h.provider.name}/success`]: 1,
    });
    await h.stop();
  });
});

describe("ServiceController: a hung provider call", () => {
  it("ends at the reconcile deadline with a Warning naming it and backs off, while other Services converge", async () => {
    let hanging = true;
    const signals: AbortSignal[] = [];
    const h = startController(
      { services: ["hung", "a", "b", "c"].map((name) => newService(name)) },
      (p) => {
        const ensure = p.ensure.bind(p);
        p.ensure = (spec, signal) => {
          if (spec.id.name !== "hung" || !hanging) return ensure(spec, signal);
          p.calls.push({ op: "ensure", key: "default/hung", spec, at: Date.now() });
          signals.push(signal);
          // Hangs like a cloud call that never answers, until its signal aborts (as cloudCall does).
          return new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason as Error)));
        };
      },
      (provider, clock) => withDeadline(provider, { timeoutMs: 10_000, clock }),
    );
    await settle();
    // Two workers, one held by the hung call: the other Services converge without the clock moving.
    for (const name of ["a", "b", "c"]) {
      expect(h.services.get(name, "default")?.status?.loadBalancer?.ingress).toHaveLength(1);
    }
    // Still running a second in: its progress Event appears (the others returned at once and wrote none).
    expect(h.events.reasons("default/hung")).toEqual([]);
    h.clock.advance(1_000);
    expect(h.events.reasons("default/hung")).toEqual(["EnsuringLoadBalancer"]);
    expect(h.events.reasons("default/a")).toEqual(["EnsuredLoadBalancer"]);

    h.clock.advance(9_000);
    await settle();
    expect(signals[0]?.aborted).toBe(true);
    const warning = h.events.events.filter((e) => e.key === "default/hung" && e.type === "Warning");
    expect(warning.map((e) => [e.reason, e.message])).toEqual([
      ["SyncLoadBalancerFailed", "Error syncing load balancer: provider recording ensure timed out after 10s"],
    ]);
    const hung = h.services.get("hung", "default");
    expect(hung?.metadata?.finalizers).toEqual(LOAD_BALANCER_FINALIZERS);
    expect(hung?.status?.loadBalancer?.ingress ?? []).toEqual([]);

    // Backoff: 5 s, then another hung attempt and 10 s; then the cloud answers again.
    h.clock.advance(4_999);
    await settle();
    expect(h.ensures("default/hung")).toBe(1);
    h.clock.advance(1);
    await settle();
    expect(h.ensures("default/hung")).toBe(2);
    h.clock.advance(10_000);
    await settle();
    expect(h.events.reasons("default/hung").filter((r) => r === "SyncLoadBalancerFailed")).toHaveLength(2);
    hanging = false;
    h.clock.advance(9_999);
    await settle();
    expect(h.ensures("default/hung")).toBe(2);
    h.clock.advance(1);
    await settle();
    expect(h.ensures("default/hung")).toBe(3);
    expect(h.services.get("hung", "default")?.status?.loadBalancer?.ingress).toHaveLength(1);
    expect(h.events.reasons("default/hung").at(-1)).toBe("EnsuredLoadBalancer");
    await h.stop();
  });
});

describe("ServiceController: EndpointSlice events", () => {
  function start() {
    return startController({
      services: [newService("pod", tweakPodMode()), newService("local", tweakLocal()), newService("cluster")],
    });
  }
  const slice = (service: string, ip: string, ready = true) =>
    newEndpointSlice(service, `${service}-1`, [{ name: "http", port: 8080 }], [{ ip, nodeName: "n1", ready }]);

  it("a slice change of a pod-mode Service enqueues it with the new endpoints", async () => {
    const h = start();
    await settle();
    expect(await h.reconciles()).toBe(3);
    expect(endpointsOf(h, "default/pod")).toEqual([]);

    h.caches.sliceCache.upsert(slice("pod", "10.0.0.1"));
    await settle();
    expect(await h.reconciles()).toBe(4);
    expect(endpointsOf(h, "default/pod")?.map((e) => [e.ip, e.ready])).toEqual([["10.0.0.1", true]]);

    h.caches.sliceCache.upsert(slice("pod", "10.0.0.2"));
    await settle();
    expect(await h.reconciles()).toBe(5);
    expect(endpointsOf(h, "default/pod")?.map((e) => e.ip)).toEqual(["10.0.0.2"]);

    h.caches.sliceCache.remove(slice("pod", "ignored"));
    await settle();
    expect(await h.reconciles()).toBe(6);
    expect(endpointsOf(h, "default/pod")).toEqual([]);
    expect(h.events.reasons("default/pod")).toEqual([
      "EnsuredLoadBalancer",
      "UpdatedLoadBalancer",
      "UpdatedLoadBalancer",
      "UpdatedLoadBalancer",
    ]);
    await h.stop();
  });

  it("a slice change enqueues a Local Service (without a provider call, its nodePort spec is unchanged)", async () => {
    const h = start();
    await settle();
    h.caches.sliceCache.upsert(slice("local", "10.0.0.1"));
    await settle();
    expect(await h.reconciles()).toBe(4);
    expect(h.ensures("default/local")).toBe(1);
    await h.stop();
  });

  it("a slice change does not enqueue a nodePort Service with Cluster policy, nor an unknown Service", async () => {
    const h = start();
    await settle();
    h.caches.sliceCache.upsert(slice("cluster", "10.0.0.1"));
    h.caches.sliceCache.upsert(slice("nobody", "10.0.0.2"));
    const unlabelled = slice("pod", "10.0.0.3");
    delete unlabelled.metadata!.labels;
    h.caches.sliceCache.upsert(unlabelled);
    await settle();
    expect(await h.reconciles()).toBe(3);
    await h.stop();
  });

  // Slices not managed by the EndpointSlice controller (hand-made, mirrored) can change their service-name label.
  it("a slice relabelled to another Service leaves its old Service's backends", async () => {
    const h = startController({
      services: [newService("a", tweakPodMode()), newService("b", tweakPodMode())],
      slices: [newEndpointSlice("a", "shared", [{ name: "http", port: 8080 }], [{ ip: "10.0.0.1" }])],
    });
    await settle();
    expect(endpointsOf(h, "default/a")?.map((e) => e.ip)).toEqual(["10.0.0.1"]);
    h.caches.sliceCache.edit("shared", "default", (s) => (s.metadata!.labels = { "kubernetes.io/service-name": "b" }));
    await settle();
    expect(endpointsOf(h, "default/b")?.map((e) => e.ip)).toEqual(["10.0.0.1"]);
    expect(endpointsOf(h, "default/a")).toEqual([]);
  });
});

describe("ServiceController: Node events", () => {
  function start() {
    return startController({
      services: [newService("np"), newService("local", tweakLocal()), newService("pod", tweakPodMode())],
    });
  }
  const nodeNames = (h: ReturnType<typeof startController>, key: string): string[] | undefined => {
    const backends = h.provider.lastSpec(key)?.backends;
    return backends?.mode === "nodePort" ? backends.nodes.map((n) => n.name) : undefined;
  };

  it("a node update that does not matter (heartbeat, other labels) enqueues nothing", async () => {
    const h = start();
    await settle();
    h.caches.nodeCache.edit("n1", undefined, (n) => {
      n.status!.conditions = [{ type: "Ready", status: "False", lastHeartbeatTime: new Date() }];
      n.metadata!.labels = { ...n.metadata!.labels, "example.com/rack": "r7" };
    });
    await settle();
    expect(await h.reconciles()).toBe(3);
    await h.stop();
  });

  it("a node leaving the load balancers enqueues the nodePort-mode Services only", async () => {
    const h = start();
    await settle();
    h.caches.nodeCache.edit(
      "n2",
      undefined,
      nodeLabel("node.kubernetes.io/exclude-from-external-load-balancers", "true"),
    );
    await settle();
    expect(await h.reconciles()).toBe(5);
    expect(nodeNames(h, "default/np")).toEqual(["n1"]);
    expect(nodeNames(h, "default/local")).toEqual(["n1"]);
    expect(h.ensures("default/pod")).toBe(1);
    await h.stop();
  });

  it("node add and delete enqueue the nodePort-mode Services only", async () => {
    const h = start();
    await settle();
    h.caches.nodeCache.upsert(newNode("n3", "192.0.2.3"));
    await settle();
    expect(await h.reconciles()).toBe(5);
    expect(nodeNames(h, "default/np")).toEqual(["n1", "n2", "n3"]);
    h.caches.nodeCache.remove(newNode("n1", "192.0.2.1"));
    await settle();
    expect(await h.reconciles()).toBe(7);
    expect(nodeNames(h, "default/np")).toEqual(["n2", "n3"]);
    expect(h.ensures("default/np")).toBe(3);
    expect(h.ensures("default/pod")).toBe(1);
    await h.stop();
  });
});

describe("ServiceController: drift repair", () => {
  it("forces exactly one provider call per Service per period, with no writes or events when nothing drifted", async () => {
    const invalid = newService("invalid", tweakPorts({ name: "http", protocol: "TCP", port: 80 }));
    const h = startController({
      services: [
        newService("a"),
        newService("b", tweakPodMode()),
        newService("foreign", tweakClass("other.io/lb")),
        invalid,
      ],
    });
    await settle();
    const writes = h.writer.calls.length;
    const events = h.events.events.length;
    expect([h.ensures("default/a"), h.ensures("default/b")]).toEqual([1, 1]);

    h.clock.advance(DRIFT_MS - 1);
    await settle();
    expect([h.ensures("default/a"), h.ensures("default/b")]).toEqual([1, 1]);

    h.clock.advance(1);
    await settle();
    expect([h.ensures("default/a"), h.ensures("default/b")]).toEqual([2, 2]);

    h.clock.advance(DRIFT_MS);
    await settle();
    expect([h.ensures("default/a"), h.ensures("default/b")]).toEqual([3, 3]);

    expect(h.provider.callsFor("default/foreign")).toEqual([]);
    expect(h.provider.callsFor("default/invalid")).toEqual([]);
    expect(h.writer.calls).toHaveLength(writes);
    expect(h.events.events).toHaveLength(events);
    expect(h.events.reasons("default/invalid")).toEqual(["SyncLoadBalancerFailed"]);
    expect(h.services.get("a", "default")?.metadata?.finalizers).toEqual(LOAD_BALANCER_FINALIZERS);
    await h.stop();
  });
});
