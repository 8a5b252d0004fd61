import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { FakeClock } from "../../test/fakes/fake-clock.js";
import { newService } from "../../test/fixtures/services.js";
import { KubeEventRecorder, MAX_EVENT_MESSAGE_BYTES } from "./event-recorder.js";
import type { KubeRest } from "./kube-rest.js";

/** Records what would be sent; `gate` holds every write until released, to fill the queue. */
function fakeRest() {
  const sent: { method: string; path: string; body: Record<string, unknown> }[] = [];
  let release: (() => void) | undefined;
  let gate: Promise<void> | undefined;
  const rest = {
    post: async (path: string, body: unknown) => {
      await gate;
      sent.push({ method: "POST", path, body: body as Record<string, unknown> });
    },
    patch: async (path: string, body: unknown) => {
      await gate;
      sent.push({ method: "PATCH", path, body: body as Record<string, unknown> });
    },
  } as unknown as KubeRest;
  return {
    rest,
    sent,
    hold: () => (gate = new Promise<void>((r) => (release = r))),
    release: () => {
      gate = undefined;
      release?.();
    },
  };
}

const svc = newService("web");
const make = (rest: KubeRest, clock = new FakeClock(), extra: { maxQueued?: number; onDropped?: () => void } = {}) =>
  new KubeEventRecorder({
    rest,
    clock,
    logger: pino({ level: "silent" }),
    component: "lb-operator",
    instance: "i",
    ...extra,
  });

describe("KubeEventRecorder", () => {
  it("creates an Event about the Service, then aggregates a repeat into count", async () => {
    const f = fakeRest();
    const clock = new FakeClock();
    const rec = make(f.rest, clock);
    rec.record(svc, "Warning", "SyncLoadBalancerFailed", "boom");
    await rec.flush();
    clock.advance(1_000);
    rec.record(svc, "Warning", "SyncLoadBalancerFailed", "boom");
    await rec.flush();
    expect(f.sent.map((s) => s.method)).toEqual(["POST", "PATCH"]);
    expect(f.sent[0]?.path).toBe("/api/v1/namespaces/default/events");
    expect(f.sent[0]?.body).toMatchObject({
      type: "Warning",
      reason: "SyncLoadBalancerFailed",
      involvedObject: { kind: "Service", name: "web", uid: "uid-web" },
      source: { component: "lb-operator" },
    });
    expect(f.sent[1]?.path).toBe(
      `/api/v1/namespaces/default/events/${(f.sent[0]?.body.metadata as { name: string }).name}`,
    );
    expect(f.sent[1]?.body).toMatchObject({ count: 2 });
  });

  it("creates a new Event once the aggregation window has passed", async () => {
    const f = fakeRest();
    const clock = new FakeClock();
    const rec = make(f.rest, clock);
    rec.record(svc, "Normal", "EnsuredLoadBalancer", "ok");
    await rec.flush();
    clock.advance(11 * 60_000);
    rec.record(svc, "Normal", "EnsuredLoadBalancer", "ok");
    await rec.flush();
    expect(f.sent.map((s) => s.method)).toEqual(["POST", "POST"]);
  });

  it("drops and counts events beyond its queue instead of growing without bound", async () => {
    const f = fakeRest();
    let dropped = 0;
    const rec = make(f.rest, new FakeClock(), { maxQueued: 3, onDropped: () => dropped++ });
    void f.hold();
    for (let i = 0; i < 10; i++) rec.record(svc, "Normal", "EnsuringLoadBalancer", `m${i}`);
    f.release();
    await rec.flush();
    // two in flight (the writers) + three queued
    expect(f.sent).toHaveLength(5);
    expect(dropped).toBe(5);
  });

  it("cuts a huge message to 1 KiB, and aggregates on the cut message, not the whole", async () => {
    const f = fakeRest();
    const clock = new FakeClock();
    const rec = make(f.rest, clock);
    const head = `Error syncing load balancer: ${"é".repeat(2_000)}`;
    rec.record(svc, "Warning", "SyncLoadBalancerFailed", `${head}${"a".repeat(262_144)}`);
    await rec.flush();
    clock.advance(1_000);
    // Differs only beyond the cut: the same Event, counted twice.
    rec.record(svc, "Warning", "SyncLoadBalancerFailed", `${head}${"b".repeat(262_144)}`);
    await rec.flush();
    expect(f.sent.map((s) => s.method)).toEqual(["POST", "PATCH"]);
    const message = f.sent[0]?.body.message as string;
    expect(Buffer.byteLength(message)).toBeLessThanOrEqual(MAX_EVENT_MESSAGE_BYTES);
    expect(Buffer.byteLength(message)).toBeGreaterThan(MAX_EVENT_MESSAGE_BYTES - 4);
    expect(message.startsWith("Error syncing load balancer: éé")).toBe(true);
    expect(message.endsWith("é…")).toBe(true);
  });

  it("leaves a message within 1 KiB whole", async () => {
    const f = fakeRest();
    const rec = make(f.rest);
    const message = "x".repeat(MAX_EVENT_MESSAGE_BYTES);
    rec.record(svc, "Warning", "SyncLoadBalancerFailed", message);
    await rec.flush();
    expect(f.sent[0]?.body.message).toBe(message);
  });
});
