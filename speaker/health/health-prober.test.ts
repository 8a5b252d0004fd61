import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { FakeClock } from "../../test/fakes/fake-clock.js";
import { HealthProberConfigError } from "./health-errors.js";
import { HealthProber, type ProberOptions } from "./health-prober.js";
import { probeKey, type ProbeResult, type ProbeTarget } from "./probe-target.js";

const A: ProbeTarget = { kind: "http", ip: "192.0.2.10", port: 31000, path: "/healthz" };
const B: ProbeTarget = { kind: "tcp", ip: "192.0.2.11", port: 8080 };
const INTERVAL = 100;
const TIMEOUT = 50;

/** A scripted probe: each target answers what `health` says, after `latency` fake ms (or never, when hung). */
function harness(extra: Partial<ProberOptions> = {}) {
  const clock = new FakeClock();
  const health = new Map<string, boolean>();
  const calls: Array<{ key: string; at: number; signal: AbortSignal }> = [];
  let latency = 10;
  let hang = false;
  const release: Array<() => void> = [];
  let changes = 0;
  const prober = new HealthProber({
    intervalMs: INTERVAL,
    timeoutMs: TIMEOUT,
    logger: pino({ level: "silent" }),
    onChange: () => void changes++,
    clock,
    probe: (t, signal) => {
      const key = probeKey(t);
      calls.push({ key, at: clock.now(), signal });
      return new Promise<ProbeResult>((resolve) => {
        const answer = () => resolve({ ok: health.get(key) ?? true, detail: "scripted" });
        if (hang) release.push(answer);
        else clock.setTimeout(answer, latency);
      });
    },
    ...extra,
  });
  const flush = () => new Promise<void>((resolve) => setImmediate(resolve));
  /** Advances fake time in 1 ms steps so promise continuations run between timers, as they would for real. */
  const advance = async (ms: number) => {
    for (let i = 0; i < ms; i++) {
      clock.advance(1);
      await flush();
    }
  };
  return {
    clock,
    prober,
    health,
    calls,
    release,
    advance,
    flush,
    changes: () => changes,
    setLatency: (ms: number) => void (latency = ms),
    setHang: (h: boolean) => void (hang = h),
  };
}

describe("HealthProber (fake clock)", () => {
  it("rejects a timeout longer than the interval and bad thresholds", () => {
    const base = { logger: pino({ level: "silent" }), onChange: () => undefined };
    expect(() => new HealthProber({ ...base, intervalMs: 100, timeoutMs: 101 })).toThrow(HealthProberConfigError);
    expect(() => new HealthProber({ ...base, intervalMs: 100, timeoutMs: 50, failureThreshold: 0 })).toThrow(
      HealthProberConfigError,
    );
  });

  it("probes a new target at once, counts it healthy before the first answer, then probes every interval", async () => {
    const h = harness();
    h.prober.setTargets([A]);
    expect(h.calls.map((c) => c.at)).toEqual([0]);
    expect(h.prober.isHealthy(A)).toBe(true);
    await h.advance(3 * INTERVAL);
    expect(h.calls.map((c) => c.at)).toEqual([0, 100, 200, 300]);
    expect(h.changes()).toBe(0);
  });

  it("marks a failing target unhealthy within two intervals and back, calling onChange on transitions only", async () => {
    const h = harness();
    h.prober.setTargets([A, B]);
    await h.advance(20);
    const brokeAt = h.clock.now();
    h.health.set(probeKey(A), false);
    let unhealthyAt: number | undefined;
    while (unhealthyAt === undefined && h.clock.now() < 1000) {
      await h.advance(1);
      if (!h.prober.isHealthy(A)) unhealthyAt = h.clock.now();
    }
    expect(unhealthyAt! - brokeAt).toBeLessThanOrEqual(2 * INTERVAL);
    expect(h.changes()).toBe(1);
    await h.advance(3 * INTERVAL);
    expect(h.changes()).toBe(1);
    expect(h.prober.isHealthy(B)).toBe(true);
    h.health.set(probeKey(A), true);
    await h.advance(2 * INTERVAL);
    expect(h.prober.isHealthy(A)).toBe(true);
    expect(h.changes()).toBe(2);
  });

  it("applies failure and success thresholds", async () => {
    const h = harness({ failureThreshold: 2, successThreshold: 3 });
    h.health.set(probeKey(A), false);
    h.prober.setTargets([A]);
    await h.advance(11); // first failure
    expect(h.prober.isHealthy(A)).toBe(true);
    await h.advance(100); // second failure
    expect(h.prober.isHealthy(A)).toBe(false);
    h.health.set(probeKey(A), true);
    await h.advance(200); // two successes
    expect(h.prober.isHealthy(A)).toBe(false);
    await h.advance(100); // third
    expect(h.prober.isHealthy(A)).toBe(true);
    expect(h.changes()).toBe(2);
  });

  it("fails a probe at its timeout and never overlaps a hung probe with the next", async () => {
    const h = harness();
    h.setHang(true);
    h.prober.setTargets([A]);
    await h.advance(TIMEOUT - 1);
    expect(h.prober.isHealthy(A)).toBe(true);
    await h.advance(1);
    expect(h.prober.isHealthy(A)).toBe(false);
    expect(h.calls[0]!.signal.aborted).toBe(true);
    await h.advance(5 * INTERVAL);
    expect(h.calls).toHaveLength(1);
    h.setHang(false);
    h.release.shift()!();
    await h.flush();
    await h.advance(1);
    expect(h.calls).toHaveLength(2);
  });

  it("stops probing removed targets (aborting an in-flight probe) and everything on stop", async () => {
    const h = harness();
    h.setLatency(30);
    h.prober.setTargets([A, B]);
    await h.advance(5);
    h.prober.setTargets([B]);
    expect(h.calls.find((c) => c.key === probeKey(A))!.signal.aborted).toBe(true);
    await h.advance(3 * INTERVAL);
    expect(h.calls.filter((c) => c.key === probeKey(A))).toHaveLength(1);
    expect(h.calls.filter((c) => c.key === probeKey(B))).toHaveLength(4);
    h.prober.stop();
    await h.advance(3 * INTERVAL);
    expect(h.calls.filter((c) => c.key === probeKey(B))).toHaveLength(4);
  });

  it("forgets a removed target's verdict (healthy when re-added, until probed again)", async () => {
    const h = harness();
    h.health.set(probeKey(A), false);
    h.prober.setTargets([A]);
    await h.advance(11);
    expect(h.prober.isHealthy(A)).toBe(false);
    h.prober.setTargets([]);
    expect(h.prober.isHealthy(A)).toBe(true);
  });
});
