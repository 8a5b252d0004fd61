/**
 * Every AWS call goes through `awsCall`: throttling becomes a RetryAfterError that drives the work queue (the
 * Service is retried later instead of hammering the API; cloud-provider-aws learned this the hard way, reference
 * section 3), transient faults (5xx, a dropped connection) are retried a few times inside the call with p-retry,
 * and anything else is thrown as an AwsApiError carrying the AWS error code. Decisions come from the SDK's error
 * name (the AWS error code) and HTTP status, never from message text. The SDK clients are built with
 * maxAttempts 1 so this is the only retry policy, and call counts in tests are exact.
 */
import pRetry, { AbortError } from "p-retry";
import { LbOperatorError, RetryAfterError, errorMessage } from "../../src/errors.js";

export const THROTTLING_CODES: ReadonlySet<string> = new Set([
  "Throttling",
  "ThrottlingException",
  "RequestLimitExceeded",
  "TooManyRequestsException",
  "RequestThrottled",
  "RequestThrottledException",
  "SlowDown",
]);

/** How long a throttled Service waits before its next reconcile. */
export const THROTTLE_RETRY_AFTER_MS = 10_000;

/** An AWS API error that is neither throttling nor transient. `code` is the AWS error code (the SDK error name). */
export class AwsApiError extends LbOperatorError {
  readonly code: string;
  readonly operation: string;
  readonly statusCode: number | undefined;
  constructor(operation: string, code: string, statusCode: number | undefined, options: { cause: unknown }) {
    super(`${operation}: ${code}: ${errorMessage(options.cause)}`, options);
    this.operation = operation;
    this.code = code;
    this.statusCode = statusCode;
  }
}

interface SdkErrorShape {
  readonly name?: string;
  readonly code?: string;
  readonly $metadata?: { readonly httpStatusCode?: number };
  readonly $fault?: "client" | "server";
}

export function errorCode(err: unknown): string {
  const e = err as SdkErrorShape | undefined;
  return e?.name ?? e?.code ?? "Unknown";
}

export function statusOf(err: unknown): number | undefined {
  return (err as SdkErrorShape | undefined)?.$metadata?.httpStatusCode;
}

export function isThrottling(err: unknown): boolean {
  return THROTTLING_CODES.has(errorCode(err)) || statusOf(err) === 429;
}

/** 5xx from the service, or the connection failed before a response (reset, refused, timed out). */
export function isTransient(err: unknown): boolean {
  const status = statusOf(err);
  if (status !== undefined) return status >= 500;
  const code = errorCode(err);
  const sysCode = (err as { code?: string } | undefined)?.code;
  return ["TimeoutError", "RequestTimeout", "NetworkingError"].includes(code) ||
    ["ECONNRESET", "ECONNREFUSED", "EPIPE", "ETIMEDOUT", "UND_ERR_SOCKET"].includes(sysCode ?? "");
}

/** Is `err` (maybe wrapped by awsCall) this AWS error code? */
export function hasCode(err: unknown, ...codes: string[]): boolean {
  const code = err instanceof AwsApiError ? err.code : errorCode(err);
  return codes.includes(code);
}

export interface AwsCallOptions {
  readonly signal?: AbortSignal;
  /**
   * Attempts for transient faults, the first included. Default 3, but 1 for Create* calls: a create whose answer
   * was lost (the connection dropped after AWS acted) must not be sent again blindly, or a load balancer is made
   * twice (moto does; AWS answers a same-named CreateLoadBalancer idempotently only if every parameter matches).
   * The reconcile fails instead, and the next one finds the resource by name and adopts it.
   */
  readonly attempts?: number;
  /** Counts each attempt, for metrics. */
  readonly onAttempt?: (operation: string) => void;
}

export async function awsCall<T>(operation: string, fn: () => Promise<T>, options: AwsCallOptions = {}): Promise<T> {
  return pRetry(
    async () => {
      options.onAttempt?.(operation);
      try {
        return await fn();
      } catch (err) {
        if (isThrottling(err)) {
          throw new AbortError(new RetryAfterError(`${operation} was throttled by AWS (${errorCode(err)})`, THROTTLE_RETRY_AFTER_MS, { cause: err }));
        }
        if (isTransient(err)) throw err instanceof Error ? err : new Error(String(err));
        throw new AbortError(new AwsApiError(operation, errorCode(err), statusOf(err), { cause: err }));
      }
    },
    { retries: (options.attempts ?? (operation.startsWith("Create") ? 1 : 3)) - 1, minTimeout: 200, maxTimeout: 2_000, signal: options.signal },
  ).catch((err: unknown) => {
    if (err instanceof RetryAfterError || err instanceof AwsApiError) throw err;
    throw new AwsApiError(operation, errorCode(err), statusOf(err), { cause: err });
  });
}
