/**
 * `cloudCall`: the one retry policy every provider's cloud API calls go through. A provider says only how its SDK's
 * errors read (`CloudErrors`: throttled, transient or final, from the error's status or code, never its message
 * text) and what typed error it throws; the policy itself is the same for every cloud:
 *  - throttled: a RetryAfterError of THROTTLE_RETRY_AFTER_MS, not retried here, so the work queue waits instead of
 *    hammering the API (cloud-provider-aws learned this the hard way);
 *  - transient (5xx, a connection that failed before an answer): retried inside the call with p-retry, up to
 *    `attempts` (default 3), 200 ms to 2 s apart; then the provider's typed error;
 *  - final: the provider's typed error at once;
 *  - a call that is not idempotent (a create or insert) is tried once by default: an answer lost after the cloud
 *    acted must not be sent again blindly, or the resource is made twice (or the resend fails with a conflict).
 *    The reconcile fails instead, and the next one finds the resource by name and adopts it;
 *  - cancelled (`signal` aborted, by the reconcile deadline or shutdown): never retried, not even a retry already
 *    waiting for its delay; rejects with the signal's reason when that is one of our typed errors (the deadline's
 *    DeadlineExceededError), else with a CallCancelledError caused by it, so the work queue backs off either way.
 * SDK clients must have their own retries switched off so this is the only retry policy and call counts are exact.
 */
import pRetry, { AbortError } from "p-retry";
import { CallCancelledError, LbOperatorError, RetryAfterError } from "../errors.js";

/** How long a throttled Service waits before its next reconcile, whatever the cloud. */
export const THROTTLE_RETRY_AFTER_MS = 10_000;
/** Attempts for an idempotent call's transient faults, the first included. */
export const DEFAULT_ATTEMPTS = 3;
const DEFAULT_MIN_RETRY_DELAY_MS = 200;
const MAX_RETRY_DELAY_MS = 2_000;

/** What one failed attempt means. */
export type CloudFailure = "throttled" | "transient" | "final";

/** A provider's reading of its SDK's errors. */
export interface CloudErrors {
  classify(err: unknown): CloudFailure;
  /** The RetryAfterError's message for a throttled call. */
  throttledMessage(operation: string, err: unknown): string;
  /** The provider's typed error for a final failure, or for transient faults that outlasted the attempts. */
  toError(operation: string, err: unknown): Error;
}

export interface CloudCallOptions {
  readonly errors: CloudErrors;
  /** False for calls that create something: tried once unless `attempts` says otherwise (see the file comment). */
  readonly idempotent: boolean;
  readonly signal?: AbortSignal | undefined;
  /** Attempts for transient faults, the first included. Default DEFAULT_ATTEMPTS, or 1 when not idempotent. */
  readonly attempts?: number | undefined;
  /** Delay before the first retry; tests shorten it. Default 200 ms. */
  readonly minRetryDelayMs?: number | undefined;
  /** Called before each attempt, for metrics. */
  readonly onAttempt?: (() => void) | undefined;
}

/** Carries a decided outcome (a RetryAfterError or the provider's error) through p-retry untouched. */
class Settled extends Error {
  constructor(readonly error: Error) {
    super(error.message, { cause: error });
  }
}

/**
 * Runs `fn` under the policy above.
 * @throws RetryAfterError when throttled, a typed retryable error when cancelled (see the file comment), else
 *   `errors.toError(...)`.
 */
export async function cloudCall<T>(operation: string, fn: () => Promise<T>, options: CloudCallOptions): Promise<T> {
  const { errors, signal } = options;
  const attempts = options.attempts ?? (options.idempotent ? DEFAULT_ATTEMPTS : 1);
  try {
    return await pRetry(
      async () => {
        signal?.throwIfAborted();
        options.onAttempt?.();
        try {
          return await fn();
        } catch (err) {
          if (signal?.aborted) throw new AbortError(err instanceof Error ? err : new Error(String(err)));
          const failure = errors.classify(err);
          if (failure === "transient") throw err instanceof Error ? err : new Error(String(err));
          const settled =
            failure === "throttled"
              ? new RetryAfterError(errors.throttledMessage(operation, err), THROTTLE_RETRY_AFTER_MS, { cause: err })
              : errors.toError(operation, err);
          throw new AbortError(new Settled(settled));
        }
      },
      {
        retries: attempts - 1,
        minTimeout: options.minRetryDelayMs ?? DEFAULT_MIN_RETRY_DELAY_MS,
        maxTimeout: MAX_RETRY_DELAY_MS,
        signal,
      },
    );
  } catch (err) {
    if (signal?.aborted) throw cancelled(operation, signal.reason ?? err);
    if (err instanceof Settled) throw err.error;
    throw errors.toError(operation, err);
  }
}

/** The error a cancelled call rejects with: the signal's reason if it is already typed, else a CallCancelledError. */
function cancelled(operation: string, reason: unknown): Error {
  return reason instanceof LbOperatorError ? reason : new CallCancelledError(operation, { cause: reason });
}
