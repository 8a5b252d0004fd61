import type { V1EndpointSlice, V1LoadBalancerStatus, V1Node, V1Service } from "@kubernetes/client-node";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { FakeCache } from "../../test/fakes/fake-caches.js";
import { FakeClock } from "../../test/fakes/fake-clock.js";
import { Journal } from "../../test/fakes/journal.js";
import { RecordingEvents } from "../../test/fakes/recording-events.js";
import { RecordingProvider } from "../../test/fakes/recording-provider.js";
import { RecordingWriter } from "../../test/fakes/recording-writer.js";
import {
  newNode,
  newService,
  type ServiceTweak,
  tweakClass,
  tweakFinalizer,
  tweakPorts,
} from "../../test/fixtures/services.js";
import { InvalidSpecError, RetryAfterError } from "../errors.js";
import { ControllerMetrics } from "../metrics.js";
import { LOAD_BALANCER_CLEANUP_FINALIZER, LOAD_BALANCER_FINALIZERS } from "../model/annotations.js";
import { loadBalancerId } from "../model/load-balancer-id.js";
import type { ClassOptions } from "../model/service-predicates.js";
import { ServiceReconciler, splitKey } from "./reconciler.js";

const CLUSTER = "test-cluster";
const OURS = "lb-operator.io/test";
const AS_DEFAULT: ClassOptions = { loadBalancerClass: OURS, isDefaultClass: true };
const KEY = "default/web";

/** What RecordingProvider answers for the first Service it sees with one TCP/80 port. */
const FIRST_STATUS: V1LoadBalancerStatus = {
  ingress: [{ ip: "198.51.100.10", ipMode: "VIP", ports: [{ port: 80, protocol: "TCP" }] }],
};

interface HarnessOptions {
  classOptions?: ClassOptions;
  /** false: writes are recorded but the view never sees them (an informer cache that lags behind). */
  applyWrites?: boolean;
  /** Default 0: progress Events at once, as upstream writes them, so each test sees every Event. */
  progressEventDelayMs?: number;
}

function harness(services: V1Service[], options: HarnessOptions = {}) {
  const journal = new Journal();
  const cache = new FakeCache<V1Service>(services);
  const nodes: V1Node[] = [newNode("n1", "192.0.2.1"), newNode("n2", "192.0.2.2")];
  const slices: V1EndpointSlice[] = [];
  const writer = new RecordingWriter(options.applyWrites === false ? undefined : cache, journal);
  const events = new RecordingEvents();
  const provider = new RecordingProvider();
  provider.beforeEnsure = async (spec) => journal.note(`ensure ${spec.id.namespace}/${spec.id.name}`);
  provider.beforeDelete = async (id) => journal.note(`delete ${id.namespace}/${id.name}`);
  const metrics = new ControllerMetrics({ processMetrics: false });
  const clock = new FakeClock();
  /** Every log line at warn or above, parsed. */
  const logs: Record<string, unknown>[] = [];
  const logStream = { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) };
  const reconciler = new ServiceReconciler({
    view: {
      service: (namespace, name) => cache.get(name, namespace),
      endpointSlices: (namespace, name) =>
        slices.filter(
          (s) => s.metadata?.namespace === namespace && s.metadata?.labels?.["kubernetes.io/service-name"] === name,
        ),
      nodes: () => nodes,
    },
    writer,
    events,
    provider,
    metrics,
    logger: pino({ level: "warn" }, logStream),
    clusterId: CLUSTER,
    classOptions: options.classOptions ?? AS_DEFAULT,
    clock,
    progressEventDelayMs: options.progressEventDelayMs ?? 0,
  });
  const signal = new AbortController().signal;
  return {
    journal,
    cache,
    nodes,
    writer,
    events,
    provider,
    metrics,
    logs,
    reconciler,
    clock,
    reconcile: (key = KEY) => reconciler.reconcile(key, signal),
    svc: (name = "web"): V1Service | undefined => cache.get(name, "default"),
    edit: (change: (svc: V1Service) => void, name = "web") => cache.edit(name, "default", change),
    /** Forget what was recorded so far, so a test can assert exactly what one reconcile did. */
    clear: () => {
      journal.take();
      writer.clear();
      events.clear();
      provider.calls.splice(0);
    },
  };
}

