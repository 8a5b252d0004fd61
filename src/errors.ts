/**
 * Error classes. The controller decides what to do from the error's class, never from its message
 * (../shared/reference/style-anchors.md, cross-cutting rule 1).
 */

export class LbOperatorError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * The Service asks for something that cannot be built. The user must change the Service (or the pools):
 * the controller records a Warning event and does not retry until the Service changes.
 */
export class InvalidSpecError extends LbOperatorError {
  /** Path of the offending field or annotation, for the event message. */
  readonly field: string;
  constructor(field: string, message: string, options?: { cause?: unknown }) {
    super(`${field}: ${message}`, options);
    this.field = field;
  }
}

/**
 * Try again after a fixed delay instead of exponential backoff (throttling, a resource that frees up later).
 * Mirrors k8s.io/cloud-provider api.RetryError (../shared/reference/upstream.md section 1).
 */
export class RetryAfterError extends LbOperatorError {
  readonly retryAfterMs: number;
  constructor(message: string, retryAfterMs: number, options?: { cause?: unknown }) {
    super(message, options);
    if (!Number.isFinite(retryAfterMs) || retryAfterMs < 0) {
      throw new RangeError(`retryAfterMs must be a non-negative finite number, got ${retryAfterMs}`);
    }
    this.retryAfterMs = retryAfterMs;
  }
}

/** A provider call failed for a reason that may pass (backoff 5 s to 300 s). */
export class ProviderError extends LbOperatorError {}

/**
 * A provider call outlived its deadline (`--reconcile-timeout`) and was cancelled. Retryable: the key backs off like
 * any transient failure, and the message names the timeout so the Warning event says what happened.
 */
export class DeadlineExceededError extends ProviderError {
  readonly timeoutMs: number;
  constructor(operation: string, timeoutMs: number, options?: { cause?: unknown }) {
    super(`${operation} timed out after ${goDuration(timeoutMs)}`, options);
    this.timeoutMs = timeoutMs;
  }
}

/**
 * A cloud call was cancelled by its signal for a reason that is not one of our errors (a plain AbortError, a shutdown
 * reason). Retryable; `cause` is the signal's reason.
 */
export class CallCancelledError extends ProviderError {
  readonly operation: string;
  constructor(operation: string, options: { cause: unknown }) {
    super(`${operation} was cancelled: ${errorMessage(options.cause)}`, options);
    this.operation = operation;
  }
}

/** A Kubernetes API call failed. `statusCode` is the HTTP status when there was a response. */
export class KubeApiError extends LbOperatorError {
  readonly statusCode: number | undefined;
  constructor(message: string, statusCode: number | undefined, options?: { cause?: unknown }) {
    super(message, options);
    this.statusCode = statusCode;
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Milliseconds as Go's time.Duration prints them ("500ms", "10s", "2m0s", "1h0m0s"), as upstream's events read. */
export function goDuration(ms: number): string {
  if (ms < 1_000) return `${ms}ms`;
  const hours = Math.floor(ms / 3_600_000);
  const minutes = Math.floor((ms % 3_600_000) / 60_000);
  const seconds = `${(ms % 60_000) / 1_000}s`;
  if (hours > 0) return `${hours}h${minutes}m${seconds}`;
  return minutes > 0 ? `${minutes}m${seconds}` : seconds;
}
