import type { KubernetesObject } from "@kubernetes/client-node";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import type { KubeRest } from "../../src/kube/kube-rest.js";
import { FakeClock } from "../../test/fakes/fake-clock.js";
import type { PoolVerdict } from "./pool-status.js";
import { PoolStatusWriter } from "./pool-status-writer.js";

interface Call {
  readonly method: "patch" | "post";
  readonly path: string;
  readonly body: unknown;
}

/** Records writes and, like the apiserver, stores a status patch on the object with a new resourceVersion. */
function setup(verdicts: Map<string, PoolVerdict>, active = { value: true }) {
  const calls: Call[] = [];
  const objects: KubernetesObject[] = [
    {
      apiVersion: "lb-operator.io/v1alpha1",
      kind: "AddressPool",
      metadata: { name: "lab", uid: "u1", resourceVersion: "1", generation: 1 },
    },
  ];
  let rv = 1;
  const rest = {
    patch: async (path: string, body: unknown) => {
      calls.push({ method: "patch", path, body });
      const obj = objects[0];
      if (obj !== undefined)
        objects[0] = { ...obj, ...(body as object), metadata: { ...obj.metadata, resourceVersion: String(++rv) } };
    },
    post: async (path: string, body: unknown) => {
      calls.push({ method: "post", path, body });
    },
  } as unknown as KubeRest;
  const clock = new FakeClock();
  const writer = new PoolStatusWriter({
    rest,
    logger: pino({ level: "silent" }),
    clock,
    objects: () => objects,
    verdict: (name) => verdicts.get(name),
    active: () => active.value,
    instance: "test",
  });
  const tick = async (): Promise<void> => {
    clock.advance(1_000);
    await writer.idle();
  };
  return { calls, writer, tick };
}

const usage = (used: number): PoolVerdict => ({
  accepted: true,
  usage: { pool: "lab", capacity: { IPv4: 16n, IPv6: 0n }, used: { IPv4: used, IPv6: 0 } },
});

describe("PoolStatusWriter", () => {
  it("writes once per change, coalescing requests, and not at all while inactive (a standby)", async () => {
    const verdicts = new Map([["lab", usage(1)]]);
    const active = { value: false };
    const { calls, writer, tick } = setup(verdicts, active);
    writer.schedule();
    await tick();
    expect(calls).toEqual([]);
    active.value = true;
    for (let i = 0; i < 10; i++) writer.schedule();
    await tick();
    expect(calls.map((c) => [c.method, c.path])).toEqual([
      ["patch", "/apis/lb-operator.io/v1alpha1/addresspools/lab/status"],
    ]);
    expect(calls[0]?.body).toMatchObject({ status: { assignedIPv4: 1, availableIPv4: 15 } });
    // Nothing changed: no write, however often asked (our own status update comes back as an event too).
    writer.schedule();
    await tick();
    expect(calls).toHaveLength(1);
    verdicts.set("lab", usage(2));
    writer.schedule();
    await tick();
    expect(calls).toHaveLength(2);
  });

  it("records one Warning when the pool is refused and one Normal when it recovers", async () => {
    const verdicts = new Map<string, PoolVerdict>([["lab", { accepted: false, reason: "Overlap", message: "clash" }]]);
    const { calls, writer, tick } = setup(verdicts);
    writer.schedule();
    await tick();
    writer.schedule();
    await tick();
    const events = (): unknown[] => calls.filter((c) => c.method === "post").map((c) => c.body);
    expect(events()).toHaveLength(1);
    expect(events()[0]).toMatchObject({
      type: "Warning",
      reason: "PoolOverlap",
      message: "clash",
      involvedObject: { kind: "AddressPool", name: "lab", uid: "u1" },
    });
    verdicts.set("lab", usage(0));
    writer.schedule();
    await tick();
    expect(events()).toHaveLength(2);
    expect(events()[1]).toMatchObject({ type: "Normal", reason: "PoolAccepted" });
  });
});