/** A Service that already went through one successful reconcile; records cleared. */
async function ensured(options: HarnessOptions = {}, ...tweaks: ServiceTweak[]) {
  const h = harness([newService("web", ...tweaks)], options);
  expect(await h.reconcile()).toEqual({ kind: "success" });
  h.clear();
  return h;
}

describe("ServiceReconciler: progress Events", () => {
  it("an ensure that returns within the delay writes EnsuredLoadBalancer alone; a slow one writes both", async () => {
    const h = harness([newService("fast"), newService("slow")], { progressEventDelayMs: 1_000 });
    expect(await h.reconcile("default/fast")).toEqual({ kind: "success" });
    expect(h.events.reasons("default/fast")).toEqual(["EnsuredLoadBalancer"]);

    let release = (): void => undefined;
    h.provider.beforeEnsure = () => new Promise<void>((resolve) => (release = resolve));
    const slow = h.reconcile("default/slow");
    await new Promise((r) => setImmediate(r));
    h.clock.advance(999);
    expect(h.events.reasons("default/slow")).toEqual([]);
    h.clock.advance(1);
    expect(h.events.reasons("default/slow")).toEqual(["EnsuringLoadBalancer"]);
    release();
    expect(await slow).toEqual({ kind: "success" });
    expect(h.events.reasons("default/slow")).toEqual(["EnsuringLoadBalancer", "EnsuredLoadBalancer"]);
    expect(h.clock.pendingTimers).toBe(0);
  });

  it("a delete that returns within the delay writes DeletedLoadBalancer alone", async () => {
    const h = harness([newService("web")], { progressEventDelayMs: 1_000 });
    await h.reconcile();
    h.clear();
    h.edit((s) => void (s.metadata!.deletionTimestamp = new Date()));
    expect(await h.reconcile()).toEqual({ kind: "success" });
    expect(h.events.reasons()).toEqual(["DeletedLoadBalancer"]);
  });
});

