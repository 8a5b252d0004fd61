import { describe, expect, it } from "vitest";
import { type CloudCallObservation, observeCall } from "./cloud-call-observer.js";

function recorder(): { observer: { observe(c: CloudCallObservation): void }; seen: CloudCallObservation[] } {
  const seen: CloudCallObservation[] = [];
  return { observer: { observe: (c) => seen.push(c) }, seen };
}

const classify = (): { outcome: "throttled"; errorCode: string } => ({ outcome: "throttled", errorCode: "Throttling" });

describe("observeCall", () => {
  it("reports a success with its duration and returns the result", async () => {
    const { observer, seen } = recorder();
    let t = 1_000;
    const now = (): number => (t += 500);
    const result = await observeCall(
      observer,
      { api: "ec2", operation: "DescribeVpcs" },
      classify,
      () => Promise.resolve(7),
      now,
    );
    expect(result).toBe(7);
    expect(seen).toEqual([{ api: "ec2", operation: "DescribeVpcs", outcome: "success", errorCode: "", seconds: 0.5 }]);
  });

  it("reports a failure as the classifier reads it and rethrows the same error", async () => {
    const { observer, seen } = recorder();
    const err = new Error("slow down");
    const call = observeCall(observer, { api: "elbv2", operation: "CreateListener" }, classify, () =>
      Promise.reject(err),
    );
    await expect(call).rejects.toBe(err);
    expect(seen).toMatchObject([{ operation: "CreateListener", outcome: "throttled", errorCode: "Throttling" }]);
  });

  it("only runs the call when there is no observer", async () => {
    await expect(
      observeCall(undefined, { api: "s", operation: "o" }, classify, () => Promise.resolve("x")),
    ).resolves.toBe("x");
  });
});
