/**
 * Refusals end to end, against a real kube-apiserver with the bare-metal provider: a spec the provider refuses gives
 * the same three things as one the model refuses (one Warning event, the SpecValid=False condition, one log line),
 * a 256 KiB annotation value gives bounded messages and is written without a 422, and a refused Service is not
 * retried until it changes. The event-loop delay of the huge case is printed next to a small one's, not asserted.
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import type { V1Condition } from "@kubernetes/client-node";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BaremetalProvider, validatePools } from "../../providers/baremetal/index.js";
import { ControllerMetrics } from "../../src/metrics.js";
import type { LoadBalancerId, LoadBalancerProvider, LoadBalancerSpec, LoadBalancerStatus } from "../../src/provider.js";
import { ControllerState, runController } from "../../src/run-controller.js";
import { systemClock } from "../../src/util/clock.js";
import { delay, eventually } from "../../testing/eventually.js";
import { KubeTestClient } from "../../testing/kube-test-client.js";
import { type ControlPlane, startControlPlane } from "../env/control-plane.js";
import { apiService } from "../fixtures/api-services.js";
import { tweakAnnotation } from "../fixtures/services.js";

const CLASS = "lb-operator.io/baremetal";
const SHARING = "lb-operator.io/allow-shared-ip";
const SPEC_VALID = "lb-operator.io/SpecValid";
/** The apiserver's limit for all of an object's annotations together, keys included (TotalAnnotationSizeLimitB). */
const ANNOTATIONS_LIMIT = 256 * 1024;

/** The bare-metal provider, counting ensure calls per namespace/name: each is one reconcile that reached it. */
class CountingProvider implements LoadBalancerProvider {
  readonly name = "baremetal";
  readonly ensures = new Map<string, number>();
  private readonly inner = new BaremetalProvider({
    pools: validatePools([{ name: "lab", addresses: ["203.0.113.0/28"] }], "test"),
    retryAfterMs: 1_000,
  });

  ensure(spec: LoadBalancerSpec, signal: AbortSignal): Promise<LoadBalancerStatus> {
    const key = `${spec.id.namespace}/${spec.id.name}`;
    this.ensures.set(key, (this.ensures.get(key) ?? 0) + 1);
    return this.inner.ensure(spec, signal);
  }

  delete(id: LoadBalancerId, signal: AbortSignal): Promise<void> {
    return this.inner.delete(id, signal);
  }
}

let cp: ControlPlane;
let kube: KubeTestClient;
const provider = new CountingProvider();
/** The controller's log lines, parsed. */
const logs: Record<string, unknown>[] = [];
const stopController = new AbortController();
let controllerDone: Promise<unknown> | undefined;

beforeAll(async () => {
  cp = await startControlPlane();
  kube = new KubeTestClient(cp.kubeConfig());
  const state = new ControllerState();
  const logger = pino(
    { level: "info" },
    { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) },
  );
  controllerDone = runController(
    {
      clusterId: "refusals",
      classOptions: { loadBalancerClass: CLASS, isDefaultClass: false },
      workers: 2,
      driftPeriodMs: 600_000,
      reconcileTimeoutMs: 60_000,
      leaderElection: undefined,
      instance: "refusals-test",
    },
    {
      kubeConfig: cp.kubeConfig(),
      provider,
      logger,
      clock: systemClock,
      metrics: new ControllerMetrics({ processMetrics: false }),
    },
    stopController.signal,
    state,
  );
  await eventually("caches synced", async () => state.synced, { timeoutMs: 60_000, intervalMs: 50 });
});
afterAll(async () => {
  stopController.abort();
  await controllerDone;
  await cp?.stop();
});

const bytes = (text: string | undefined): number => Buffer.byteLength(text ?? "");
const specValid = async (ns: string, name: string): Promise<V1Condition | undefined> =>
  (await kube.service(ns, name))?.status?.conditions?.find((c) => c.type === SPEC_VALID);
const warnings = async (ns: string, name: string) => (await kube.events(ns, name)).filter((e) => e.type === "Warning");
const refusalLogs = (key: string) => logs.filter((l) => l.msg === "invalid load balancer spec" && l.key === key);

/** Event-loop delay over one window, in ms. */
interface LoopDelay {
  readonly p99: number;
  readonly max: number;
}

/**
 * Creates a Service with allow-shared-ip set to `value` and waits for its SpecValid condition, measuring the event
 * loop's delay over that window (the controller runs in this process) with a histogram of its own: one re-enabled
 * after a pause would count the pause as delay.
 */