describe("ServiceReconciler: ensure", () => {
  it("adds the finalizer before the first provider call, then patches the status", async () => {
    const h = harness([newService("web")]);
    let finalizerSeenByProvider: boolean | undefined;
    const journalEnsure = h.provider.beforeEnsure;
    h.provider.beforeEnsure = async (spec) => {
      finalizerSeenByProvider = h.svc()?.metadata?.finalizers?.includes(LOAD_BALANCER_CLEANUP_FINALIZER);
      await journalEnsure(spec);
    };

    expect(await h.reconcile()).toEqual({ kind: "success" });

    expect(h.journal.entries).toEqual([`addFinalizers ${KEY}`, `ensure ${KEY}`, `patchLoadBalancerStatus ${KEY}`]);
    expect(finalizerSeenByProvider).toBe(true);
    expect(h.writer.calls[0]).toMatchObject({ finalizers: LOAD_BALANCER_FINALIZERS });
    expect(h.writer.calls[1]?.status).toStrictEqual(FIRST_STATUS);
    expect(h.svc()?.status?.loadBalancer).toStrictEqual(FIRST_STATUS);
    expect(h.events.events).toEqual([
      { key: KEY, type: "Normal", reason: "EnsuringLoadBalancer", message: "Ensuring load balancer" },
      { key: KEY, type: "Normal", reason: "EnsuredLoadBalancer", message: "Ensured load balancer" },
    ]);
    const spec = h.provider.lastSpec(KEY);
    expect(spec?.id).toEqual(loadBalancerId(newService("web"), CLUSTER));
    expect(spec?.backends).toMatchObject({ mode: "nodePort", nodes: [{ name: "n1" }, { name: "n2" }] });
  });

  it("a second reconcile with the same spec and the status in place makes no writer and no provider call", async () => {
    const h = await ensured();
    expect(await h.reconcile()).toEqual({ kind: "success" });
    expect(await h.reconcile()).toEqual({ kind: "success" });
    expect(h.journal.entries).toEqual([]);
    expect(h.events.events).toEqual([]);
  });

  it("after a restart, a Service with finalizer and matching status gets one ensure and no write", async () => {
    const h = harness([
      newService("web", tweakFinalizer(), (s) => {
        s.status = { loadBalancer: structuredClone(FIRST_STATUS) };
      }),
    ]);
    expect(await h.reconcile()).toEqual({ kind: "success" });
    expect(h.journal.entries).toEqual([`ensure ${KEY}`]);
  });

  it("does not patch a status that differs only by the defaulted ipMode or key order", async () => {
    const h = harness([
      newService("web", tweakFinalizer(), (s) => {
        // what the apiserver hands back: ipMode omitted (pre-KEP-1860 server) and keys in another order
        s.status = { loadBalancer: { ingress: [{ ports: [{ protocol: "TCP", port: 80 }], ip: "198.51.100.10" }] } };
      }),
    ]);
    await h.reconcile();
    expect(h.writer.calls).toEqual([]);
  });

  it("a forced (drift) reconcile calls the provider but writes nothing when the status is unchanged", async () => {
    const h = await ensured();
    h.reconciler.force(KEY);
    expect(await h.reconcile()).toEqual({ kind: "success" });
    expect(h.journal.take()).toEqual([`ensure ${KEY}`]);
    expect(h.events.events).toEqual([]);
    // the force is spent: the next reconcile skips the provider again
    await h.reconcile();
    expect(h.journal.entries).toEqual([]);
  });

  it("a forced reconcile writes the status when the provider's answer drifted", async () => {
    const h = await ensured();
    h.provider.live.delete(KEY); // the load balancer vanished behind our back; ensure recreates it elsewhere
    h.reconciler.force(KEY);
    await h.reconcile();
    expect(h.journal.entries).toEqual([`ensure ${KEY}`, `patchLoadBalancerStatus ${KEY}`]);
    expect(h.svc()?.status?.loadBalancer?.ingress?.[0]?.ip).toBe("198.51.100.11");
  });

  it("a backend-only change (new node) calls the provider and emits UpdatedLoadBalancer only", async () => {
    const h = await ensured();
    h.nodes.push(newNode("n3", "192.0.2.3"));
    expect(await h.reconcile()).toEqual({ kind: "success" });
    expect(h.journal.entries).toEqual([`ensure ${KEY}`]);
    expect(h.events.reasons()).toEqual(["UpdatedLoadBalancer"]);
    expect(h.provider.lastSpec(KEY)?.backends).toMatchObject({
      nodes: [{ name: "n1" }, { name: "n2" }, { name: "n3" }],
    });
  });

  it("a node that becomes ineligible is a backend change too", async () => {
    const h = await ensured();
    const n2 = h.nodes[1]!;
    n2.spec = { ...n2.spec, taints: [{ key: "ToBeDeletedByClusterAutoscaler", effect: "NoSchedule" }] };
    await h.reconcile();
    expect(h.events.reasons()).toEqual(["UpdatedLoadBalancer"]);
    expect(h.provider.lastSpec(KEY)?.backends).toMatchObject({ nodes: [{ name: "n1" }] });
  });

  it("a shape change (new port) emits EnsuringLoadBalancer + EnsuredLoadBalancer and patches the new status", async () => {
    const h = await ensured();
    h.edit((s) => {
      s.spec!.ports = [
        ...s.spec!.ports!,
        { name: "https", protocol: "TCP", port: 443, targetPort: 8443, nodePort: 30443 },
      ];
    });
    expect(await h.reconcile()).toEqual({ kind: "success" });
    expect(h.events.reasons()).toEqual(["EnsuringLoadBalancer", "EnsuredLoadBalancer"]);
    expect(h.journal.entries).toEqual([`ensure ${KEY}`, `patchLoadBalancerStatus ${KEY}`]);
    expect(h.writer.calls[0]?.status?.ingress?.[0]?.ports).toEqual([
      { port: 80, protocol: "TCP" },
      { port: 443, protocol: "TCP" },
    ]);
  });

  it("an annotation change is a shape change", async () => {
    const h = await ensured();
    h.edit((s) => {
      s.metadata!.annotations = { "example.com/tier": "gold" };
    });
    await h.reconcile();
    expect(h.events.reasons()).toEqual(["EnsuringLoadBalancer", "EnsuredLoadBalancer"]);
    expect(h.provider.lastSpec(KEY)?.annotations).toEqual({ "example.com/tier": "gold" });
  });

  it("a Service re-created under the same name (new uid) is ensured anew", async () => {
    const h = await ensured();
    h.edit((s) => {
      s.metadata!.uid = "uid-web-2";
    });
    await h.reconcile();
    expect(h.events.reasons()).toEqual(["EnsuringLoadBalancer", "EnsuredLoadBalancer"]);
    expect(h.provider.lastSpec(KEY)?.id.uid).toBe("uid-web-2");
  });

  it("repairs a status someone else erased, without a provider call", async () => {
    const h = await ensured();
    h.edit((s) => {
      s.status = { loadBalancer: {} };
    });
    expect(await h.reconcile()).toEqual({ kind: "success" });
    expect(h.journal.entries).toEqual([`patchLoadBalancerStatus ${KEY}`]);
    expect(h.writer.calls[0]?.status).toStrictEqual(FIRST_STATUS);
    expect(h.svc()?.status?.loadBalancer).toStrictEqual(FIRST_STATUS);
    expect(h.events.events).toEqual([]);
  });

  it("re-adds a finalizer someone removed before calling the provider again", async () => {
    const h = await ensured();
    h.edit((s) => {
      s.metadata!.finalizers = [];
    });
    await h.reconcile();
    expect(h.journal.entries).toEqual([`addFinalizers ${KEY}`, `ensure ${KEY}`]);
    expect(h.svc()?.metadata?.finalizers).toEqual(LOAD_BALANCER_FINALIZERS);
  });

  // With an informer cache that has not yet seen our own finalizer patch, the provider is called again with the
  // same spec: that is no "new backends" news.
  it("does not claim new backends when only a stale cache made it call the provider again", async () => {
    const h = harness([newService("web")], { applyWrites: false });
    await h.reconcile();
    h.clear();
    await h.reconcile();
    expect(h.events.reasons()).not.toContain("UpdatedLoadBalancer");
  });
});

