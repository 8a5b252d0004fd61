/** The table bench/reconcile.ts prints per size: floor, upstream and ours side by side, and the goals. */
import { availableParallelism } from "node:os";
import { isMutating } from "./apiserver-metrics.js";
import type { PhaseResult } from "./reconcile-phase.js";
import type { ReconcileOptions } from "./reconcile-options.js";
import { fmt, mb, ratio, table } from "./stats.js";

export interface SizeResult {
  n: number;
  floor: PhaseResult;
  upstream: PhaseResult;
  ours: PhaseResult;
}

/** Issue 14: ours converges no slower than the upstream controller, at every size. */
const CONVERGENCE_GOAL = 1.0;
/** Issue 14: RSS goals by size. */
const RSS_GOALS_MB = new Map([
  [5_000, 250],
  [10_000, 400],
]);

/**
 * Writes a contender makes per Service: every mutating request on Services and Events during the phase except the
 * bench's own creates (POST services), so the apiserver's own loops (its Lease, IPAddress objects) do not count.
 */
export function contenderWrites(p: PhaseResult, n: number): number {
  let count = 0;
  for (const [key, s] of p.requests) {
    const resource = key.split(" ")[1] ?? "";
    if (!isMutating(key) || key === "POST services") continue;
    if (/^(services|events)(\/|$)/.test(resource)) count += s.count;
  }
  return count / n;
}

const rss = (p: PhaseResult): number => mb(Math.max(p.maxRssBytes, p.peakRssBytes)) ?? Number.NaN;

function eventsLine(p: PhaseResult): string {
  const e = p.events;
  if (e === undefined) return `${p.column}: writes no Events`;
  const reasons = [...e.byReason].map(([k, v]) => `${k} ${fmt(v)}`).join(", ");
  const others = [...e.others].map(([k, v]) => `${k} ${fmt(v)}`).join(", ");
  return (
    `${p.column}: ${fmt(e.total)} Events of ${fmt(e.expected)} expected (${reasons || "none"}); ` +
    (e.complete ? "all written" : `INCOMPLETE: ${fmt(e.expected - e.total)} never written (dropped or failed)`) +
    `, last one seen ${fmt(e.settledAfterS, 1)} s after convergence; after convergence until they settled ` +
    `${fmt(p.trailingCpu.client, 1)} CPU s (kube-apiserver ${fmt(p.trailingCpu.apiserver, 1)})` +
    (others ? `\n  (other Events in ${p.column}'s namespace, not counted: ${others})` : "")
  );
}

