/**
 * What the failure stories measure, computed from the client's samples (no I/O): requests answered and failed,
 * the longest time without an answer, which node forwarded each answered request, and the path of the client's
 * ARP entry for the VIP over time.
 */
import { parseBackendLine } from "../../test/env/lab/speaker-checks.js";

/** One request of failure-story-probe.ts: sent at `s`, done at `d` (epoch ms); `b` the answer line, `e` the error. */
export type ProbeSample =
  | { readonly s: number; readonly d: number; readonly ok: true; readonly b: string }
  | { readonly s: number; readonly d: number; readonly ok: false; readonly e: string | undefined };

/** The probe's stdout: one JSON sample a line; the ready line and anything unparsable are skipped. */
export function parseProbeLog(text: string): ProbeSample[] {
  const out: ProbeSample[] = [];
  for (const line of text.split("\n")) {
    if (!line.startsWith("{")) continue;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      continue;
    }
    if (isSample(v)) out.push(v);
  }
  return out.sort((a, b) => a.s - b.s);
}

function isSample(v: unknown): v is ProbeSample {
  if (typeof v !== "object" || v === null) return false;
  const o = v as Record<string, unknown>;
  return typeof o["s"] === "number" && typeof o["d"] === "number" && typeof o["ok"] === "boolean";
}

export interface ProbeSummary {
  readonly requests: number;
  readonly failed: number;
  /** Longest time in the window with no answer arriving (window edges count as answers). */
  readonly longestGapMs: number;
  /** Answered requests per forwarding node (the source address the pod saw), most first. */
  readonly forwardedBy: ReadonlyMap<string, number>;
  /** Answered requests per backend pod. */
  readonly backends: ReadonlyMap<string, number>;
}

/**
 * Requests sent in [from, to]. `forwarderOf` maps the client address the pod saw (after masquerade) to a node
 * name: with Cluster policy the forwarding node SNATs to its own address.
 */
export function summarizeProbe(
  samples: readonly ProbeSample[],
  window: { readonly from: number; readonly to: number },
  forwarderOf: (sourceIp: string) => string,
): ProbeSummary {
  const inWindow = samples.filter((x) => x.s >= window.from && x.s <= window.to);
  const answered = inWindow.filter((x): x is Extract<ProbeSample, { ok: true }> => x.ok);
  const edges = [window.from, ...answered.map((x) => x.d).sort((a, b) => a - b), window.to];
  let longestGapMs = 0;
  for (let i = 1; i < edges.length; i++) longestGapMs = Math.max(longestGapMs, (edges[i] ?? 0) - (edges[i - 1] ?? 0));
  const forwardedBy = new Map<string, number>();
  const backends = new Map<string, number>();
  for (const x of answered) {
    const line = parseBackendLine(x.b);
    const via = line ? forwarderOf(line.clientIp) : "?";
    forwardedBy.set(via, (forwardedBy.get(via) ?? 0) + 1);
    const backend = line?.backend ?? "?";
    backends.set(backend, (backends.get(backend) ?? 0) + 1);
  }
  return {
    requests: inWindow.length,
    failed: inWindow.length - answered.length,
    longestGapMs,
    forwardedBy: sortByCount(forwardedBy),
    backends: sortByCount(backends),
  };
}

const sortByCount = (m: Map<string, number>): Map<string, number> =>
  new Map([...m].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])));

/** "node-2 412, node-3 18" */
export const counts = (m: ReadonlyMap<string, number>): string =>
  [...m].map(([k, n]) => `${k} ${n}`).join(", ") || "none";

/** Maps the source address a pod saw to the node that masqueraded it: a node's address or its pod-veth gateway. */
export function forwarderLookup(
  nodes: readonly { readonly name: string; readonly ip: string; readonly podGateway: string }[],
  clientIp: string,
): (sourceIp: string) => string {
  return (sourceIp) =>
    sourceIp === clientIp
      ? "client (no SNAT)"
      : (nodes.find((n) => n.ip === sourceIp || n.podGateway === sourceIp)?.name ?? sourceIp);
}

/** The node's gateway on its pod veths: the first host address of its pod subnet ("198.51.100.16/28" -> .17). */
export function podGatewayOf(podSubnet: string): string {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/\d+$/.exec(podSubnet);
  if (!m) throw new RangeError(`not an IPv4 CIDR: ${podSubnet}`);
  return `${m[1]}.${m[2]}.${m[3]}.${Number(m[4]) + 1}`;
}

export interface ArpSample {
  readonly at: number;
  /** The node whose MAC the client held for the VIP; undefined when it held none. */
  readonly node: string | undefined;
}

/** The client's ARP entry over time, repeats collapsed: "node-2 -> node-3 (+0.41 s) -> node-2 (+6.10 s)". */
export function arpPath(samples: readonly ArpSample[], t0: number): string {
  const parts: string[] = [];
  let last: string | null = null;
  for (const x of [...samples].sort((a, b) => a.at - b.at)) {
    const name = x.node ?? "none";
    if (name === last) continue;
    parts.push(last === null ? name : `${name} (+${((x.at - t0) / 1000).toFixed(2)} s)`);
    last = name;
  }
  return parts.join(" -> ") || "no sample";
}

/** The distinct nodes the client's ARP entry named, in order of first appearance. */
export function arpNodes(samples: readonly ArpSample[]): string[] {
  return [...new Set(samples.flatMap((x) => (x.node === undefined ? [] : [x.node])))];
}

/**
 * When the failed requests of the window were sent, relative to `t0`, as spans of failures less than `joinMs`
 * apart: "+3.74..+4.04 s (30)"; "none" without failures.
 */
export function failureSpans(
  samples: readonly ProbeSample[],
  window: { readonly from: number; readonly to: number },
  t0: number,
  joinMs = 100,
): string {
  const failed = samples.filter((x) => !x.ok && x.s >= window.from && x.s <= window.to).map((x) => x.s);
  failed.sort((a, b) => a - b);
  const spans: { from: number; to: number; n: number }[] = [];
  for (const s of failed) {
    const last = spans.at(-1);
    if (last && s - last.to < joinMs) {
      last.to = s;
      last.n++;
    } else spans.push({ from: s, to: s, n: 1 });
  }
  const rel = (t: number): string => `${t >= t0 ? "+" : "-"}${(Math.abs(t - t0) / 1000).toFixed(2)}`;
  return spans.map((x) => `${rel(x.from)}..${rel(x.to)} s (${x.n})`).join(", ") || "none";
}
