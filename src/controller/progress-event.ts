import type { V1Service } from "@kubernetes/client-node";
import type { EventRecorder } from "../kube/event-recorder.js";
import type { Clock } from "../util/clock.js";

/** How long work may run before its progress Event (EnsuringLoadBalancer) is written. */
export const DEFAULT_PROGRESS_EVENT_DELAY_MS = 1_000;

/**
 * A Normal Event announcing work in progress, written only if the work is still running `delayMs` after it started;
 * call the returned function when the work ends, however it ends.
 *
 * The upstream service controller records EnsuringLoadBalancer before every ensure
 * (../shared/reference/upstream.md section 1). When the ensure returns within milliseconds (a bare-metal allocation,
 * a cloud load balancer that already exists) that Event is followed at once by EnsuredLoadBalancer or by the
 * failure's Warning, tells a reader nothing, and costs one apiserver write: a quarter of a controller's writes when
 * 5,000 Services are created (bench/reconcile). Slow work (a cloud load balancer being created) still shows its
 * progress, one second late. Deliberately not done for the outcome Events, which are always written.
 */
export function progressEvent(
  { events, clock, delayMs }: { events: EventRecorder; clock: Clock; delayMs: number },
  svc: V1Service,
  reason: string,
  message: string,
): () => void {
  if (delayMs <= 0) {
    events.record(svc, "Normal", reason, message);
    return () => undefined;
  }
  const timer = clock.setTimeout(() => events.record(svc, "Normal", reason, message), delayMs);
  timer.unref?.();
  return () => clock.clearTimeout(timer);
}
