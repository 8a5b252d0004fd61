import { describe, expect, it } from "vitest";
import type { CloudCallObservation } from "../../src/cloud-call-observer.js";
import { RetryAfterError } from "../../src/errors.js";
import { GceApiError, gceCall, isNotFound } from "./gce-call.js";

/** The shape google-gax gives a failed REST call: gRPC `code` plus the HTTP status. */
function gaxError(httpStatusCode: number | undefined, code: number): Error {
  return Object.assign(new Error(`status ${httpStatusCode ?? "none"}`), { httpStatusCode, code });
}

const signal = new AbortController().signal;

function failing(errors: Error[]): { fn: () => Promise<string>; calls: () => number } {
  let n = 0;
  return {
    fn: () => {
      const err = errors[n++];
      return err ? Promise.reject(err) : Promise.resolve("ok");
    },
    calls: () => n,
  };
}

describe("gceCall", () => {
  it("turns HTTP 429 into a RetryAfterError without retrying", async () => {
    const f = failing([gaxError(429, 8)]);
    await expect(gceCall("forwardingRules.get", f.fn, { signal })).rejects.toBeInstanceOf(RetryAfterError);
    expect(f.calls()).toBe(1);
  });

  it("retries 503/500 and connection failures (no status, UNAVAILABLE) inside the call", async () => {
    const f = failing([gaxError(503, 14), gaxError(undefined, 14)]);
    await expect(gceCall("forwardingRules.get", f.fn, { signal, minRetryDelayMs: 1 })).resolves.toBe("ok");
    expect(f.calls()).toBe(3);
  });

  it("tells the observer of every attempt, retries included, with the outcome and the HTTP status", async () => {
    const seen: CloudCallObservation[] = [];
    const observer = { observe: (c: CloudCallObservation) => seen.push(c) };
    const f = failing([gaxError(503, 14), gaxError(undefined, 14)]);
    await gceCall("forwardingRules.get", f.fn, { signal, minRetryDelayMs: 1, observer });
    await gceCall("forwardingRules.get", failing([gaxError(429, 8)]).fn, { signal, observer }).catch(() => undefined);
    await gceCall("firewalls.get", failing([gaxError(404, 5)]).fn, { signal, observer }).catch(() => undefined);
    expect(seen.map((c) => [c.api, c.operation, c.outcome, c.errorCode])).toEqual([
      ["compute", "forwardingRules.get", "transient", "503"],
      ["compute", "forwardingRules.get", "transient", "grpc-14"],
      ["compute", "forwardingRules.get", "success", ""],
      ["compute", "forwardingRules.get", "throttled", "429"],
      ["compute", "firewalls.get", "error", "404"],
    ]);
  });

  it("does not resend an insert whose answer was lost", async () => {
    const f = failing([gaxError(503, 14)]);
    const err: unknown = await gceCall("forwardingRules.insert", f.fn, { signal, minRetryDelayMs: 1 }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(GceApiError);
    expect((err as GceApiError).httpStatus).toBe(503);
    expect(f.calls()).toBe(1);
  });

  it("gives up on transient faults after three attempts with a GceApiError", async () => {
    const f = failing([gaxError(500, 13), gaxError(500, 13), gaxError(500, 13), gaxError(500, 13)]);
    await expect(gceCall("firewalls.get", f.fn, { signal, minRetryDelayMs: 1 })).rejects.toBeInstanceOf(GceApiError);
    expect(f.calls()).toBe(3);
  });

  it("reports other statuses at once, 404 recognisable", async () => {
    const f = failing([gaxError(404, 5)]);
    const err: unknown = await gceCall("healthChecks.get", f.fn, { signal }).catch((e: unknown) => e);
    expect(isNotFound(err)).toBe(true);
    expect(f.calls()).toBe(1);
  });

  it("passes retry: null and the signal to the client", async () => {
    let seen: unknown;
    await gceCall(
      "x.get",
      (o) => {
        seen = o;
        return Promise.resolve(1);
      },
      { signal },
    );
    expect(seen).toMatchObject({ retry: null, signal });
  });

  it("stops when aborted", async () => {
    const ac = new AbortController();
    ac.abort(new Error("stop"));
    await expect(gceCall("x.get", () => Promise.resolve(1), { signal: ac.signal })).rejects.toThrow("stop");
  });
});
