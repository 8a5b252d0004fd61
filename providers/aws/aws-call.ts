/**
 * Every AWS call goes through `awsCall`, the toolkit's cloudCall (src/toolkit/cloud-call.ts: throttling becomes a
 * RetryAfterError that drives the work queue, transient faults are retried a few times inside the call, creates are
 * not resent) with AWS's reading of its errors: throttling is one of THROTTLING_CODES or HTTP 429, transient is a
 * 5xx or a connection that failed before an answer, and anything else is an AwsApiError carrying the AWS error code.
 * Decisions come from the SDK's error name (the AWS error code) and HTTP status, never from message text. The SDK
 * clients are built with maxAttempts 1 so cloudCall is the only retry policy, and call counts in tests are exact.
 */
import { LbOperatorError, errorMessage } from "../../src/errors.js";
import { cloudCall } from "../../src/toolkit/index.js";
import type { CloudErrors } from "../../src/toolkit/index.js";

export const THROTTLING_CODES: ReadonlySet<string> = new Set([
  "Throttling",
  "ThrottlingException",
  "RequestLimitExceeded",
  "TooManyRequestsException",
  "RequestThrottled",
  "RequestThrottledException",
  "SlowDown",
]);

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
  return (
    ["TimeoutError", "RequestTimeout", "NetworkingError"].includes(code) ||
    ["ECONNRESET", "ECONNREFUSED", "EPIPE", "ETIMEDOUT", "UND_ERR_SOCKET"].includes(sysCode ?? "")
  );
}

/** Is `err` (maybe wrapped by awsCall) this AWS error code? */
export function hasCode(err: unknown, ...codes: string[]): boolean {
  const code = err instanceof AwsApiError ? err.code : errorCode(err);
  return codes.includes(code);
}

const AWS_ERRORS: CloudErrors = {
  classify: (err) => (isThrottling(err) ? "throttled" : isTransient(err) ? "transient" : "final"),
  throttledMessage: (operation, err) => `${operation} was throttled by AWS (${errorCode(err)})`,
  toError: (operation, err) => new AwsApiError(operation, errorCode(err), statusOf(err), { cause: err }),
};

export interface AwsCallOptions {
  readonly signal?: AbortSignal;
  /**
   * Attempts for transient faults, the first included. Default 3, but 1 for Create* calls: a create whose answer
   * was lost (the connection dropped after AWS acted) must not be sent again blindly, or a load balancer is made
   * twice (moto does; AWS answers a same-named CreateLoadBalancer idempotently only if every parameter matches).
   */
  readonly attempts?: number;
  /**
   * Told of each attempt before it is sent. The controller's metrics do not use it: they come from a middleware on
   * the SDK clients (aws-call-metrics.ts), which sees every request, its outcome and its duration.
   */
  readonly onAttempt?: (operation: string) => void;
}

/** @throws RetryAfterError when throttled, a typed retryable error when cancelled (cloudCall), else AwsApiError. */
export async function awsCall<T>(operation: string, fn: () => Promise<T>, options: AwsCallOptions = {}): Promise<T> {
  const { onAttempt } = options;
  return cloudCall(operation, fn, {
    errors: AWS_ERRORS,
    idempotent: !operation.startsWith("Create"),
    signal: options.signal,
    attempts: options.attempts,
    onAttempt: onAttempt && (() => onAttempt(operation)),
  });
}
