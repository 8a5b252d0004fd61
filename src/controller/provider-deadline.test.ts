import { describe, expect, it } from "vitest";
import { FakeClock } from "../../test/fakes/fake-clock.js";
import { newSpec } from "../../testing/new-spec.js";
import { DeadlineExceededError, ProviderError, goDuration } from "../errors.js";
import type { LoadBalancerId, LoadBalancerProvider, LoadBalancerSpec, LoadBalancerStatus } from "../provider.js";
import { withDeadline } from "./provider-deadline.js";

const STATUS: LoadBalancerStatus = { ingress: [{ hostname: "lb.example" }] };
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

/** A provider whose calls wait for the test: `honour` ones end when their signal aborts, like cloudCall's. */
class GatedProvider implements LoadBalancerProvider {
  readonly name = "gated";
  readonly signals: AbortSignal[] = [];
  readonly started: string[] = [];
  private readonly gates: (() => void)[] = [];
  honour = true;
  restored = 0;

  async restore(): Promise<void> {
    this.restored++;
  }

  ensure(spec: LoadBalancerSpec, signal: AbortSignal): Promise<LoadBalancerStatus> {
    return this.wait(`ensure ${spec.id.name}`, signal).then(() => STATUS);
  }

  delete(id: LoadBalancerId, signal: AbortSignal): Promise<void> {
    return this.wait(`delete ${id.name}`, signal);
  }

  /** Lets every waiting call finish successfully. */
  release(): void {
    for (const open of this.gates.splice(0)) open();
  }

  private wait(call: string, signal: AbortSignal): Promise<void> {
    this.started.push(call);
    this.signals.push(signal);
    return new Promise<void>((resolve, reject) => {
      this.gates.push(resolve);
      if (this.honour) signal.addEventListener("abort", () => reject(signal.reason as Error), { once: true });
    });
  }
}

function setup(timeoutMs = 10_000) {
  const clock = new FakeClock();
  const inner = new GatedProvider();
  const provider = withDeadline(inner, { timeoutMs, clock });
  const idle = new AbortController().signal;
  return { clock, inner, provider, idle };
}

async function outcome(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    (value) => ({ value }),
    (err: unknown) => err,
  );
}

describe("withDeadline", () => {
  it("aborts the provider's signal at the deadline with a retryable error naming the timeout", async () => {
    const { clock, inner, provider, idle } = setup();
    const call = outcome(provider.ensure(newSpec({ name: "hung" }), idle));
    await tick();
    clock.advance(9_999);
    expect(inner.signals[0]?.aborted).toBe(false);
    clock.advance(1);
    const err = await call;
    expect(err).toBeInstanceOf(DeadlineExceededError);
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as Error).message).toBe("provider gated ensure timed out after 10s");
    expect(inner.signals[0]?.aborted).toBe(true);
    expect(inner.signals[0]?.reason).toBe(err);
  });

  it("answers at the deadline even when the provider ignores its signal", async () => {
    const { clock, inner, provider, idle } = setup(120_000);
    inner.honour = false;
    const call = outcome(provider.delete(newSpec({ name: "stuck" }).id, idle));
    await tick();
    clock.advance(120_000);
    expect(((await call) as Error).message).toBe("provider gated delete timed out after 2m0s");
  });

  it("keeps one call per Service: the next waits for an abandoned one, other Services do not", async () => {
    const { clock, inner, provider, idle } = setup();
    inner.honour = false;
    const first = outcome(provider.ensure(newSpec({ name: "a" }), idle));
    await tick();
    clock.advance(10_000);
    expect(await first).toBeInstanceOf(DeadlineExceededError);

    const again = provider.ensure(newSpec({ name: "a" }), idle);
    const other = provider.ensure(newSpec({ name: "b" }), idle);
    await tick();
    expect(inner.started).toEqual(["ensure a", "ensure b"]);
    inner.release();
    await expect(other).resolves.toEqual(STATUS);
    await tick();
    expect(inner.started).toEqual(["ensure a", "ensure b", "ensure a"]);
    inner.release();
    await expect(again).resolves.toEqual(STATUS);
  });

  it("passes a successful answer through and leaves no timer behind", async () => {
    const { clock, inner, provider, idle } = setup();
    const call = provider.ensure(newSpec({ name: "ok" }), idle);
    await tick();
    inner.release();
    await expect(call).resolves.toEqual(STATUS);
    expect(clock.pendingTimers).toBe(0);
  });

  it("ends the call with the controller's reason when the controller stops first", async () => {
    const { clock, inner, provider } = setup();
    const stop = new AbortController();
    const call = outcome(provider.ensure(newSpec({ name: "s" }), stop.signal));
    await tick();
    const reason = new Error("shutting down");
    stop.abort(reason);
    expect(await call).toBe(reason);
    expect(inner.signals[0]?.reason).toBe(reason);
    expect(clock.pendingTimers).toBe(0);
  });

  it("keeps restore, without a deadline, and refuses a timeout that is not positive", async () => {
    const { inner, provider } = setup();
    await provider.restore?.([]);
    expect(inner.restored).toBe(1);
    expect(() => withDeadline(inner, { timeoutMs: 0, clock: new FakeClock() })).toThrow(RangeError);
  });
});

describe("goDuration", () => {
  it("prints durations as Go does", () => {
    expect([500, 10_000, 1_500, 120_000, 90_000, 3_600_000].map(goDuration)).toEqual([
      "500ms",
      "10s",
      "1.5s",
      "2m0s",
      "1m30s",
      "1h0m0s",
    ]);
  });
});