export function report(r: SizeResult, opts: ReconcileOptions): string {
  const { floor: f, upstream: u, ours: o, n } = r;
  const all = [f, u, o];
  const row = (name: string, get: (p: PhaseResult) => number | undefined, digits = 0): string[] => [
    name,
    ...all.map((p) => fmt(get(p), digits)),
    ratio(get(o), get(u)),
    ratio(get(o), get(f)),
  ];
  const keys = [...new Set(all.flatMap((p) => [...p.requests.keys()]))].sort();
  // Reads of API resources (not /metrics, /healthz and other non-resource paths, which have no resource).
  const readKeys = keys.filter((k) => !isMutating(k) && !/ (\?|)$/.test(k));
  const perService = (p: PhaseResult, key: string): string => {
    const s = p.requests.get(key);
    return s === undefined ? "0" : `${fmt(s.count / n, 2)} (${fmt((s.seconds / s.count) * 1000, 1)})`;
  };
  const rows: string[][] = [
    ["", "floor", "upstream", "ours", "ours/upstream", "ours/floor"],
    row("create -> address p50 (ms)", (p) => p.latency.p50Ms),
    row("create -> address p90 (ms)", (p) => p.latency.p90Ms),
    row("create -> address p99 (ms)", (p) => p.latency.p99Ms),
    row("create -> address max (ms)", (p) => p.latency.maxMs),
    row("convergence, first create -> last address (s)", (p) => p.latency.convergenceS, 1),
    row("creates finished after (s)", (p) => p.latency.createS, 1),
    row("writes per Service (Services + Events, not the creates)", (p) => contenderWrites(p, n), 2),
    row("max RSS, sampled every 250 ms (MB)", (p) => mb(p.maxRssBytes), 1),
    row("peak RSS, VmHWM (MB)", (p) => mb(p.peakRssBytes), 1),
    row("RSS when ready, before the first create (MB)", (p) => mb(p.ready?.rssBytes), 1),
    row("idle RSS, 3 s after convergence/events (MB)", (p) => mb(p.idle?.rssBytes), 1),
    row("max open fds", (p) => p.maxFds),
    ["CPU seconds, first create -> convergence", "", "", "", "", ""],
    row("  kube-apiserver", (p) => p.cpu.apiserver, 1),
    row("  etcd", (p) => p.cpu.etcd, 1),
    row("  contender", (p) => p.cpu.client, 1),
    row("  bench process (creates + watch)", (p) => p.cpu.bench, 1),
    [...row("  anything else on the machine (noise)", (p) => p.cpu.machine, 1).slice(0, 4), "", ""],
    ["apiserver writes per Service (mean ms), all writers", "", "", "", "", ""],
    ...keys.filter(isMutating).map((k) => [`  ${k}`, ...all.map((p) => perService(p, k)), "", ""]),
    ["apiserver reads during the phase (count; LIST events is the bench counting Events)", "", "", "", "", ""],
    ...readKeys.map((k) => [`  ${k}`, ...all.map((p) => fmt(p.requests.get(k)?.count ?? 0)), "", ""]),
  ];
  const conv = o.latency.convergenceS / u.latency.convergenceS;
  const rssGoal = RSS_GOALS_MB.get(n);
  const [wo, wu] = [contenderWrites(o, n), contenderWrites(u, n)];
  const m = o.metrics;
  const lines = [
    `== N = ${fmt(n)} Services: ${opts.concurrency} concurrent creates; ${opts.workers} workers each (ours --workers,` +
      ` upstream ConcurrentServiceSyncs, floor patcher concurrency); ${availableParallelism()} CPUs` +
      `${opts.controllerNodeArgs.length > 0 ? `; our node flags: ${opts.controllerNodeArgs.join(" ")}` : ""} ==`,
    table(rows),
    eventsLine(u),
    eventsLine(o),
    m === undefined
      ? "ours: no /metrics read"
      : `ours: ${fmt(m.reconciles.count)} reconciles (${m.reconciles.verdicts}), mean ${fmt(m.reconciles.meanMs, 1)} ms;` +
        ` idle RSS ${fmt(mb(o.idle?.rssBytes), 1)} MB = anonymous ${fmt(mb(o.idle?.anonBytes), 1)} + files ${fmt(mb(o.idle?.fileBytes), 1)};` +
        ` V8 heap used ${fmt(mb(m.heapUsedBytes), 1)} MB of ${fmt(mb(m.heapTotalBytes), 1)} MB, external ${fmt(mb(m.externalBytes), 1)} MB`,
    `Goal: convergence at most ${CONVERGENCE_GOAL.toFixed(1)}x the upstream controller's: ${conv <= CONVERGENCE_GOAL ? "MET" : "NOT MET"} (${conv.toFixed(2)}x)`,
    rssGoal === undefined
      ? `Goal: RSS applies at 5,000 (< 250 MB) and 10,000 (< 400 MB); here ours ${rss(o).toFixed(1)} MB, upstream ${rss(u).toFixed(1)} MB`
      : `Goal: RSS < ${rssGoal} MB at ${fmt(n)}: ${rss(o) < rssGoal ? "MET" : "NOT MET"} (ours ${rss(o).toFixed(1)} MB, upstream ${rss(u).toFixed(1)} MB)`,
    `Goal: writes per Service no more than upstream's: ${wo <= wu ? "MET" : "NOT MET"} (ours ${wo.toFixed(2)}, upstream ${wu.toFixed(2)})`,
  ];
  return lines.join("\n");
}
