/**
 * The Events a controller wrote in a bench namespace. Both controllers write theirs asynchronously, after the
 * status patch (the upstream one through client-go's event broadcaster, ours through src/kube/event-recorder.ts),
 * so the bench waits for them to stop trailing before it reads the apiserver's write counters.
 */
import { performance } from "node:perf_hooks";
import { type KubeHttp, listAll } from "./kube-http.js";

export interface EventCount {
  /** Events the controller wrote (its source.component or reportingComponent). */
  total: number;
  byReason: Map<string, number>;
  /** Events of other writers in the namespace, by "component: reason" (the apiserver's allocator repair loops). */
  others: Map<string, number>;
}

export interface SettledEvents extends EventCount {
  /** Seconds from `since` to the last change of the count. */
  settledAfterS: number;
  complete: boolean;
  expected: number;
}

interface EventLike {
  reason?: string;
  reportingComponent?: string;
  source?: { component?: string };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function countEvents(http: KubeHttp, namespace: string, component: string): Promise<EventCount> {
  const { items } = await listAll<EventLike>(http, `/api/v1/namespaces/${namespace}/events`);
  const byReason = new Map<string, number>();
  const others = new Map<string, number>();
  let total = 0;
  const bump = (m: Map<string, number>, k: string): void => void m.set(k, (m.get(k) ?? 0) + 1);
  for (const e of items) {
    const from = e.source?.component || e.reportingComponent || "?";
    if (from === component) {
      total++;
      bump(byReason, e.reason ?? "?");
    } else bump(others, `${from}: ${e.reason ?? "?"}`);
  }
  return { total, byReason, others };
}

/** Waits until `expected` Events exist, or the count stops moving for 6 s, or `waitMs` passes. */
export async function waitForEvents(
  http: KubeHttp,
  namespace: string,
  component: string,
  o: { expected: number; since: number; waitMs: number; label: string; log: (line: string) => void },
): Promise<SettledEvents> {
  const { expected, since, waitMs, label, log } = o;
  let last = await countEvents(http, namespace, component);
  let lastChange = performance.now();
  const deadline = performance.now() + waitMs;
  while (last.total < expected && performance.now() < deadline && performance.now() - lastChange < 6_000) {
    await sleep(1_500);
    const now = await countEvents(http, namespace, component);
    if (now.total !== last.total) {
      lastChange = performance.now();
      log(`${label} events written: ${now.total}/${expected}`);
    }
    last = now;
  }
  return { ...last, settledAfterS: (lastChange - since) / 1000, complete: last.total >= expected, expected };
}
