import pino from "pino";
import { describe, expect, it } from "vitest";
import { CoalescedNotifier } from "./coalesced-notifier.js";

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe("CoalescedNotifier", () => {
  it("calls once per burst, asynchronously, and never after stop", async () => {
    let calls = 0;
    const n = new CoalescedNotifier(() => void calls++, pino({ level: "silent" }), "test");
    n.notify();
    n.notify();
    expect(calls).toBe(0);
    await tick();
    expect(calls).toBe(1);
    n.notify();
    n.stop();
    await tick();
    expect(calls).toBe(1);
  });

  it("logs a throwing handler instead of throwing", async () => {
    const lines: string[] = [];
    const logger = pino({ level: "error" }, { write: (l: string) => void lines.push(l) });
    const n = new CoalescedNotifier(
      () => {
        throw new Error("boom");
      },
      logger,
      "membership",
    );
    n.notify();
    await tick();
    expect(lines.join("")).toContain("membership onChange handler threw");
  });
});
