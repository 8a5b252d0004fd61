/**
 * Traffic through a load balancer, as the data-path cases measure it: every request on a fresh connection (a new
 * balancing decision), answers reduced to "which backend answered" so a failure message says what was seen.
 */
import assert from "node:assert/strict";
import { isIP } from "node:net";
import type { V1Service } from "@kubernetes/client-node";
import type { CaseContext } from "./cases.js";
import type { DataPathAccess, DataPathResponse } from "./data-path.js";
import { eventually } from "../../testing/eventually.js";
import { ingressOf } from "./service-waits.js";

/** A request that should be answered: generous for a loaded node, still short against a case's minutes. */
export const REQUEST_TIMEOUT_MS = 2_000;
/** A request the load balancer should drop: a dropped SYN only ends by timeout, so this bounds the deny phase. */
export const DENY_TIMEOUT_MS = 1_000;

export function requireDataPath(ctx: CaseContext): DataPathAccess {
  assert.ok(ctx.dataPath, "the runner gave no data path (--data-path)");
  return ctx.dataPath;
}

/** `http://<first ingress address>:<first service port><path>`: where a client outside the cluster connects. */
export function loadBalancerUrl(svc: V1Service, path: string): string {
  const ingress = ingressOf(svc)[0];
  const host = ingress?.ip ?? ingress?.hostname;
  const port = svc.spec?.ports?.[0]?.port;
  assert.ok(host && port, `${svc.metadata?.name ?? "the Service"} has no ingress address or port`);
  return `http://${isIP(host) === 6 ? `[${host}]` : host}:${port}${path}`;
}

/** The body of an answered request, or undefined when no backend answered. */
export const answerOf = (r: DataPathResponse): string | undefined => (r.ok ? (r.body ?? "").trim() : undefined);

/** `count` requests one after another, each on a fresh connection. */
export async function sendRequests(
  dp: DataPathAccess,
  url: string,
  count: number,
  timeoutMs = REQUEST_TIMEOUT_MS,
): Promise<DataPathResponse[]> {
  const responses: DataPathResponse[] = [];
  for (let i = 0; i < count; i++) responses.push(await dp.get(url, { timeoutMs }));
  return responses;
}

/** "a x12, b x8, unanswered x2 (connect ECONNREFUSED ...)": what a round of requests saw, for failure messages. */
export function describeAnswers(responses: readonly DataPathResponse[]): string {
  const counts = new Map<string, number>();
  let lastError: string | undefined;
  for (const r of responses) {
    const answer = answerOf(r);
    const key = answer === undefined ? "unanswered" : JSON.stringify(answer);
    if (answer === undefined) lastError = r.error ?? (r.status !== undefined ? `HTTP ${r.status}` : undefined);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const parts = [...counts].map(
    ([key, n]) => `${key} x${n}${key === "unanswered" && lastError ? ` (${lastError})` : ""}`,
  );
  return `${responses.length} requests: ${parts.join(", ")}`;
}

/** Waits until a request is answered (the data path may trail the Service status), and returns the answer. */
export async function eventuallyAnswered(ctx: CaseContext, url: string, what: string): Promise<string> {
  const dp = requireDataPath(ctx);
  return eventually(
    what,
    async () => {
      const [response] = await sendRequests(dp, url, 1);
      const answer = response && answerOf(response);
      assert.ok(answer !== undefined, `unanswered: ${response?.error ?? `HTTP ${response?.status ?? "?"}`}`);
      return answer;
    },
    { timeoutMs: ctx.timeoutMs, intervalMs: 200 },
  );
}

/**
 * Waits until every one of `backends` has answered a request to `url`, counting answers across rounds: a backend
 * whose endpoint reaches the data path later is not a failure until the case's timeout.
 */
export async function eventuallyAllAnswer(ctx: CaseContext, url: string, backends: readonly string[]): Promise<void> {
  const dp = requireDataPath(ctx);
  const seen = new Set<string>();
  await eventually(
    `every backend (${backends.join(", ")}) to answer through the load balancer`,
    async () => {
      const round = await sendRequests(dp, url, 10);
      for (const r of round) {
        const answer = answerOf(r);
        if (answer !== undefined) seen.add(answer);
      }
      const missing = backends.filter((b) => !seen.has(b));
      assert.ok(missing.length === 0, `never answered: ${missing.join(", ")}; last round ${describeAnswers(round)}`);
      return true;
    },
    { timeoutMs: ctx.timeoutMs, intervalMs: 200 },
  );
}