async function refuse(ns: string, name: string, value: string): Promise<{ condition: V1Condition; loop: LoopDelay }> {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  await kube.core.createNamespacedService({
    namespace: ns,
    body: apiService(ns, name, CLASS, tweakAnnotation(SHARING, value)),
  });
  const condition = await eventually("the SpecValid condition", () => specValid(ns, name), { intervalMs: 50 });
  histogram.disable();
  return { condition, loop: { p99: histogram.percentile(99) / 1e6, max: histogram.max / 1e6 } };
}

/** The worst of several windows. */
const worst = (windows: readonly LoopDelay[]): LoopDelay => ({
  p99: Math.max(...windows.map((w) => w.p99)),
  max: Math.max(...windows.map((w) => w.max)),
});

describe("refused specs against a real apiserver (bare-metal provider)", () => {
  it("a 256 KiB invalid sharing key: one short Warning, the condition written, one log line, no retries", async () => {
    const ns = await kube.createNamespace("huge");
    const value = "k".repeat(ANNOTATIONS_LIMIT - SHARING.length);
    // Round 0 warms up and is not counted; each Service is measured alone, after the watch events of the one
    // before (the huge ones carry 256 KiB objects) have settled.
    const small: LoopDelay[] = [];
    const large: LoopDelay[] = [];
    for (let round = 0; round < 5; round++) {
      const quiet = await refuse(ns, `small-${round}`, "has space");
      await delay(300);
      const loud = await refuse(ns, round === 0 ? "huge" : `huge-${round}`, value);
      expect(loud.condition).toMatchObject({ status: "False", reason: "InvalidSpec" });
      await delay(300);
      if (round > 0) {
        small.push(quiet.loop);
        large.push(loud.loop);
      }
    }
    console.info("event-loop delay (ms) from create to SpecValid=False stored, worst of 4 Services each", {
      small: worst(small),
      huge: worst(large),
    });
    const huge = { condition: await specValid(ns, "huge") };

    expect(huge.condition).toMatchObject({ status: "False", reason: "InvalidSpec" });
    expect(bytes(huge.condition?.message)).toBeLessThan(1024);
    expect(huge.condition?.message).toContain(`(${value.length} bytes) is over the 32768-byte limit`);

    // Settle, then watch for a while: a refused Service is not retried until it changes.
    await delay(1_000);
    const ensuresBefore = provider.ensures.get(`${ns}/huge`);
    await delay(5_000);
    expect(provider.ensures.get(`${ns}/huge`)).toBe(ensuresBefore);
    expect(ensuresBefore).toBeLessThanOrEqual(2);

    const refusals = await warnings(ns, "huge");
    expect(refusals).toHaveLength(1);
    expect(refusals[0]).toMatchObject({ reason: "SyncLoadBalancerFailed", count: 1 });
    expect(bytes(refusals[0]?.message)).toBeLessThan(1024);
    expect(refusals[0]?.message).toContain(`metadata.annotations[${SHARING}]`);
    const lines = refusalLogs(`${ns}/huge`);
    expect(lines).toHaveLength(1);
    expect(bytes(JSON.stringify(lines[0]))).toBeLessThan(2048);
    expect(await specValid(ns, "huge")).toMatchObject({ status: "False" });
  });

  it("a sharing key with a newline gives the condition, the event and a log line; fixing it removes the condition", async () => {
    const ns = await kube.createNamespace("newline");
    const { condition } = await refuse(ns, "nl", "team\nblue");
    expect(condition).toMatchObject({ status: "False", reason: "InvalidSpec" });
    expect(condition?.message).toContain('invalid sharing key "team\\nblue"');
    const events = await eventually("the Warning", async () => {
      const found = await warnings(ns, "nl");
      return found.length > 0 ? found : undefined;
    });
    expect(events).toHaveLength(1);
    expect(events[0]?.message).toBe(`Error syncing load balancer: ${condition?.message}`);
    expect(refusalLogs(`${ns}/nl`)).toHaveLength(1);

    await kube.updateService(ns, "nl", (s) => (s.metadata!.annotations![SHARING] = "team-blue"));
    const fixed = await eventually("an address and no SpecValid condition", async () => {
      const svc = await kube.service(ns, "nl");
      const condition = svc?.status?.conditions?.find((c) => c.type === SPEC_VALID);
      return svc?.status?.loadBalancer?.ingress?.length && condition === undefined ? svc : undefined;
    });
    expect(fixed.status?.loadBalancer?.ingress?.[0]?.ip).toMatch(/^203\.0\.113\./);
  });
});
