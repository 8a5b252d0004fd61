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
