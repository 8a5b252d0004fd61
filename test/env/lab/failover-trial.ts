/**
 * One failover trial, shared by the failover test and bench/failover: the node announcing `vip` dies (its speaker is
 * SIGKILLed and its switch port goes down at the same moment, as when a machine loses power: the node keeps its own
 * addresses and routes, it just hears nothing), and the client, which keeps
 * opening fresh connections every few milliseconds, measures the time from the kill to the first request answered
 * again. Then the node comes back (link up, speaker restarted) so the next trial starts from a full cluster.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { delay, eventually } from "../../../testing/eventually.js";
import type { Lab } from "./lab.js";
import { announcerSeenByClient, reachable } from "./speaker-checks.js";

export interface FailoverTrial {
  /** The announcer that died. */
  readonly victim: string;
  /** The node the client's ARP points at after the failover. */
  readonly successor: string | undefined;
  /** Kill -> first successful request (ms). */
  readonly failoverMs: number;
  /** Requests sent after the kill that failed before the first success. */
  readonly failedRequests: number;
}

export interface TrialOptions {
  readonly everyMs?: number;
  readonly requestTimeoutMs?: number;
  /** Give up on one trial after this long. */
  readonly deadlineMs?: number;
  readonly speakerArgs?: string[];
}

export async function failoverTrial(
  lab: Lab,
  vip: string,
  port: number,
  options: TrialOptions = {},
): Promise<FailoverTrial> {
  await reachable(lab, vip, port);
  const victim = await eventually("the client to know the announcer", () => announcerSeenByClient(lab, vip, port));
  const cable = (state: "up" | "down"): Promise<unknown> =>
    run("ip", ["-n", lab.network.switchNs, "link", "set", `v-${victim}`, state]);
  const killedAt = Date.now();
  await Promise.all([lab.killSpeaker(victim), cable("down")]);
  // Requests sent before the link was really down could still be answered by the dying node: count from here.
  const startAt = Date.now();
  const result = await lab.client.agent.loop({
    protocol: "TCP",
    ip: vip,
    port,
    everyMs: options.everyMs ?? 10,
    timeoutMs: options.requestTimeoutMs ?? 100,
    startAt,
    deadline: startAt + (options.deadlineMs ?? 15_000),
  });
  const successor = await announcerSeenByClient(lab, vip, port);
  await cable("up");
  await lab.startSpeaker(victim, options.speakerArgs);
  // Let the returning speaker settle (it may take its address back) before the next trial measures anything.
  await delay(1_500);
  if (!result.ok || result.at === undefined) {
    throw new Error(
      `no request through ${vip}:${port} succeeded within ${options.deadlineMs ?? 15_000} ms after killing ${victim}: ${result.error ?? ""}`,
    );
  }
  return { victim, successor, failoverMs: result.at - killedAt, failedRequests: result.failuresAfterStart };
}

const run = promisify(execFile);

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}
