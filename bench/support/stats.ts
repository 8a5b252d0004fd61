import type { LoadTimings } from "./load.js";

/** Nearest-rank percentile (p in 0..100) of unsorted values; NaN for none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

export interface LatencySummary {
  n: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  /** First create sent to last address seen. */
  convergenceS: number;
  /** First create sent to last create returned. */
  createS: number;
  createRate: number;
}

export function summarize(t: LoadTimings): LatencySummary {
  const latencies: number[] = [];
  for (let i = 0; i < t.n; i++) latencies.push(t.statusAt[i]! - t.createdAt[i]!);
  const createS = (t.lastCreateEnd - t.firstCreateStart) / 1000;
  return {
    n: t.n,
    p50Ms: percentile(latencies, 50),
    p90Ms: percentile(latencies, 90),
    p99Ms: percentile(latencies, 99),
    maxMs: percentile(latencies, 100),
    convergenceS: (t.lastStatus - t.firstCreateStart) / 1000,
    createS,
    createRate: t.n / createS,
  };
}

/** A plain text table: first column left-aligned, the others right-aligned. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows
    .map((row) => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join("   "))
    .join("\n");
}

export const fmt = (v: number | undefined, digits = 0): string =>
  v === undefined || Number.isNaN(v)
    ? "-"
    : v.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });

export const ratio = (a: number | undefined, b: number | undefined): string =>
  a === undefined || b === undefined || !Number.isFinite(a / b) ? "-" : `${(a / b).toFixed(2)}x`;

export const mb = (bytes: number | undefined): number | undefined =>
  bytes === undefined ? undefined : bytes / (1024 * 1024);
