import { describe, expect, it } from "vitest";
import { CallCancelledError, DeadlineExceededError, LbOperatorError, RetryAfterError } from "../errors.js";
import { THROTTLE_RETRY_AFTER_MS, cloudCall, type CloudErrors } from "./cloud-call.js";

/** A fake SDK error: `kind` stands for whatever status or code the provider reads. */
class FakeSdkError extends Error {
  constructor(readonly kind: "throttled" | "transient" | "final") {
    super(`fake ${kind}`);
  }
}

class FakeApiError extends LbOperatorError {}

const errors: CloudErrors = {
  classify: (err) => (err instanceof FakeSdkError ? err.kind : "final"),
  throttledMessage: (operation) => `${operation} throttled`,
  toError: (operation, err) => new FakeApiError(`${operation} failed`, { cause: err }),
};

function failing(kinds: FakeSdkError["kind"][]): { fn: () => Promise<string>; calls: () => number } {
  let n = 0;
  return {
    fn: () => {
      const kind = kinds[n++];
      return kind === undefined ? Promise.resolve("ok") : Promise.reject(new FakeSdkError(kind));
    },
    calls: () => n,
  };
}

const fast = { errors, minRetryDelayMs: 1 } as const;

describe("cloudCall", () => {
  it("turns throttling into a RetryAfterError of the shared delay, without retrying", async () => {
    const f = failing(["throttled"]);
    const err: unknown = await cloudCall("Describe", f.fn, { ...fast, idempotent: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetryAfterError);
    expect((err as RetryAfterError).retryAfterMs).toBe(THROTTLE_RETRY_AFTER_MS);
    expect((err as RetryAfterError).message).toBe("Describe throttled");
    expect((err as RetryAfterError).cause).toBeInstanceOf(FakeSdkError);
    expect(f.calls()).toBe(1);
  });

  it("retries transient faults of an idempotent call inside the call", async () => {
    const f = failing(["transient", "transient"]);
    await expect(cloudCall("Describe", f.fn, { ...fast, idempotent: true })).resolves.toBe("ok");
    expect(f.calls()).toBe(3);
  });

  it("gives up after three attempts with the provider's error, caused by the last fault", async () => {
    const f = failing(["transient", "transient", "transient", "transient"]);
    const err: unknown = await cloudCall("Describe", f.fn, { ...fast, idempotent: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FakeApiError);
    expect((err as FakeApiError).cause).toBeInstanceOf(FakeSdkError);
    expect(f.calls()).toBe(3);
  });

  it("does not resend a call that is not idempotent, unless told how many attempts", async () => {
    const once = failing(["transient"]);
    await expect(cloudCall("Create", once.fn, { ...fast, idempotent: false })).rejects.toBeInstanceOf(FakeApiError);
    expect(once.calls()).toBe(1);
    const twice = failing(["transient"]);
    await expect(cloudCall("Create", twice.fn, { ...fast, idempotent: false, attempts: 2 })).resolves.toBe("ok");
    expect(twice.calls()).toBe(2);
  });

  it("reports a final failure at once, and throttling after a transient fault still as RetryAfterError", async () => {
    const final = failing(["final"]);
    await expect(cloudCall("Describe", final.fn, { ...fast, idempotent: true })).rejects.toBeInstanceOf(FakeApiError);
    expect(final.calls()).toBe(1);
    const later = failing(["transient", "throttled"]);
    await expect(cloudCall("Describe", later.fn, { ...fast, idempotent: true })).rejects.toBeInstanceOf(
      RetryAfterError,
    );
    expect(later.calls()).toBe(2);
  });

  it("treats what the provider calls final as final, whatever the error", async () => {
    const err: unknown = await cloudCall("Describe", () => Promise.reject(new Error("plain")), {
      ...fast,
      idempotent: true,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FakeApiError);
    expect((err as FakeApiError).message).toBe("Describe failed");
  });

  it("counts every attempt", async () => {
    let attempts = 0;
    const f = failing(["transient"]);
    await cloudCall("Describe", f.fn, { ...fast, idempotent: true, onAttempt: () => attempts++ });
    expect(attempts).toBe(2);
  });

  it("stops when cancelled, before or during a call, naming the reason, and does not retry", async () => {
    const before = new AbortController();
    before.abort(new Error("stop"));
    const untouched = failing([]);
    await expect(
      cloudCall("Describe", untouched.fn, { ...fast, idempotent: true, signal: before.signal }),
    ).rejects.toThrow(CallCancelledError);
    expect(untouched.calls()).toBe(0);

    const during = new AbortController();
    let calls = 0;
    const fn = (): Promise<string> => {
      calls++;
      during.abort(new Error("gone"));
      return Promise.reject(new FakeSdkError("transient"));
    };
    await expect(cloudCall("Describe", fn, { ...fast, idempotent: true, signal: during.signal })).rejects.toThrow(
      "gone",
    );
    expect(calls).toBe(1);
  });

  it("turns a plain abort reason into a retryable CallCancelledError caused by it", async () => {
    const abort = new AbortController();
    const reason = new DOMException("This operation was aborted", "AbortError");
    abort.abort(reason);
    const err: unknown = await cloudCall("Describe", () => Promise.resolve("ok"), {
      ...fast,
      idempotent: true,
      signal: abort.signal,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CallCancelledError);
    expect((err as CallCancelledError).cause).toBe(reason);
    expect((err as CallCancelledError).message).toBe("Describe was cancelled: This operation was aborted");
  });

  it("keeps a typed abort reason (the reconcile deadline) as it is", async () => {
    const abort = new AbortController();
    const deadline = new DeadlineExceededError("ensure", 10_000);
    const fn = (): Promise<string> => {
      abort.abort(deadline);
      return Promise.reject(new FakeSdkError("transient"));
    };
    await expect(cloudCall("Create", fn, { ...fast, idempotent: false, signal: abort.signal })).rejects.toBe(deadline);
  });

  it("stops a retry that is waiting for its delay when the signal aborts", async () => {
    const abort = new AbortController();
    const f = failing(["transient", "transient"]);
    const started = Date.now();
    const call = cloudCall("Describe", f.fn, {
      errors,
      idempotent: true,
      minRetryDelayMs: 60_000,
      signal: abort.signal,
    }).catch((e: unknown) => e);
    setTimeout(() => abort.abort(new DeadlineExceededError("ensure", 50)), 50);
    const err = await call;
    expect(err).toBeInstanceOf(DeadlineExceededError);
    expect(f.calls()).toBe(1);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
