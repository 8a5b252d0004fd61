/**
 * Probes the speaker's forwarding destinations so an unhealthy backend leaves the rule set within two probe
 * intervals and returns when healthy again.
 *
 * Contract:
 * - Every target is probed at once when added, then every intervalMs (measured from probe start), each probe
 *   bounded by timeoutMs <= intervalMs. A failure is therefore seen at most intervalMs + timeoutMs after the
 *   backend breaks. Probes of one target never overlap: the next starts only after the previous has settled.
 * - A target never probed counts as healthy (optimistic start), so a speaker taking over forwards at once
 *   rather than dropping traffic for a probe round. After that, failureThreshold consecutive failures make it
 *   unhealthy and successThreshold consecutive successes healthy again (defaults 1/1; cloud-provider-kind's
 *   Envoy uses 3 s and 2 failures, CPK proxy.go, which would be far too slow for our sub-second goal).
 * - onChange runs (in a microtask, never re-entrantly, coalesced) only when some target's health flips.
 */
import type { Logger } from "pino";
import { HealthProberConfigError } from "./health-errors.js";
import { probeKey, type ProbeResult, type ProbeTarget } from "./probe-target.js";
import { networkProbe, type ProbeFn } from "./probes.js";
import { type Clock, CoalescedNotifier, type TimerHandle, systemClock } from "../../src/runtime/index.js";
import { errorMessage } from "../../src/toolkit/index.js";

export interface ProberOptions {
  readonly intervalMs: number;
  /** Per-probe deadline; at most intervalMs. */
  readonly timeoutMs: number;
  /** Consecutive failures before a target is unhealthy (default 1). */
  readonly failureThreshold?: number;
  /** Consecutive successes before an unhealthy target is healthy again (default 1). */
  readonly successThreshold?: number;
  readonly logger: Logger;
  readonly onChange: () => void;
  readonly clock?: Clock;
  /** The network probe; replaceable in tests. */
  readonly probe?: ProbeFn;
}

interface TargetState {
  readonly key: string;
  readonly target: ProbeTarget;
  /** undefined until the first verdict: counts as healthy. */
  healthy: boolean | undefined;
  successes: number;
  failures: number;
  next: TimerHandle | undefined;
  inFlight: AbortController | undefined;
}

export class HealthProber {
  private readonly clock: Clock;
  private readonly probe: ProbeFn;
  private readonly failureThreshold: number;
  private readonly successThreshold: number;
  private readonly targets = new Map<string, TargetState>();
  private stopped = false;
  private readonly changes: CoalescedNotifier;

  constructor(private readonly opts: ProberOptions) {
    this.failureThreshold = opts.failureThreshold ?? 1;
    this.successThreshold = opts.successThreshold ?? 1;
    this.changes = new CoalescedNotifier(opts.onChange, opts.logger, "health");
    if (!(opts.intervalMs > 0) || !(opts.timeoutMs > 0) || opts.timeoutMs > opts.intervalMs) {
      throw new HealthProberConfigError(
        `health probes need 0 < timeoutMs <= intervalMs, got timeoutMs=${opts.timeoutMs} intervalMs=${opts.intervalMs}`,
      );
    }
    for (const [name, v] of [
      ["failureThreshold", this.failureThreshold],
      ["successThreshold", this.successThreshold],
    ] as const) {
      if (!Number.isInteger(v) || v < 1)
        throw new HealthProberConfigError(`${name} must be a positive integer, got ${v}`);
    }
    this.clock = opts.clock ?? systemClock;
    this.probe = opts.probe ?? networkProbe;
  }

  /** Replaces the target set: new targets are probed at once, removed ones stop (an in-flight probe is aborted). */
  setTargets(targets: readonly ProbeTarget[]): void {
    if (this.stopped) return;
    const wanted = new Map<string, ProbeTarget>();
    for (const t of targets) wanted.set(probeKey(t), t);
    for (const [key, s] of this.targets) {
      if (wanted.has(key)) continue;
      this.cancel(s);
      this.targets.delete(key);
    }
    for (const [key, target] of wanted) {
      if (this.targets.has(key)) continue;
      const s: TargetState = {
        key,
        target,
        healthy: undefined,
        successes: 0,
        failures: 0,
        next: undefined,
        inFlight: undefined,
      };
      this.targets.set(key, s);
      void this.run(s);
    }
  }

  /** False only for a probed target that crossed the failure threshold; unknown targets are healthy. */
  isHealthy(t: ProbeTarget): boolean {
    return this.targets.get(probeKey(t))?.healthy !== false;
  }

  stop(): void {
    this.stopped = true;
    this.changes.stop();
    for (const s of this.targets.values()) this.cancel(s);
    this.targets.clear();
  }

  private async run(s: TargetState): Promise<void> {
    s.next = undefined;
    const startedAt = this.clock.now();
    const abort = new AbortController();
    s.inFlight = abort;
    let timedOut = false;
    // The verdict is taken at the deadline even if a probe ignores the abort, so health never waits on a hung
    // probe; the next probe still waits for it to settle, so probes never overlap.
    const deadline = this.clock.setTimeout(() => {
      timedOut = true;
      abort.abort();
      this.record(s, { ok: false, detail: `no answer within ${this.opts.timeoutMs} ms` });
    }, this.opts.timeoutMs);
    deadline.unref?.();
    let result: ProbeResult;
    try {
      result = await this.probe(s.target, abort.signal);
    } catch (err) {
      result = { ok: false, detail: errorMessage(err) };
    }
    this.clock.clearTimeout(deadline);
    s.inFlight = undefined;
    if (!this.current(s)) return;
    if (!timedOut) this.record(s, result);
    const wait = Math.max(0, startedAt + this.opts.intervalMs - this.clock.now());
    s.next = this.clock.setTimeout(() => void this.run(s), wait);
    s.next.unref?.();
  }

  private record(s: TargetState, result: ProbeResult): void {
    if (!this.current(s)) return;
    if (result.ok) {
      s.failures = 0;
      s.successes++;
      if (s.healthy === undefined) s.healthy = true;
      else if (!s.healthy && s.successes >= this.successThreshold) this.flip(s, true, result.detail);
      return;
    }
    s.successes = 0;
    s.failures++;
    this.opts.logger.debug({ target: s.key, detail: result.detail, failures: s.failures }, "health probe failed");
    if (s.healthy !== false && s.failures >= this.failureThreshold) this.flip(s, false, result.detail);
  }

  private flip(s: TargetState, healthy: boolean, detail: string): void {
    s.healthy = healthy;
    const fields = { target: s.key, detail };
    if (healthy) this.opts.logger.info(fields, "backend healthy again");
    else this.opts.logger.warn(fields, "backend unhealthy");
    this.changes.notify();
  }

  private current(s: TargetState): boolean {
    return !this.stopped && this.targets.get(s.key) === s;
  }

  private cancel(s: TargetState): void {
    if (s.next) this.clock.clearTimeout(s.next);
    s.next = undefined;
    s.inFlight?.abort();
  }
}