describe("ServiceReconciler: an apiserver that drops a status field", () => {
  it("patches once, warns once, and never re-patches what the server will not keep (ipMode before Kubernetes 1.30)", async () => {
    const h = harness([newService("web")]);
    h.provider.ipMode = "Proxy";
    h.writer.droppedIngressFields = ["ipMode"];

    expect(await h.reconcile()).toEqual({ kind: "success" });
    expect(h.svc()?.status?.loadBalancer?.ingress?.[0]).not.toHaveProperty("ipMode");
    // Again, then a drift repair (provider called, same answer), then a status someone else changed.
    expect(await h.reconcile()).toEqual({ kind: "success" });
    h.reconciler.force(KEY);
    expect(await h.reconcile()).toEqual({ kind: "success" });
    expect(h.writer.opsFor(KEY).filter((op) => op === "patchLoadBalancerStatus")).toHaveLength(1);

    const warnings = h.events.events.filter((e) => e.reason === "LoadBalancerStatusFieldsDropped");
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ type: "Warning" });
    expect(warnings[0]!.message).toContain("ingress[].ipMode");
    expect(warnings[0]!.message).toContain("--announce-only");

    h.edit((svc) => {
      svc.status = { loadBalancer: { ingress: [{ ip: "203.0.113.99" }] } };
    });
    expect(await h.reconcile()).toEqual({ kind: "success" });
    // Repaired to what the server keeps, once, with no second warning.
    expect(h.svc()?.status?.loadBalancer?.ingress?.[0]?.ip).toBe("198.51.100.10");
    expect(await h.reconcile()).toEqual({ kind: "success" });
    expect(h.writer.opsFor(KEY).filter((op) => op === "patchLoadBalancerStatus")).toHaveLength(2);
    expect(h.events.reasons(KEY).filter((r) => r === "LoadBalancerStatusFieldsDropped")).toHaveLength(1);
  });

  it("a server that keeps everything gets no warning", async () => {
    const h = harness([newService("web")]);
    h.provider.ipMode = "Proxy";
    expect(await h.reconcile()).toEqual({ kind: "success" });
    expect(await h.reconcile()).toEqual({ kind: "success" });
    expect(h.events.reasons(KEY)).not.toContain("LoadBalancerStatusFieldsDropped");
    expect(h.svc()?.status?.loadBalancer?.ingress?.[0]?.ipMode).toBe("Proxy");
  });
});

