import { describe, expect, it } from "vitest";
import { FakeClock } from "../../test/fakes/fake-clock.js";
import { InvalidSpecError, RetryAfterError } from "../errors.js";
import { type SyncVerdict, success, verdictFor } from "./sync-verdict.js";
import { WorkQueue } from "./work-queue.js";

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await tick();
}

function harness(workers = 2) {
  const clock = new FakeClock();
  const scheduled: (number | undefined)[] = [];
  const queue = new WorkQueue({ clock, onVerdict: (_key, _verdict, next) => scheduled.push(next) });
  const calls: string[] = [];
  const verdicts = new Map<string, SyncVerdict[]>();
  let inFlight = new Map<string, number>();
  let maxConcurrentPerKey = 0;
  const gates = new Map<string, () => void>();
  const blockKeys = new Set<string>();
  const controller = new AbortController();
  const running = queue.run(
    workers,
    async (key) => {
      calls.push(key);
      const n = (inFlight.get(key) ?? 0) + 1;
      inFlight.set(key, n);
      maxConcurrentPerKey = Math.max(maxConcurrentPerKey, n);
      if (blockKeys.has(key)) await new Promise<void>((r) => gates.set(key, r));
      inFlight.set(key, n - 1);
      return verdicts.get(key)?.shift() ?? success;
    },
    controller.signal,
  );
  return {
    clock,
    queue,
    scheduled,
    calls,
    verdicts,
    blockKeys,
    gates,
    maxConcurrent: () => maxConcurrentPerKey,
    stop: async () => {
      controller.abort();
      for (const g of gates.values()) g();
      await running;
      inFlight = new Map();
    },
  };
}

describe("WorkQueue", () => {
  it("dedupes a key that is added several times before a worker takes it", async () => {
    const h = harness(1);
    h.blockKeys.add("block");
    h.queue.add("block");
    await settle();
    h.queue.add("a");
    h.queue.add("a");
    h.queue.add("a");
    h.gates.get("block")!();
    await settle();
    expect(h.calls).toEqual(["block", "a"]);
    await h.stop();
  });

  it("never runs one key on two workers; an add during processing runs once more afterwards", async () => {
    const h = harness(4);
    h.blockKeys.add("a");
    h.queue.add("a");
    await settle();
    h.queue.add("a");
    h.queue.add("a");
    await settle();
    expect(h.calls).toEqual(["a"]);
    h.blockKeys.delete("a");
    h.gates.get("a")!();
    await settle();
    expect(h.calls).toEqual(["a", "a"]);
    expect(h.maxConcurrent()).toBe(1);
    await h.stop();
  });

  it("backs off exponentially from 5 s to 300 s per key and resets on success", async () => {
    const h = harness(1);
    const failures = Array.from({ length: 9 }, (): SyncVerdict => ({ kind: "backoff", cause: new Error("x") }));
    h.verdicts.set("a", failures);
    h.queue.add("a");
    await settle();
    for (let i = 0; i < 8; i++) {
      const delay = h.scheduled.at(-1)!;
      const before = h.calls.length;
      h.clock.advance(delay - 1);
      await settle();
      expect(h.calls.length).toBe(before);
      h.clock.advance(1);
      await settle();
      expect(h.calls.length).toBe(before + 1);
    }
    expect(h.scheduled.slice(0, 8)).toEqual([5_000, 10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000]);
    h.verdicts.set("a", []);
    h.clock.advance(300_000);
    await settle();
    expect(h.queue.failureCount("a")).toBe(0);
    await h.stop();
  });

  it("honours a retry-after verdict exactly and does not retry a no-retry verdict", async () => {
    const h = harness(1);
    h.verdicts.set("throttled", [verdictFor(new RetryAfterError("slow down", 7_000))]);
    h.verdicts.set("invalid", [verdictFor(new InvalidSpecError("spec.ports", "no ports"))]);
    h.queue.add("throttled");
    h.queue.add("invalid");
    await settle();
    h.clock.advance(6_999);
    await settle();
    expect(h.calls).toEqual(["throttled", "invalid"]);
    h.clock.advance(1);
    await settle();
    expect(h.calls).toEqual(["throttled", "invalid", "throttled"]);
    h.clock.advance(3_600_000);
    await settle();
    expect(h.calls.filter((c) => c === "invalid")).toHaveLength(1);
    await h.stop();
  });

  it("a fresh add replaces a pending backoff and an earlier delayed add wins over a later one", async () => {
    const h = harness(1);
    h.queue.addAfter("a", 10_000);
    h.queue.addAfter("a", 20_000);
    h.clock.advance(10_000);
    await settle();
    expect(h.calls).toEqual(["a"]);
    h.queue.addAfter("b", 10_000);
    h.queue.add("b");
    await settle();
    h.clock.advance(10_000);
    await settle();
    expect(h.calls).toEqual(["a", "b"]);
    await h.stop();
  });

  it("stops its workers and drops delayed retries on abort", async () => {
    const h = harness(2);
    h.queue.addAfter("a", 1_000);
    await h.stop();
    expect(h.clock.pendingTimers).toBe(0);
    h.queue.add("b");
    await settle();
    expect(h.calls).toEqual([]);
  });
});
