import { describe, expect, it } from "vitest";
import type { GlobalOperationsClient, RegionOperationsClient, ZoneOperationsClient } from "@google-cloud/compute";
import { RetryAfterError } from "../../src/errors.js";
import type { Clock } from "../../src/util/clock.js";
import { GceOperationError, OperationWaiter, operationOf, type Operation } from "./gce-operations.js";

const R = "https://www.googleapis.com/compute/v1/projects/p/regions/r1";
const Z = "https://www.googleapis.com/compute/v1/projects/p/zones/z1";

/** A clock whose time moves only when the waiter sleeps, recording each sleep. */
function testClock(): Clock & { sleeps: number[] } {
  let now = 0;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    setTimeout: (fn, ms) => {
      sleeps.push(ms);
      now += ms;
      queueMicrotask(fn);
      return {};
    },
    clearTimeout: () => undefined,
  };
}

interface Recorded {
  scope: string;
  request: Record<string, unknown>;
}

/** Operations clients answering `wait` from `answers` in turn, recording each request. */
function clients(answers: Operation[]) {
  const calls: Recorded[] = [];
  const wait = (scope: string) => (request: Record<string, unknown>) => {
    calls.push({ scope, request });
    const next = answers.shift();
    return next ? Promise.resolve([next]) : Promise.reject(new Error("no more answers"));
  };
  return {
    calls,
    value: {
      regionOperations: { wait: wait("region") } as unknown as RegionOperationsClient,
      zoneOperations: { wait: wait("zone") } as unknown as ZoneOperationsClient,
      globalOperations: { wait: wait("global") } as unknown as GlobalOperationsClient,
    },
  };
}

const signal = new AbortController().signal;

describe("OperationWaiter", () => {
  it("waits with the operation's scope until DONE, spacing polls that return early", async () => {
    const c = clients([
      { name: "op", status: "RUNNING", region: R },
      { name: "op", status: "DONE", region: R },
    ]);
    const clock = testClock();
    const waiter = new OperationWaiter({ clients: c.value, project: "p", clock, minPollIntervalMs: 1000 });
    const done = await waiter.wait("x.insert", { name: "op", status: "PENDING", region: R }, signal);
    expect(done.status).toBe("DONE");
    expect(c.calls).toEqual([
      { scope: "region", request: { project: "p", region: "r1", operation: "op" } },
      { scope: "region", request: { project: "p", region: "r1", operation: "op" } },
    ]);
    expect(clock.sleeps).toEqual([1000]);
  });

  it("zonal and global operations go to their clients; a DONE answer needs no poll", async () => {
    const c = clients([
      { name: "z", status: "DONE", zone: Z },
      { name: "g", status: "DONE" },
    ]);
    const waiter = new OperationWaiter({ clients: c.value, project: "p", clock: testClock() });
    await waiter.wait("ig.insert", { name: "z", status: "RUNNING", zone: Z }, signal);
    await waiter.wait("fw.insert", { name: "g", status: "PENDING" }, signal);
    await waiter.wait("fw.patch", { name: "g2", status: "DONE" }, signal);
    expect(c.calls.map((x) => [x.scope, x.request.zone ?? "-"])).toEqual([
      ["zone", "z1"],
      ["global", "-"],
    ]);
  });

  it("an operation DONE with errors is a GceOperationError carrying Compute's codes", async () => {
    const waiter = new OperationWaiter({ clients: clients([]).value, project: "p", clock: testClock() });
    const failed: Operation = {
      name: "op",
      status: "DONE",
      httpErrorStatusCode: 400,
      error: { errors: [{ code: "RESOURCE_IN_USE_BY_ANOTHER_RESOURCE", message: "in use" }] },
    };
    const err: unknown = await waiter.wait("hc.delete", failed, signal).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GceOperationError);
    expect((err as GceOperationError).codes).toEqual(["RESOURCE_IN_USE_BY_ANOTHER_RESOURCE"]);
    expect((err as GceOperationError).httpStatus).toBe(400);
  });

  it("quota errors in an operation are a RetryAfterError", async () => {
    const waiter = new OperationWaiter({ clients: clients([]).value, project: "p", clock: testClock() });
    const failed: Operation = {
      name: "op",
      status: "DONE",
      error: { errors: [{ code: "QUOTA_EXCEEDED", message: "quota" }] },
    };
    await expect(waiter.wait("fr.insert", failed, signal)).rejects.toBeInstanceOf(RetryAfterError);
  });

  it("stops waiting when aborted", async () => {
    const ac = new AbortController();
    const c = clients([]);
    const waiter = new OperationWaiter({ clients: c.value, project: "p", clock: testClock() });
    ac.abort(new Error("shutdown"));
    await expect(waiter.wait("x", { name: "op", status: "RUNNING", region: R }, ac.signal)).rejects.toThrow("shutdown");
    expect(c.calls).toHaveLength(0);
  });
});

describe("operationOf", () => {
  it("unwraps the client's LRO object and refuses anything without an operation", () => {
    expect(operationOf({ latestResponse: { name: "op", status: "DONE" } }).name).toBe("op");
    expect(() => operationOf({ latestResponse: undefined })).toThrow();
  });
});