describe("ServiceReconciler: invalid specs", () => {
  const noNodePort = tweakPorts({ name: "http", protocol: "TCP", port: 80, targetPort: 8080 });

  it("records one Warning for repeated reconciles with the same problem, never retries, adds no finalizer", async () => {
    const h = harness([newService("web", noNodePort)]);
    for (let i = 0; i < 3; i++) {
      const verdict = await h.reconcile();
      expect(verdict.kind).toBe("noRetry");
      expect(verdict.kind === "noRetry" && verdict.cause).toBeInstanceOf(InvalidSpecError);
    }
    expect(h.events.events).toHaveLength(1);
    expect(h.events.events[0]).toMatchObject({ key: KEY, type: "Warning", reason: "SyncLoadBalancerFailed" });
    expect(h.events.events[0]?.message).toMatch(/^Error syncing load balancer: spec\.ports\[0\]\.nodePort: /);
    expect(h.provider.calls).toEqual([]);
    // One condition write says why, and stays (the store applied it, so repeats write nothing).
    expect(h.writer.calls.map((c) => c.op)).toEqual(["setCondition"]);
    expect(h.svc()?.status?.conditions).toEqual([
      expect.objectContaining({ type: "lb-operator.io/SpecValid", status: "False", reason: "InvalidSpec" }),
    ]);
    expect(h.svc()?.metadata?.finalizers).toBeUndefined();
  });

  it("removes the InvalidSpec condition once the Service is fixed and ensured", async () => {
    const h = harness([newService("web", noNodePort)]);
    await h.reconcile();
    h.edit((s) => {
      s.spec!.ports = [{ name: "http", protocol: "TCP", port: 80, targetPort: 8080, nodePort: 30080 }];
    });
    expect((await h.reconcile()).kind).toBe("success");
    expect(h.writer.calls.map((c) => c.op)).toEqual([
      "setCondition",
      "addFinalizers",
      "patchLoadBalancerStatus",
      "setCondition",
    ]);
    expect(h.writer.calls.at(-1)?.condition).toEqual({ type: "lb-operator.io/SpecValid" });
    expect(h.svc()?.status?.conditions).toEqual([]);
  });

  it("records a new Warning for a different problem, and again once a fix was followed by the old problem", async () => {
    const h = harness([newService("web", noNodePort)]);
    await h.reconcile();
    h.edit((s) => {
      s.spec!.ports = [{ name: "http", protocol: "ICMP", port: 80, nodePort: 30080 }];
    });
    await h.reconcile();
    await h.reconcile();
    expect(h.events.events.map((e) => e.message)).toEqual([
      expect.stringContaining("spec.ports[0].nodePort"),
      expect.stringContaining("spec.ports[0].protocol"),
    ]);
    h.edit((s) => {
      s.spec!.ports = [{ name: "http", protocol: "TCP", port: 80, nodePort: 30080 }];
    });
    expect(await h.reconcile()).toEqual({ kind: "success" });
    h.edit((s) => {
      s.spec!.ports = [{ name: "http", protocol: "ICMP", port: 80, nodePort: 30080 }];
    });
    await h.reconcile();
    expect(h.events.reasons()).toEqual([
      "SyncLoadBalancerFailed",
      "SyncLoadBalancerFailed",
      "EnsuringLoadBalancer",
      "EnsuredLoadBalancer",
      "SyncLoadBalancerFailed",
    ]);
  });

  it("an ensured Service that turns invalid keeps its load balancer, finalizer and status", async () => {
    const h = await ensured();
    h.edit((s) => {
      s.spec!.ports = [{ name: "http", protocol: "TCP", port: 80 }];
    });
    expect((await h.reconcile()).kind).toBe("noRetry");
    expect(h.journal.entries).toEqual([`setCondition ${KEY}`]);
    expect(h.provider.live.has(KEY)).toBe(true);
    expect(h.svc()?.status?.loadBalancer).toStrictEqual(FIRST_STATUS);
    expect(h.svc()?.metadata?.finalizers).toEqual(LOAD_BALANCER_FINALIZERS);
  });
});

