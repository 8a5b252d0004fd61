/**
 * What the apiserver itself counted: apiserver_request_total and apiserver_request_duration_seconds from its
 * /metrics, summed by "VERB resource[/subresource]", so a phase's write pattern is the difference of two
 * snapshots.
 */
import type { KubeHttp } from "./kube-http.js";

export interface RequestStats {
  count: number;
  /** Seconds the apiserver spent serving these requests, summed. */
  seconds: number;
}

export type RequestSnapshot = Map<string, RequestStats>;

function labels(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of text.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) out.set(m[1]!, m[2]!);
  return out;
}

export async function requestSnapshot(http: KubeHttp): Promise<RequestSnapshot> {
  const text = await http.text("GET", "/metrics");
  const snap: RequestSnapshot = new Map();
  const entry = (key: string): RequestStats => {
    let e = snap.get(key);
    if (!e) snap.set(key, (e = { count: 0, seconds: 0 }));
    return e;
  };
  for (const line of text.split("\n")) {
    const m = /^(apiserver_request_total|apiserver_request_duration_seconds_sum)\{(.*)\} (\S+)$/.exec(line);
    if (!m) continue;
    const l = labels(m[2]!);
    const sub = l.get("subresource") ?? "";
    const key = `${l.get("verb") ?? "?"} ${l.get("resource") ?? "?"}${sub ? `/${sub}` : ""}`;
    if (m[1] === "apiserver_request_total") entry(key).count += Number(m[3]);
    else entry(key).seconds += Number(m[3]);
  }
  return snap;
}

/** after - before, keeping keys with a non-zero count. */
export function requestDelta(before: RequestSnapshot, after: RequestSnapshot): RequestSnapshot {
  const out: RequestSnapshot = new Map();
  for (const [key, a] of after) {
    const b = before.get(key) ?? { count: 0, seconds: 0 };
    const count = a.count - b.count;
    if (count > 0) out.set(key, { count, seconds: a.seconds - b.seconds });
  }
  return out;
}

export const MUTATING_VERBS = new Set(["POST", "PUT", "PATCH", "DELETE", "DELETECOLLECTION", "APPLY"]);

export function isMutating(key: string): boolean {
  return MUTATING_VERBS.has(key.split(" ")[0] ?? "");
}
