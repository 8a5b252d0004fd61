/**
 * Logs a recurring problem (a peer unreachable, garbage on the port) at most once per `periodMs` per key, with
 * the number of occurrences suppressed since the last line. A heartbeat path runs ten times a second per peer;
 * logging every failure would flood the node's log while the peer is down.
 */
import type { Logger } from "pino";
import type { Clock } from "../../src/runtime/index.js";

export class RateLimitedLog {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly logger: Logger,
    private readonly clock: Clock,
    private readonly periodMs: number,
  ) {}

  warn(key: string, fields: Record<string, unknown>, message: string): void {
    const now = this.clock.now();
    const entry = this.last.get(key);
    if (entry && now - entry.at < this.periodMs) {
      entry.suppressed++;
      return;
    }
    this.logger.warn({ ...fields, ...(entry?.suppressed ? { suppressed: entry.suppressed } : {}) }, message);
    this.last.set(key, { at: now, suppressed: 0 });
  }

  /** Forgets a key (a peer removed), so the map does not grow with churn. */
  forget(keyPrefix: string): void {
    for (const key of this.last.keys()) if (key.startsWith(keyPrefix)) this.last.delete(key);
  }
}