describe("ServiceReconciler: one path for every refusal", () => {
  const noNodePort = tweakPorts({ name: "http", protocol: "TCP", port: 80, targetPort: 8080 });
  const sharingKey = "metadata.annotations[lb-operator.io/allow-shared-ip]";
  const refused = new InvalidSpecError(sharingKey, 'invalid sharing key "a\\nb": must be 1-253 characters');

  /** What one refusal left behind: the Warnings, the condition, the log lines about it. */
  const outcome = (h: ReturnType<typeof harness>) => ({
    warnings: h.events.events.filter((e) => e.type === "Warning").map((e) => [e.reason, e.message]),
    condition: h.svc()?.status?.conditions?.find((c) => c.type === "lb-operator.io/SpecValid"),
    logs: h.logs.filter((l) => l.msg === "invalid load balancer spec"),
  });

  it("a provider's InvalidSpecError gives the Warning, the SpecValid=False condition and one log line, once", async () => {
    const h = harness([newService("web")]);
    h.provider.fault = (op) => (op === "ensure" ? refused : undefined);
    for (let i = 0; i < 3; i++) expect(await h.reconcile()).toEqual({ kind: "noRetry", cause: refused });
    const { warnings, condition, logs } = outcome(h);
    expect(warnings).toEqual([["SyncLoadBalancerFailed", `Error syncing load balancer: ${refused.message}`]]);
    expect(condition).toMatchObject({ status: "False", reason: "InvalidSpec", message: refused.message });
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatchObject({ key: KEY, field: sharingKey, reason: refused.message });
    expect(h.writer.opsFor(KEY).filter((op) => op === "setCondition")).toHaveLength(1);
  });

  it("the model's and a provider's refusals leave the same three things", async () => {
    const model = harness([newService("web", noNodePort)]);
    await model.reconcile();
    const provider = harness([newService("web")]);
    provider.provider.fault = () => new InvalidSpecError("spec.ports[0].nodePort", "refused by the provider");
    await provider.reconcile();
    for (const h of [model, provider]) {
      const { warnings, condition, logs } = outcome(h);
      expect(warnings).toHaveLength(1);
      expect(condition).toMatchObject({ status: "False", reason: "InvalidSpec" });
      expect(logs).toHaveLength(1);
      expect(logs[0]?.field).toBe("spec.ports[0].nodePort");
      expect(warnings[0]?.[1]).toBe(`Error syncing load balancer: ${String(condition?.message)}`);
    }
  });

  it("once the provider accepts the Service, the condition goes", async () => {
    const h = harness([newService("web")]);
    h.provider.fault = () => refused;
    await h.reconcile();
    h.provider.fault = () => undefined;
    expect(await h.reconcile()).toEqual({ kind: "success" });
    expect(h.svc()?.status?.conditions).toEqual([]);
    expect(h.svc()?.status?.loadBalancer).toStrictEqual(FIRST_STATUS);
  });

  it("a huge message from a provider that does not quote through the helper is cut for the condition and the log", async () => {
    const h = harness([newService("web")]);
    const huge = new InvalidSpecError("metadata.annotations[x]", `"${"v".repeat(262_144)}" is bad`);
    h.provider.fault = () => huge;
    await h.reconcile();
    await h.reconcile();
    const { condition, logs } = outcome(h);
    expect(Buffer.byteLength(condition?.message ?? "")).toBeLessThanOrEqual(32 * 1024);
    expect(condition?.message?.endsWith("…")).toBe(true);
    expect(Buffer.byteLength(String(logs[0]?.reason))).toBeLessThanOrEqual(32 * 1024);
    // The stored (cut) message is recognised as current: no second condition write.
    expect(h.writer.opsFor(KEY).filter((op) => op === "setCondition")).toHaveLength(1);
  });
});

