/**
 * The data-path bench's results as a table, a comparison line and a chart, from measurements only (no I/O).
 *
 * The bench measures in phases (one per implementation, since ours and MetalLB cannot run in one lab at once), each
 * with its own direct runs: every "vs direct" ratio is against the direct path of the same phase, so drift in the
 * machine's load between phases does not show up as a difference between the implementations.
 */
import type { TopLevelSpec } from "vega-lite";
import { fmt, percentile, ratio } from "./stats.js";

export interface ThroughputRun {
  readonly receivedBitsPerSecond: number;
  readonly retransmits: number | undefined;
}

export interface PathMeasurement {
  /** Row label: "direct", "lb-operator vip", "MetalLB v0.16.1 vip", "haproxy". */
  readonly label: string;
  /** The phase it was measured in: the implementation running then. */
  readonly phase: string;
  readonly kind: "direct" | "vip" | "haproxy";
  readonly runs: readonly ThroughputRun[];
  readonly latencyMs: readonly number[];
  /** Latency requests that got no answer within the timeout (not in latencyMs). */
  readonly failedRequests: number;
}

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
export const meanBps = (m: Pick<PathMeasurement, "runs">): number => mean(m.runs.map((r) => r.receivedBitsPerSecond));
const gbit = (bps: number): string => fmt(bps / 1e9, 2);

/** The direct path measured in `phase`; throws when the phase has none (every ratio needs one). */
export function directOf(all: readonly PathMeasurement[], phase: string): PathMeasurement {
  const found = all.find((m) => m.kind === "direct" && m.phase === phase);
  if (!found) throw new RangeError(`no direct measurement in phase "${phase}"`);
  return found;
}

/** Header + one row per measurement, ratios against the direct path of the measurement's own phase. */
export function datapathRows(all: readonly PathMeasurement[]): string[][] {
  const rows = [
    [
      "path",
      "phase",
      "Gbit/s per round",
      "mean Gbit/s",
      "vs direct",
      "retransmits",
      "p50 ms",
      "p99 ms",
      "p50 vs direct",
      "failed req",
    ],
  ];
  for (const m of all) {
    const direct = directOf(all, m.phase);
    const p50 = percentile(m.latencyMs, 50);
    rows.push([
      m.label,
      m.phase,
      m.runs.map((r) => gbit(r.receivedBitsPerSecond)).join(" / "),
      gbit(meanBps(m)),
      ratio(meanBps(m), meanBps(direct)),
      m.runs.map((r) => fmt(r.retransmits)).join(" / "),
      fmt(p50, 3),
      fmt(percentile(m.latencyMs, 99), 3),
      ratio(p50, percentile(direct.latencyMs, 50)),
      String(m.failedRequests),
    ]);
  }
  return rows;
}

/** Each round's throughput against the same round's direct run of the same phase: "0.91x, 0.88x". */
export function perRoundRatios(all: readonly PathMeasurement[], m: PathMeasurement): string {
  const direct = directOf(all, m.phase);
  return m.runs.map((r, i) => ratio(r.receivedBitsPerSecond, direct.runs[i]?.receivedBitsPerSecond)).join(", ");
}

export interface Comparison {
  /** (ours / its direct) / (theirs / its direct): above 1 means ours carries more. */
  readonly throughputVsDirect: number;
  /** Mean Gbit/s of ours / theirs, phases not normalised. */
  readonly throughputRaw: number;
  /** (ours p50 / its direct p50) / (theirs p50 / its direct p50): below 1 means ours answers faster. */
  readonly p50VsDirect: number;
  readonly p50Raw: number;
}

export function compare(all: readonly PathMeasurement[], ours: PathMeasurement, theirs: PathMeasurement): Comparison {
  const d1 = directOf(all, ours.phase);
  const d2 = directOf(all, theirs.phase);
  const p50 = (m: PathMeasurement): number => percentile(m.latencyMs, 50);
  return {
    throughputVsDirect: meanBps(ours) / meanBps(d1) / (meanBps(theirs) / meanBps(d2)),
    throughputRaw: meanBps(ours) / meanBps(theirs),
    p50VsDirect: p50(ours) / p50(d1) / (p50(theirs) / p50(d2)),
    p50Raw: p50(ours) / p50(theirs),
  };
}

export function comparisonLine(c: Comparison, ours: string, theirs: string): string {
  return (
    `ratio ${ours}/${theirs}: throughput ${c.throughputVsDirect.toFixed(2)}x (each vs its phase's direct; raw ` +
    `${c.throughputRaw.toFixed(2)}x), p50 latency ${c.p50VsDirect.toFixed(2)}x (raw ${c.p50Raw.toFixed(2)}x)`
  );
}

/** Distinct row names for the chart: the direct rows carry their phase. */
const chartName = (m: PathMeasurement): string => (m.kind === "direct" ? `direct (${m.phase} phase)` : m.label);

/**
 * Two bar charts one above the other: Gbit/s per path (one bar per round) and p50/p99 request latency per path.
 * Built here rather than with svg-chart.ts's barChart because the two share one SVG (vconcat).
 */
export function datapathChartSpec(title: string, all: readonly PathMeasurement[]): TopLevelSpec {
  const order = all.map(chartName);
  const throughput = all.flatMap((m) =>
    m.runs.map((r, i) => ({ path: chartName(m), round: `round ${i + 1}`, gbps: r.receivedBitsPerSecond / 1e9 })),
  );
  const latency = all.flatMap((m) =>
    (
      [
        ["p50", 50],
        ["p99", 99],
      ] as const
    ).map(([name, p]) => ({ path: chartName(m), percentile: name, ms: percentile(m.latencyMs, p) })),
  );
  const bars = (
    subtitle: string,
    values: readonly Record<string, string | number>[],
    x: { field: string; title: string },
    series: string,
  ) =>
    ({
      title: subtitle,
      width: 480,
      height: { step: 16 },
      data: { values: values.map((v) => ({ ...v })) },
      mark: "bar",
      encoding: {
        y: { field: "path", type: "nominal", title: null, sort: order, axis: { labelLimit: 0 } },
        x: { ...x, type: "quantitative" },
        color: { field: series, type: "nominal" },
        yOffset: { field: series },
      },
    }) as const;
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title,
    vconcat: [
      bars("iperf3 throughput (receiver), per round", throughput, { field: "gbps", title: "Gbit/s" }, "round"),
      bars(
        "request latency (new TCP connection + one round trip)",
        latency,
        { field: "ms", title: "milliseconds" },
        "percentile",
      ),
    ],
    resolve: { scale: { color: "independent" } },
  };
}
