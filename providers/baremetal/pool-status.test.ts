import { describe, expect, it } from "vitest";
import { MAX_CONDITION_MESSAGE, desiredPoolStatus, statusDiffers } from "./pool-status.js";

const usage = {
  pool: "lab",
  capacity: { IPv4: 16n, IPv6: 1n << 64n },
  used: { IPv4: 3, IPv6: 1 },
};
const t0 = new Date("2026-01-01T00:00:00Z");
const t1 = new Date("2026-01-02T00:00:00Z");

describe("desiredPoolStatus", () => {
  it("reports MetalLB's counts and Ready=True for a pool in use, capping huge IPv6 counts", () => {
    const status = desiredPoolStatus({ accepted: true, usage }, 2, undefined, t0);
    expect(status).toMatchObject({ assignedIPv4: 3, availableIPv4: 13, assignedIPv6: 1 });
    expect(status.availableIPv6).toBe(Number.MAX_SAFE_INTEGER);
    expect(status.conditions).toEqual([
      expect.objectContaining({ type: "Ready", status: "True", reason: "Accepted", observedGeneration: 2 }),
    ]);
  });

  it("says Ready=False with the reason for a refused pool, with a bounded message", () => {
    const long = `bad ${"x".repeat(5000)}`;
    const status = desiredPoolStatus({ accepted: false, reason: "InvalidSpec", message: long }, 1, undefined, t0);
    const [ready] = status.conditions;
    expect(ready).toMatchObject({ status: "False", reason: "InvalidSpec" });
    expect(ready?.message.length).toBeLessThanOrEqual(MAX_CONDITION_MESSAGE);
    expect(ready?.message).toContain("5004 characters in all");
    expect(status.assignedIPv4).toBe(0);
  });

  it("keeps the transition time while Ready's status holds, and differs only when something a reader sees changes", () => {
    const first = desiredPoolStatus({ accepted: true, usage }, 1, undefined, t0);
    const same = desiredPoolStatus({ accepted: true, usage }, 1, first, t1);
    expect(same.conditions[0]?.lastTransitionTime).toBe(t0.toISOString());
    expect(statusDiffers(first, same)).toBe(false);
    const more = desiredPoolStatus({ accepted: true, usage: { ...usage, used: { IPv4: 4, IPv6: 1 } } }, 1, first, t1);
    expect(statusDiffers(first, more)).toBe(true);
    const refused = desiredPoolStatus({ accepted: false, reason: "Overlap", message: "m" }, 1, first, t1);
    expect(refused.conditions[0]?.lastTransitionTime).toBe(t1.toISOString());
    expect(statusDiffers(undefined, first)).toBe(true);
  });
});
