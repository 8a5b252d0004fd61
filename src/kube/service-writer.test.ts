import { describe, expect, it } from "vitest";
import { newService } from "../../test/fixtures/services.js";
import type { KubeRest } from "./kube-rest.js";
import { KubeServiceWriter, MAX_CONDITION_MESSAGE_BYTES, conditionMessage } from "./service-writer.js";

/** Captures each patch body. */
function fakeRest() {
  const bodies: unknown[] = [];
  const rest = {
    patch: async (_path: string, body: unknown) => void bodies.push(body),
  } as unknown as KubeRest;
  return { rest, bodies };
}

const sentCondition = (body: unknown) =>
  (body as { status: { conditions: { type: string; message?: string }[] } }).status.conditions[0];

describe("KubeServiceWriter.setCondition", () => {
  it("cuts a message over the apiserver's 32 KiB condition limit, so the write is not refused with a 422", async () => {
    const f = fakeRest();
    const writer = new KubeServiceWriter(f.rest);
    const message = `annotation "${"x".repeat(262_144)}" is bad`;
    await writer.setCondition(newService("web"), "lb-operator.io/SpecValid", {
      status: "False",
      reason: "InvalidSpec",
      message,
    });
    const sent = sentCondition(f.bodies[0])?.message ?? "";
    expect(Buffer.byteLength(sent)).toBeLessThanOrEqual(MAX_CONDITION_MESSAGE_BYTES);
    expect(Buffer.byteLength(sent)).toBeGreaterThan(MAX_CONDITION_MESSAGE_BYTES - 4);
    expect(sent).toBe(conditionMessage(message));
  });

  it("writes a short message unchanged", async () => {
    const f = fakeRest();
    await new KubeServiceWriter(f.rest).setCondition(newService("web"), "T", {
      status: "False",
      reason: "R",
      message: "short",
    });
    expect(sentCondition(f.bodies[0])).toMatchObject({ type: "T", status: "False", reason: "R", message: "short" });
  });
});
