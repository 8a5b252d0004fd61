import { describe, expect, it } from "vitest";
import {
  compare,
  comparisonLine,
  datapathChartSpec,
  datapathRows,
  type PathMeasurement,
  perRoundRatios,
} from "./datapath-report.js";
import { renderSvg } from "./svg-chart.js";

const gbps = (...xs: number[]): PathMeasurement["runs"] =>
  xs.map((x) => ({ receivedBitsPerSecond: x * 1e9, retransmits: 7 }));
const all: PathMeasurement[] = [
  { label: "direct", phase: "ours", kind: "direct", runs: gbps(10, 10), latencyMs: [0.1, 0.1, 0.1], failedRequests: 0 },
  {
    label: "direct",
    phase: "theirs",
    kind: "direct",
    runs: gbps(20, 20),
    latencyMs: [0.2, 0.2, 0.2],
    failedRequests: 0,
  },
  { label: "ours vip", phase: "ours", kind: "vip", runs: gbps(9, 7), latencyMs: [0.15, 0.15, 0.3], failedRequests: 1 },
  {
    label: "theirs vip",
    phase: "theirs",
    kind: "vip",
    runs: gbps(20, 20),
    latencyMs: [0.2, 0.2, 0.2],
    failedRequests: 0,
  },
];

describe("datapath report", () => {
  it("rates every path against the direct run of its own phase", () => {
    const rows = datapathRows(all);
    expect(rows[0]).toContain("vs direct");
    const ours = rows.find((r) => r[0] === "ours vip");
    const theirs = rows.find((r) => r[0] === "theirs vip");
    expect(ours?.slice(2, 5)).toEqual(["9.00 / 7.00", "8.00", "0.80x"]);
    expect(ours?.slice(-2)).toEqual(["1.50x", "1"]);
    // Twice the raw throughput of ours, but no faster than its own phase's direct path.
    expect(theirs?.[4]).toBe("1.00x");
    expect(perRoundRatios(all, all[2]!)).toBe("0.90x, 0.70x");
  });

  it("compares ours to theirs normalised by each phase's direct path, and raw", () => {
    const c = compare(all, all[2]!, all[3]!);
    expect(c.throughputVsDirect).toBeCloseTo(0.8);
    expect(c.throughputRaw).toBeCloseTo(0.4);
    expect(c.p50VsDirect).toBeCloseTo(1.5);
    expect(c.p50Raw).toBeCloseTo(0.75);
    expect(comparisonLine(c, "ours", "theirs")).toBe(
      "ratio ours/theirs: throughput 0.80x (each vs its phase's direct; raw 0.40x), p50 latency 1.50x (raw 0.75x)",
    );
  });

  it("refuses a phase without a direct run", () => {
    expect(() => datapathRows([all[2]!])).toThrow(/no direct measurement in phase "ours"/);
  });

  it("charts a bar per path and round, and p50/p99 per path", async () => {
    const svg = await renderSvg(datapathChartSpec("data path", all));
    // 4 paths x 2 rounds of throughput + 4 paths x 2 percentiles of latency.
    expect(svg.match(/aria-roledescription="bar"/g)).toHaveLength(16);
    expect(svg).toContain("direct (ours phase)");
    expect(svg).toContain("Gbit/s");
    expect(svg).toContain("milliseconds");
  });
});
