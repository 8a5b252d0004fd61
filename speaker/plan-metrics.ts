/**
 * The speaker's per-Service and per-address gauges, rebuilt from each applied plan: every series a plan no longer
 * has is dropped (reset), so a scrape shows what this node announces and forwards now, not what it once did.
 * Reset and refill run in one synchronous step, so no scrape sees them half-done.
 */
import type { V1Service } from "@kubernetes/client-node";
import type { DataPlan } from "./data-plan.js";
import type { SpeakerMetrics } from "./speaker-metrics.js";

/** Address -> `namespace/name` of each Service whose status carries it; one pass, however many addresses. */
export function servicesByAddress(services: readonly V1Service[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const svc of services) {
    const key = `${svc.metadata?.namespace ?? ""}/${svc.metadata?.name ?? ""}`;
    for (const ingress of svc.status?.loadBalancer?.ingress ?? []) {
      if (ingress.ip === undefined) continue;
      const list = out.get(ingress.ip) ?? [];
      if (list.length === 0) out.set(ingress.ip, list);
      list.push(key);
    }
  }
  return out;
}

/** `owners`: servicesByAddress of the Services this node knows. */
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
