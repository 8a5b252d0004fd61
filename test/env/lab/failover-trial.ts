/**
 * One failover trial, shared by the failover test and bench/failover: the node announcing `vip` dies (its speaker is
 * SIGKILLed and its switch port goes down at the same moment, as when a machine loses power: the node keeps its own
 * addresses and routes, it just hears nothing), and the client, which keeps opening fresh connections every few
 * milliseconds, measures the time from the kill to the first request answered again. Then the node comes back (link
 * up, speaker restarted through the implementation, which for MetalLB waits until memberlist has rejoined: see
 * lab-implementations.ts) so the next trial starts from a full, settled cluster.
 *
 * The speaker is whichever implementation runs (ours or MetalLB, lab-implementations.ts), so both are measured by
 * the same code.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { delay, eventually } from "../../../testing/eventually.js";
import type { LoopResult } from "./agent-protocol.js";
import type { Lab } from "./lab.js";
import type { LabImplementation } from "./lab-implementations.js";
import { announcerSeenByClient, reachable } from "./speaker-checks.js";

export interface FailoverTrial {
  /** The announcer that died. */
  readonly victim: string;
  /** The node the client's ARP points at after the failover (undefined when nobody answered). */
  readonly successor: string | undefined;
  /** Kill -> first successful request (ms); undefined when no request succeeded before the deadline. */
  readonly failoverMs: number | undefined;
  /** Requests sent after the kill that failed before the first success (or before the deadline). */
  readonly failedRequests: number;
}

export interface TrialOptions {
  readonly everyMs?: number;
  readonly requestTimeoutMs?: number;
  /** Give up on one trial after this long; the trial is then reported with `failoverMs` undefined. */
  readonly deadlineMs?: number;
  /** Pause after the victim's speaker is back, before the next trial measures anything (default 1.5 s). */
  readonly settleMs?: number;
}

export const DEFAULT_TRIAL_DEADLINE_MS = 15_000;

export async function failoverTrial(
  lab: Lab,
  implementation: LabImplementation,
  vip: string,
  port: number,
  options: TrialOptions = {},
): Promise<FailoverTrial> {
  await reachable(lab, vip, port);
  const victim = await eventually("the client to know the announcer", () => announcerSeenByClient(lab, vip, port));
  const cable = (state: "up" | "down"): Promise<unknown> =>
    run("ip", ["-n", lab.network.switchNs, "link", "set", `v-${victim}`, state]);
  const deadlineMs = options.deadlineMs ?? DEFAULT_TRIAL_DEADLINE_MS;
  const killedAt = Date.now();
  await Promise.all([implementation.killSpeaker(victim), cable("down")]);
  // Requests sent before the link was really down could still be answered by the dying node: count from here.
  const startAt = Date.now();
  let result: LoopResult;
  try {
    result = await lab.client.agent.loop({
      protocol: "TCP",
      ip: vip,
      port,
      everyMs: options.everyMs ?? 10,
      timeoutMs: options.requestTimeoutMs ?? 100,
      startAt,
      deadline: killedAt + deadlineMs,
    });
  } finally {
    // Whatever happened, the node comes back, so a failed trial leaves the cluster whole for the next one.
    await cable("up");
  }
  const recovered = result.ok && result.at !== undefined;
  const successor = recovered ? await announcerSeenByClient(lab, vip, port) : undefined;
  await implementation.startSpeaker(victim);
  // Let the returning speaker settle (it may take its address back) before the next trial measures anything.
  await delay(options.settleMs ?? 1_500);
  return {
    victim,
    successor,
    failoverMs: recovered && result.at !== undefined ? result.at - killedAt : undefined,
    failedRequests: result.failuresAfterStart,
  };
}

const run = promisify(execFile);

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}