describe("ServiceReconciler: provider failures", () => {
  it("RetryAfterError -> retryAfter verdict with its delay and a SyncLoadBalancerFailed Warning, no status write", async () => {
    const h = harness([newService("web")]);
    const err = new RetryAfterError("throttled by the cloud", 7_000);
    h.provider.fault = (op) => (op === "ensure" ? err : undefined);
    expect(await h.reconcile()).toEqual({ kind: "retryAfter", delayMs: 7_000, cause: err });
    expect(h.journal.entries).toEqual([`addFinalizers ${KEY}`, `ensure ${KEY}`]);
    expect(h.events.events).toEqual([
      { key: KEY, type: "Normal", reason: "EnsuringLoadBalancer", message: "Ensuring load balancer" },
      {
        key: KEY,
        type: "Warning",
        reason: "SyncLoadBalancerFailed",
        message: "Error syncing load balancer: throttled by the cloud",
      },
    ]);
  });

  it("a generic Error -> backoff verdict; the next reconcile calls the provider again even with the same spec", async () => {
    const h = harness([newService("web")]);
    const err = new Error("cloud on fire");
    h.provider.fault = () => err;
    expect(await h.reconcile()).toEqual({ kind: "backoff", cause: err });
    expect(h.events.reasons()).toEqual(["EnsuringLoadBalancer", "SyncLoadBalancerFailed"]);
    h.clear();
    h.provider.fault = () => undefined;
    expect(await h.reconcile()).toEqual({ kind: "success" });
    expect(h.journal.entries).toEqual([`ensure ${KEY}`, `patchLoadBalancerStatus ${KEY}`]);
    expect(h.events.reasons()).toEqual(["EnsuringLoadBalancer", "EnsuredLoadBalancer"]);
  });

  it("a failing finalizer patch rejects the reconcile (the queue backs off) before any provider call", async () => {
    const h = harness([newService("web")]);
    h.writer.fault = (op) => (op === "addFinalizers" ? new Error("apiserver away") : undefined);
    await expect(h.reconcile()).rejects.toThrow("apiserver away");
    expect(h.provider.calls).toEqual([]);
  });
});

describe("ServiceReconciler: cleanup", () => {
  it("on a type change: provider.delete, then finalizer removal, then status cleared", async () => {
    const h = await ensured();
    h.edit((s) => {
      s.spec!.type = "ClusterIP";
    });
    expect(await h.reconcile()).toEqual({ kind: "success" });
    expect(h.journal.entries).toEqual([`delete ${KEY}`, `removeFinalizers ${KEY}`, `patchLoadBalancerStatus ${KEY}`]);
    expect(h.writer.calls[0]?.finalizers).toEqual(LOAD_BALANCER_FINALIZERS);
    expect(h.writer.calls[1]?.status).toEqual({ ingress: [] });
    expect(h.events.reasons()).toEqual(["DeletingLoadBalancer", "DeletedLoadBalancer"]);
    expect(h.provider.live.size).toBe(0);
    expect(h.provider.calls[0]?.op).toBe("delete");
    expect(h.svc()?.metadata?.finalizers).toEqual([]);
    expect(h.svc()?.status?.loadBalancer).toEqual({});
    // afterwards the ClusterIP Service is left alone
    h.clear();
    await h.reconcile();
    expect(h.journal.entries).toEqual([]);
  });

  it("on a type change of a Service that never got an address: no status patch", async () => {
    const h = harness([newService("web", tweakFinalizer(), (s) => (s.spec!.type = "NodePort"))]);
    await h.reconcile();
    expect(h.journal.entries).toEqual([`delete ${KEY}`, `removeFinalizers ${KEY}`]);
  });

  it("on deletionTimestamp: provider.delete then finalizer removal, no status patch, one delete only", async () => {
    const h = await ensured();
    h.edit((s) => {
      s.metadata!.deletionTimestamp = new Date("2026-01-01T00:00:00Z");
    });
    expect(await h.reconcile()).toEqual({ kind: "success" });
    expect(h.journal.entries).toEqual([`delete ${KEY}`, `removeFinalizers ${KEY}`]);
    expect(h.svc()).toBeUndefined(); // the last finalizer went, so the apiserver deleted it
    // the delete event's reconcile finds nothing more to do
    h.clear();
    expect(await h.reconcile()).toEqual({ kind: "success" });
    expect(h.journal.entries).toEqual([]);
  });

  it("a failing provider.delete keeps the finalizer and backs off", async () => {
    const h = await ensured();
    const err = new Error("cannot delete yet");
    h.provider.fault = (op) => (op === "delete" ? err : undefined);
    h.edit((s) => {
      s.metadata!.deletionTimestamp = new Date("2026-01-01T00:00:00Z");
    });
    expect(await h.reconcile()).toEqual({ kind: "backoff", cause: err });
    expect(h.journal.entries).toEqual([`delete ${KEY}`]);
    expect(h.events.events.map((e) => `${e.type} ${e.reason}`)).toEqual([
      "Normal DeletingLoadBalancer",
      "Warning DeleteLoadBalancerFailed",
    ]);
    expect(h.svc()?.metadata?.finalizers).toEqual(LOAD_BALANCER_FINALIZERS);
  });

  it("a Service that vanished without our finalizer after we ensured it: provider.delete with its id", async () => {
    const h = await ensured();
    h.cache.remove(newService("web"));
    expect(await h.reconcile()).toEqual({ kind: "success" });
    expect(h.journal.entries).toEqual([`delete ${KEY}`]);
    expect(h.provider.live.size).toBe(0);
    h.clear();
    await h.reconcile();
    expect(h.journal.entries).toEqual([]);
  });

  it("a vanished Service whose delete fails is retried with backoff, then deleted", async () => {
    const h = await ensured();
    h.cache.remove(newService("web"));
    h.provider.fault = () => new Error("throttled");
    expect((await h.reconcile()).kind).toBe("backoff");
    h.provider.fault = () => undefined;
    await h.reconcile();
    expect(h.journal.entries).toEqual([`delete ${KEY}`, `delete ${KEY}`]);
    expect(h.provider.live.size).toBe(0);
  });

  it("a vanished Service we never made a load balancer for needs no provider call", async () => {
    const h = harness([newService("web", tweakPorts({ name: "http", port: 80 }))]); // invalid: no nodePort
    await h.reconcile();
    h.cache.remove(newService("web"));
    expect(await h.reconcile()).toEqual({ kind: "success" });
    expect(h.provider.calls).toEqual([]);
  });
});

