/**
 * Every Compute call goes through `gceCall`, the toolkit's cloudCall (src/toolkit/cloud-call.ts) with Compute's
 * reading of its errors: throttling and quota (HTTP 429, gRPC RESOURCE_EXHAUSTED) become a RetryAfterError that
 * drives the work queue; transient faults (500/502/503/504, a connection that failed before an answer) are retried a
 * few times inside the call; anything else is a GceApiError carrying the HTTP status. Decisions come from the status the
 * client reports (`httpStatusCode`, or the gRPC `code` when there was no response), never from message text.
 * The client's own retry is switched off per call (`retry: null`): gax would otherwise retry GETs on UNAVAILABLE
 * for up to 600 s, hiding faults and making call counts inexact.
 *
 * Inserts are tried once: an insert whose answer was lost may have been carried out, and resending it gives a
 * 409; the reconcile fails instead and the next one GETs the resource first.
 */
import type { CallOptions } from "google-gax";
import { type CloudCallObserver, observeCall } from "../../src/cloud-call-observer.js";
import { LbOperatorError, errorMessage } from "../../src/errors.js";
import { cloudCall } from "../../src/toolkit/index.js";
import type { CloudErrors } from "../../src/toolkit/index.js";

/** Per-request deadline; operations are awaited by polling, each poll a request of its own. */
const CALL_TIMEOUT_MS = 60_000;

// gRPC codes the client maps HTTP statuses to (google-gax status.ts), used when no HTTP status is known.
const GRPC = { DEADLINE_EXCEEDED: 4, NOT_FOUND: 5, RESOURCE_EXHAUSTED: 8, INTERNAL: 13, UNAVAILABLE: 14 } as const;

/** A Compute API call failed with a status that is neither throttling nor transient. */
export class GceApiError extends LbOperatorError {
  readonly operation: string;
  /** The HTTP status, when Compute answered. */
  readonly httpStatus: number | undefined;
  readonly grpcCode: number | undefined;
  constructor(
    operation: string,
    httpStatus: number | undefined,
    grpcCode: number | undefined,
    options: { cause: unknown },
  ) {
    super(
      `${operation}: ${httpStatus !== undefined ? `HTTP ${httpStatus}` : `code ${grpcCode ?? "?"}`}: ${errorMessage(options.cause)}`,
      options,
    );
    this.operation = operation;
    this.httpStatus = httpStatus;
    this.grpcCode = grpcCode;
  }
}

interface GaxErrorShape {
  readonly httpStatusCode?: unknown;
  readonly code?: unknown;
}

export function httpStatusOf(err: unknown): number | undefined {
  if (err instanceof GceApiError) return err.httpStatus;
  const status = (err as GaxErrorShape | undefined)?.httpStatusCode;
  return typeof status === "number" ? status : undefined;
}

function grpcCodeOf(err: unknown): number | undefined {
  if (err instanceof GceApiError) return err.grpcCode;
  const code = (err as GaxErrorShape | undefined)?.code;
  return typeof code === "number" ? code : undefined;
}

export function isThrottling(err: unknown): boolean {
  const status = httpStatusOf(err);
  return status === 429 || (status === undefined && grpcCodeOf(err) === GRPC.RESOURCE_EXHAUSTED);
}

/** 5xx from Compute, or no answer at all (gax reports a failed connection as UNAVAILABLE, a timeout as DEADLINE_EXCEEDED). */
export function isTransient(err: unknown): boolean {
  const status = httpStatusOf(err);
  if (status !== undefined) return status >= 500;
  const code = grpcCodeOf(err);
  return code === GRPC.UNAVAILABLE || code === GRPC.DEADLINE_EXCEEDED || code === GRPC.INTERNAL;
}

export function isNotFound(err: unknown): boolean {
  const status = httpStatusOf(err);
  return status === 404 || (status === undefined && grpcCodeOf(err) === GRPC.NOT_FOUND);
}

const GCE_ERRORS: CloudErrors = {
  classify: (err) => (isThrottling(err) ? "throttled" : isTransient(err) ? "transient" : "final"),
  throttledMessage: (operation) => `${operation} was throttled by Compute (HTTP 429 / quota)`,
  toError: (operation, err) => new GceApiError(operation, httpStatusOf(err), grpcCodeOf(err), { cause: err }),
};

export interface GceCallOptions {
  readonly signal: AbortSignal;
  /** Attempts for transient faults, the first included. Default 3; inserts 1 (see the file comment). */
  readonly attempts?: number;
  /** Delay before the first retry; tests shorten it. Default 200 ms. */
  readonly minRetryDelayMs?: number | undefined;
  /** Told of every attempt sent (metrics), api "compute"; undefined: not observed. */
  readonly observer?: CloudCallObserver | undefined;
}

/** The error code a metric carries: the HTTP status when Compute answered, else the gRPC code. */
function errorCodeOf(err: unknown): string {
  const status = httpStatusOf(err);
  if (status !== undefined) return String(status);
  const code = grpcCodeOf(err);
  return code === undefined ? "Unknown" : `grpc-${code}`;
}

function observed<T>(operation: string, fn: () => Promise<T>, observer: CloudCallObserver | undefined): Promise<T> {
  return observeCall(
    observer,
    { api: "compute", operation },
    (err) => ({
      outcome: isThrottling(err) ? "throttled" : isTransient(err) ? "transient" : "error",
      errorCode: errorCodeOf(err),
    }),
    fn,
  );
}

/**
 * Runs `fn` with per-call options that disable the client's own retry and carry the AbortSignal (gax cancels the
 * HTTP request on abort).
 * @throws RetryAfterError when throttled, a typed retryable error when cancelled (cloudCall), else GceApiError.
 */
export async function gceCall<T>(
  operation: string,
  fn: (options: CallOptions) => Promise<T>,
  options: GceCallOptions,
): Promise<T> {
  const callOptions: CallOptions = { retry: null, signal: options.signal, timeout: CALL_TIMEOUT_MS };
  // Observed inside cloudCall, so each retry counts as the request it is.
  return cloudCall(operation, () => observed(operation, () => fn(callOptions), options.observer), {
    errors: GCE_ERRORS,
    idempotent: !operation.endsWith(".insert"),
    signal: options.signal,
    attempts: options.attempts,
    minRetryDelayMs: options.minRetryDelayMs,
  });
}
