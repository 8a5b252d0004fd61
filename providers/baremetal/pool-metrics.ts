/**
 * Per-pool address gauges, after MetalLB's `metallb_allocator_addresses_in_use_total{pool}` and
 * `metallb_allocator_addresses_total{pool}` (MLB internal/allocator/stats.go), under our prefix. Both families
 * are summed. Values are read at scrape time from the allocator, so they cannot drift from it; a standby
 * (nothing restored) exports no series rather than zeros that would look like an empty pool.
 */
import { Gauge, type Registry } from "prom-client";
import type { PoolUsage } from "./allocation-types.js";

export const POOL_IN_USE_METRIC = "lb_operator_address_pool_addresses_in_use";
export const POOL_TOTAL_METRIC = "lb_operator_address_pool_addresses_total";

export interface PoolUsageSource {
  /** False on a standby: the gauges are then empty. */
  readonly active: () => boolean;
  readonly usages: () => readonly PoolUsage[];
}

export function registerPoolMetrics(registry: Registry, source: PoolUsageSource): void {
  const refill = (gauge: Gauge<"pool">, value: (u: PoolUsage) => number): void => {
    gauge.reset();
    if (!source.active()) return;
    for (const usage of source.usages()) gauge.set({ pool: usage.pool }, value(usage));
  };
  new Gauge({
    name: POOL_IN_USE_METRIC,
    help: "Addresses of the pool held by at least one Service (IPv4 and IPv6 together).",
    labelNames: ["pool"] as const,
    registers: [registry],
    collect() {
      refill(this, (u) => u.used.IPv4 + u.used.IPv6);
    },
  });
  new Gauge({
    name: POOL_TOTAL_METRIC,
    help: "Addresses the pool can hand out (IPv4 and IPv6 together; at most 2^53 - 1).",
    labelNames: ["pool"] as const,
    registers: [registry],
    collect() {
      refill(this, (u) => {
        const total = u.capacity.IPv4 + u.capacity.IPv6;
        return total > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(total);
      });
    },
  });
}
