import { InvalidSpecError, RetryAfterError } from "../errors.js";

/**
 * What the queue does with a key after a reconcile: MetalLB's explicit SyncState
 * (`Success | Error | ReprocessAll | ErrorNoRetry`, internal/k8s/controllers/values.go), with the retry-after
 * case of k8s.io/cloud-provider's RetryError added.
 */
export type SyncVerdict =
  | { readonly kind: "success" }
  /** Transient failure: per-key exponential backoff (5 s to 300 s). */
  | { readonly kind: "backoff"; readonly cause: unknown }
  /** The error asked for a fixed delay (throttling, an address that may free up). */
  | { readonly kind: "retryAfter"; readonly delayMs: number; readonly cause: unknown }
  /** The user must change something; the next change of the Service requeues it. */
  | { readonly kind: "noRetry"; readonly cause: unknown };

export const success: SyncVerdict = { kind: "success" };

/** The verdict for an error, decided by its class only (never by its message). */
export function verdictFor(err: unknown): SyncVerdict {
  if (err instanceof InvalidSpecError) return { kind: "noRetry", cause: err };
  if (err instanceof RetryAfterError) return { kind: "retryAfter", delayMs: err.retryAfterMs, cause: err };
  return { kind: "backoff", cause: err };
}
