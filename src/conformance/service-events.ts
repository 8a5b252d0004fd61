/**
 * How the cases read the Warning events about their Service. Kept apart from the case lists so the control-plane
 * cases (cases.ts) and the requested-address cases (requested-address-cases.ts) judge events the same way.
 */
import type { CoreV1Event } from "@kubernetes/client-node";

/**
 * Warning events from anything but the apiserver's allocator repair loops (under load its ClusterIP repair may warn
 * ClusterIPNotAllocated about a Service it has not seen yet: pkg/registry/core/service/ipallocator/controller).
 */
export function implementationWarnings(events: readonly CoreV1Event[]): CoreV1Event[] {
  const repairLoop = (e: CoreV1Event): boolean =>
    /-repair-controller$/.test(e.reportingComponent || e.source?.component || "");
  return events.filter((e) => e.type === "Warning" && !repairLoop(e));
}

/**
 * How many times the events were emitted: a recorder folds a repeated event into one object and counts it there,
 * client-go's core/v1 recorder in `count`, the events.k8s.io/v1 recorder in `series.count` (which the core/v1 view
 * shows as `series`).
 */
export function emissions(events: readonly CoreV1Event[]): number {
  return events.reduce((n, e) => n + Math.max(1, e.count ?? 1, e.series?.count ?? 1), 0);
}

/** One line per event, for assertion messages: reason, count, first time and message. */
export function describeEvents(events: readonly CoreV1Event[]): string {
  return events
    .map(
      (e) =>
        `${e.reason ?? "?"} x${Math.max(1, e.count ?? 1, e.series?.count ?? 1)} by ${e.reportingComponent || e.source?.component || "?"} at ${String(e.firstTimestamp ?? e.eventTime)}: ${e.message ?? ""}`,
    )
    .join("; ");
}
