import type { Clock, TimerHandle } from "../util/clock.js";
import type { SyncVerdict } from "./sync-verdict.js";

export interface WorkQueueOptions {
  clock: Clock;
  /** First backoff delay after a failure (upstream minRetryDelay: 5 s). */
  baseDelayMs?: number;
  /** Backoff ceiling (upstream maxRetryDelay: 300 s). */
  maxDelayMs?: number;
  onVerdict?: (key: string, verdict: SyncVerdict, nextDelayMs: number | undefined) => void;
}

export type SyncHandler = (key: string, signal: AbortSignal) => Promise<SyncVerdict>;

/**
 * A keyed work queue with client-go's guarantees: a key is queued at most once, a key is never processed by
 * two workers at once (a key added while it is being processed runs again afterwards), and failures back
 * off per key. The verdict returned by the handler, not the queue, decides whether and when to retry.
 */
export class WorkQueue {
  private readonly queue: string[] = [];
  private head = 0;
  private readonly queued = new Set<string>();
  private readonly processing = new Set<string>();
  /** Keys added while processing: they go back in the queue when their worker finishes. */
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly delayed = new Map<string, { at: number; handle: TimerHandle }>();
  private readonly waiters: (() => void)[] = [];
  private shuttingDown = false;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;

  constructor(private readonly options: WorkQueueOptions) {
    this.baseDelayMs = options.baseDelayMs ?? 5_000;
    this.maxDelayMs = options.maxDelayMs ?? 300_000;
  }

  get length(): number {
    return this.queue.length - this.head;
  }

  /** Keys waiting for a delayed retry. */
  get waiting(): number {
    return this.delayed.size;
  }

  add(key: string): void {
    if (this.shuttingDown) return;
    this.cancelDelayed(key);
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.queue.push(key);
    this.waiters.shift()?.();
  }

  /** Adds `key` after `delayMs`; an earlier pending add wins over a later one. */
  addAfter(key: string, delayMs: number): void {
    if (this.shuttingDown) return;
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    const at = this.options.clock.now() + delayMs;
    const pending = this.delayed.get(key);
    if (pending && pending.at <= at) return;
    if (pending) this.options.clock.clearTimeout(pending.handle);
    const handle = this.options.clock.setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, delayMs);
    handle.unref?.();
    this.delayed.set(key, { at, handle });
  }

  /** Next backoff delay for `key`: base * 2^failures, capped. */
  backoffDelay(key: string): number {
    const n = this.failures.get(key) ?? 0;
    return Math.min(this.baseDelayMs * 2 ** n, this.maxDelayMs);
  }

  failureCount(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** Runs `workers` loops until `signal` aborts; resolves when all in-flight work has finished. */
  async run(workers: number, handler: SyncHandler, signal: AbortSignal): Promise<void> {
    const stop = (): void => this.shutDown();
    signal.addEventListener("abort", stop, { once: true });
    const loops = Array.from({ length: Math.max(1, workers) }, () => this.worker(handler, signal));
    await Promise.all(loops);
    signal.removeEventListener("abort", stop);
  }

  shutDown(): void {
    this.shuttingDown = true;
    for (const { handle } of this.delayed.values()) this.options.clock.clearTimeout(handle);
    this.delayed.clear();
    for (const wake of this.waiters.splice(0)) wake();
  }

  private async worker(handler: SyncHandler, signal: AbortSignal): Promise<void> {
    for (;;) {
      const key = await this.next();
      if (key === undefined) return;
      let verdict: SyncVerdict;
      try {
        verdict = await handler(key, signal);
      } catch (err) {
        verdict = { kind: "backoff", cause: err };
      }
      this.done(key, verdict);
    }
  }

  private async next(): Promise<string | undefined> {
    while (this.length === 0) {
      if (this.shuttingDown) return undefined;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    if (this.shuttingDown) return undefined;
    const key = this.queue[this.head] as string;
    this.head++;
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    this.queued.delete(key);
    this.processing.add(key);
    return key;
  }

  private done(key: string, verdict: SyncVerdict): void {
    this.processing.delete(key);
    let nextDelayMs: number | undefined;
    switch (verdict.kind) {
      case "success":
      case "noRetry":
        this.failures.delete(key);
        break;
      case "retryAfter":
        this.failures.delete(key);
        nextDelayMs = verdict.delayMs;
        break;
      case "backoff":
        nextDelayMs = this.backoffDelay(key);
        this.failures.set(key, (this.failures.get(key) ?? 0) + 1);
        break;
    }
    this.options.onVerdict?.(key, verdict, nextDelayMs);
    if (this.dirty.delete(key)) {
      // A change arrived while we worked: it is newer than any retry, so process it now.
      this.add(key);
    } else if (nextDelayMs !== undefined) {
      this.addAfter(key, nextDelayMs);
    }
  }

  private cancelDelayed(key: string): void {
    const pending = this.delayed.get(key);
    if (!pending) return;
    this.options.clock.clearTimeout(pending.handle);
    this.delayed.delete(key);
  }
}
