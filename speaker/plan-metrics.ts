/**
 * The speaker's per-Service and per-address gauges, rebuilt from each applied plan: every series a plan no longer
 * has is dropped (reset), so a scrape shows what this node announces and forwards now, not what it once did.
 * Reset and refill run in one synchronous step, so no scrape sees them half-done.
 */
import type { DataPlan } from "./data-plan.js";
import type { SpeakerMetrics } from "./speaker-metrics.js";

/** `owners`: the decision's announced address -> `namespace/name` of each Service on it. */
export function reportPlan(
  metrics: SpeakerMetrics,
  node: string,
  plan: DataPlan,
  owners: ReadonlyMap<string, readonly string[]>,
): void {
  metrics.announced.reset();
  for (const address of plan.announced) {
    for (const service of owners.get(address) ?? []) metrics.announced.set({ service, address, node }, 1);
  }
  metrics.announcedAddresses.set(plan.announced.length);
  metrics.forwardingRules.set(plan.rules.length);

  const byService = new Map<string, { readonly backends: Set<string>; portWithout: boolean }>();
  for (const rule of plan.rules) {
    const entry = byService.get(rule.service) ?? { backends: new Set<string>(), portWithout: false };
    byService.set(rule.service, entry);
    for (const d of rule.destinations) entry.backends.add(d.ip);
    if (rule.destinations.length === 0) entry.portWithout = true;
  }
  metrics.healthyBackends.reset();
  metrics.noHealthyBackend.reset();
  for (const [service, { backends, portWithout }] of byService) {
    metrics.healthyBackends.set({ service }, backends.size);
    metrics.noHealthyBackend.set({ service }, portWithout ? 1 : 0);
  }
}

/** On shutdown: this node announces and forwards nothing any more. */
export function clearPlan(metrics: SpeakerMetrics): void {
  metrics.announced.reset();
  metrics.healthyBackends.reset();
  metrics.noHealthyBackend.reset();
  metrics.announcedAddresses.set(0);
  metrics.forwardingRules.set(0);
}
