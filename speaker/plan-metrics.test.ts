import { describe, expect, it } from "vitest";
import type { DataPlan, ForwardingRule } from "./data-plan.js";
import { clearPlan, reportPlan } from "./plan-metrics.js";
import { SpeakerMetrics } from "./speaker-metrics.js";

function rule(vip: string, port: number, service: string, backends: string[]): ForwardingRule {
  return {
    vip,
    protocol: "TCP",
    port,
    destinations: backends.map((ip) => ({ ip, port: 30080 })),
    clientIPAffinity: false,
    masquerade: true,
    sourceRanges: [],
    service,
  };
}

const web = new Map([["192.0.2.10", ["a/web"]]]);

async function values(metrics: SpeakerMetrics, name: string): Promise<Record<string, number>> {
  const metric = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === name);
  const out: Record<string, number> = {};
  for (const v of metric?.values ?? []) out[Object.values(v.labels).join(",")] = v.value;
  return out;
}

describe("reportPlan", () => {
  it("sets one announced series per Service and address on this node, and backend health per Service", async () => {
    const metrics = new SpeakerMetrics();
    const plan: DataPlan = {
      announced: ["192.0.2.10", "192.0.2.11"],
      rules: [
        rule("192.0.2.10", 80, "a/web", ["198.51.100.1", "198.51.100.2"]),
        rule("192.0.2.10", 443, "a/web", ["198.51.100.2"]),
        rule("192.0.2.11", 53, "b/dns", []),
      ],
    };
    // As decideDataPlan gives them: the announced addresses only, a shared one with each of its Services.
    const owners = new Map([
      ["192.0.2.10", ["a/web"]],
      ["192.0.2.11", ["b/dns", "b/dns-tcp"]],
    ]);
    reportPlan(metrics, "node-1", plan, owners);
    expect(await values(metrics, "lb_operator_speaker_announced")).toEqual({
      "a/web,192.0.2.10,node-1": 1,
      "b/dns,192.0.2.11,node-1": 1,
      "b/dns-tcp,192.0.2.11,node-1": 1,
    });
    expect(await values(metrics, "lb_operator_speaker_service_healthy_backends")).toEqual({ "a/web": 2, "b/dns": 0 });
    expect(await values(metrics, "lb_operator_speaker_service_no_healthy_backend")).toEqual({ "a/web": 0, "b/dns": 1 });
    expect(await values(metrics, "lb_operator_speaker_announced_addresses")).toEqual({ "": 2 });
  });

  it("drops the series of addresses and Services the next plan no longer has, and all of them on clear", async () => {
    const metrics = new SpeakerMetrics();
    reportPlan(
      metrics,
      "node-1",
      { announced: ["192.0.2.10"], rules: [rule("192.0.2.10", 80, "a/web", ["198.51.100.1"])] },
      web,
    );
    reportPlan(metrics, "node-1", { announced: [], rules: [] }, web);
    expect(await values(metrics, "lb_operator_speaker_announced")).toEqual({});
    expect(await values(metrics, "lb_operator_speaker_service_healthy_backends")).toEqual({});
    reportPlan(
      metrics,
      "node-1",
      { announced: ["192.0.2.10"], rules: [rule("192.0.2.10", 80, "a/web", ["198.51.100.1"])] },
      web,
    );
    clearPlan(metrics);
    expect(await values(metrics, "lb_operator_speaker_announced")).toEqual({});
    expect(await values(metrics, "lb_operator_speaker_service_no_healthy_backend")).toEqual({});
    expect(await values(metrics, "lb_operator_speaker_forwarding_rules")).toEqual({ "": 0 });
  });
});

describe("SpeakerMetrics.observeNftApply", () => {
  it("times every transaction and counts the failed ones", async () => {
    const metrics = new SpeakerMetrics();
    metrics.observeNftApply({ ok: true, seconds: 0.02 });
    metrics.observeNftApply({ ok: false, seconds: 0.5 });
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/^lb_operator_speaker_nft_apply_duration_seconds_count 2$/m);
    expect(text).toMatch(/^lb_operator_speaker_nft_apply_failures_total 1$/m);
  });
});