describe("ServiceReconciler: Services that are not ours", () => {
  it.each([
    { name: "another class", svc: newService("web", tweakClass("other.io/lb")), opts: AS_DEFAULT },
    {
      name: "no class while we are not the default",
      svc: newService("web"),
      opts: { ...AS_DEFAULT, isDefaultClass: false },
    },
    { name: "not a LoadBalancer", svc: newService("web", (s) => (s.spec!.type = "ClusterIP")), opts: AS_DEFAULT },
  ])("$name: untouched", async ({ svc, opts }) => {
    const h = harness([svc], { classOptions: opts });
    expect(await h.reconcile()).toEqual({ kind: "success" });
    expect(h.provider.calls).toEqual([]);
    expect(h.writer.calls).toEqual([]);
    expect(h.events.events).toEqual([]);
  });

  it("our class while we are not the default is ensured", async () => {
    const h = harness([newService("web", tweakClass(OURS))], {
      classOptions: { ...AS_DEFAULT, isDefaultClass: false },
    });
    await h.reconcile();
    expect(h.journal.entries).toEqual([`addFinalizers ${KEY}`, `ensure ${KEY}`, `patchLoadBalancerStatus ${KEY}`]);
  });

  // The upstream finalizer is shared by every k8s.io/cloud-provider based controller, so a Service of another
  // class carrying it (and not our owner finalizer) belongs to someone else: no delete, no finalizer or status change.
  it("leaves alone a Service of another class carrying the shared upstream cleanup finalizer", async () => {
    const foreign = newService(
      "web",
      tweakClass("other.io/lb"),
      tweakFinalizer(LOAD_BALANCER_CLEANUP_FINALIZER),
      (s) => {
        s.status = { loadBalancer: { ingress: [{ ip: "203.0.113.9", ipMode: "VIP" }] } };
      },
    );
    const h = harness([foreign]);
    await h.reconcile();
    expect(h.journal.entries).toEqual([]);
    expect(h.svc()?.metadata?.finalizers).toEqual([LOAD_BALANCER_CLEANUP_FINALIZER]);
    expect(h.svc()?.status?.loadBalancer?.ingress).toHaveLength(1);
  });
});

describe("splitKey", () => {
  it("splits namespace/name and treats a key without a slash as cluster-scoped", () => {
    expect(splitKey("ns/web")).toEqual(["ns", "web"]);
    expect(splitKey("node-1")).toEqual(["", "node-1"]);
  });
});
