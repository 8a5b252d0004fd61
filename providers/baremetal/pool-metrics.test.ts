import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import type { PoolUsage } from "./allocation-types.js";
import { registerPoolMetrics } from "./pool-metrics.js";

describe("registerPoolMetrics", () => {
  it("exports in-use and total per pool at scrape time, and nothing on a standby", async () => {
    const registry = new Registry();
    const state = { active: false, usages: [] as PoolUsage[] };
    registerPoolMetrics(registry, { active: () => state.active, usages: () => state.usages });
    expect(await registry.metrics()).not.toMatch(/pool="/);
    state.active = true;
    state.usages = [{ pool: "lab", capacity: { IPv4: 16n, IPv6: 256n }, used: { IPv4: 2, IPv6: 1 } }];
    const text = await registry.metrics();
    expect(text).toContain('lb_operator_address_pool_addresses_in_use{pool="lab"} 3');
    expect(text).toContain('lb_operator_address_pool_addresses_total{pool="lab"} 272');
    state.usages = [];
    expect(await registry.metrics()).not.toMatch(/pool="lab"/);
  });
});
