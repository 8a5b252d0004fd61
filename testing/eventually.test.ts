import { describe, expect, it } from "vitest";
import { LbOperatorError } from "../src/errors.js";
import { ConformanceTimeoutError, delay, eventually } from "./eventually.js";

describe("eventually", () => {
  it("resolves with the first value other than undefined or false", async () => {
    const answers = [undefined, false, "ready"];
    let calls = 0;
    expect(await eventually("ready", () => answers[calls++], { intervalMs: 1 })).toBe("ready");
    expect(calls).toBe(3);
  });

  it("takes 0 and the empty string as values (only undefined and false mean not yet)", async () => {
    expect(await eventually("zero", () => 0)).toBe(0);
    expect(await eventually("empty", async () => "")).toBe("");
  });

  it("treats a throwing check as not yet and keeps polling", async () => {
    let calls = 0;
    const value = await eventually(
      "the third call",
      () => {
        if (++calls < 3) throw new Error(`call ${calls} too early`);
        return calls;
      },
      { intervalMs: 1 },
    );
    expect(value).toBe(3);
  });

  it("times out with the last check's error in the message and as the cause", async () => {
    const last = new Error("backend b answered instead");
    const err = await eventually(
      "backend a",
      () => {
        throw last;
      },
      { timeoutMs: 30, intervalMs: 5 },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConformanceTimeoutError);
    expect(err).toBeInstanceOf(LbOperatorError);
    expect((err as Error).name).toBe("ConformanceTimeoutError");
    expect((err as Error).message).toBe(
      "timed out after 30 ms waiting for backend a; last check: backend b answered instead",
    );
    expect((err as Error).cause).toBe(last);
  });

  it("times out naming only what it waited for when no check threw", async () => {
    const err = await eventually("nothing", () => undefined, { timeoutMs: 20, intervalMs: 5 }).catch((e: unknown) => e);
    expect((err as Error).message).toBe("timed out after 20 ms waiting for nothing");
    expect((err as Error).cause).toBeUndefined();
  });

  it("checks at least once, and takes a value from a check that ends after the deadline", async () => {
    expect(await eventually("at once", () => "now", { timeoutMs: 0 })).toBe("now");
    expect(
      await eventually(
        "slow",
        async () => {
          await delay(30);
          return "late";
        },
        { timeoutMs: 10 },
      ),
    ).toBe("late");
  });
});

describe("delay", () => {
  it("resolves after about the given time", async () => {
    const started = performance.now();
    await delay(25);
    expect(performance.now() - started).toBeGreaterThanOrEqual(20);
  });
});
