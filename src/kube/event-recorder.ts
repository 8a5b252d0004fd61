import type { CoreV1Event, V1Service } from "@kubernetes/client-node";
import type { Logger } from "pino";
import type { Clock } from "../util/clock.js";
import { capBytes } from "../util/quote.js";
import type { KubeRest } from "./kube-rest.js";

export type EventType = "Normal" | "Warning";

/** Records Events about a Service. Fire-and-forget: recording must never block or fail a reconcile. */
export interface EventRecorder {
  record(svc: V1Service, type: EventType, reason: string, message: string): void;
}

export interface KubeEventRecorderOptions {
  rest: KubeRest;
  clock: Clock;
  logger: Logger;
  /** `source.component` and `reportingComponent`; upstream uses "service-controller". */
  component: string;
  /** The pod or host we run as (`source.host`, `reportingInstance`). */
  instance: string;
  /** Writes in flight at once; events are low priority next to status writes. */
  concurrency?: number;
  /** Events waiting beyond this are dropped and counted, as client-go's broadcaster drops on a full queue. */
  maxQueued?: number;
  /** A repeat of the same event within this window bumps `count` instead of creating a new one. */
  aggregateWindowMs?: number;
  /** Called for every dropped event (a metric). */
  onDropped?: () => void;
}

interface Seen {
  name: string;
  namespace: string;
  count: number;
  at: number;
}

/**
 * An Event's message is cut to this many UTF-8 bytes: the events.k8s.io note limit (k8s.io/kubernetes core validation
 * NoteLengthLimit), which core/v1 does not enforce but every reader of Events expects.
 */
export const MAX_EVENT_MESSAGE_BYTES = 1024;

/** Remembered events for aggregation, at most this many (the oldest go first). */
const MAX_SEEN = 20_000;
const DROP_LOG_INTERVAL_MS = 60_000;

/**
 * Writes core/v1 Events, asynchronously and with repeats aggregated into `count` (client-go's
 * EventCorrelator does the same), so a Service stuck in a failing state does not flood etcd.
 */
export class KubeEventRecorder implements EventRecorder {
  private readonly pending: (() => Promise<void>)[] = [];
  /** Kept in least-recently-used order (a repeat moves its entry to the end), so pruning is O(1) amortised. */
  private readonly seen = new Map<string, Seen>();
  private inFlight = 0;
  private seq = 0;
  private droppedSinceLog = 0;
  private lastDropLog = -Infinity;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly options: KubeEventRecorderOptions) {}

  record(svc: V1Service, type: EventType, reason: string, message: string): void {
    if (this.pending.length >= (this.options.maxQueued ?? 5_000)) {
      this.dropped();
      return;
    }
    // Cut here, before the message becomes part of the aggregation key: a huge message costs no more than a short one.
    const capped = capBytes(message, MAX_EVENT_MESSAGE_BYTES);
    this.pending.push(() => this.write(svc, type, reason, capped));
    this.pump();
  }

  /** Resolves when every recorded event has been written (or failed). For tests and shutdown. */
  async flush(): Promise<void> {
    if (this.inFlight === 0 && this.pending.length === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private dropped(): void {
    this.options.onDropped?.();
    this.droppedSinceLog++;
    const now = this.options.clock.now();
    if (now - this.lastDropLog >= DROP_LOG_INTERVAL_MS) {
      this.options.logger.warn({ dropped: this.droppedSinceLog }, "event queue full; dropping events");
      this.lastDropLog = now;
      this.droppedSinceLog = 0;
    }
  }

  private pump(): void {
    const limit = this.options.concurrency ?? 2;
    while (this.inFlight < limit && this.pending.length > 0) {
      const job = this.pending.shift()!;
      this.inFlight++;
      void job().finally(() => {
        this.inFlight--;
        this.pump();
        if (this.inFlight === 0 && this.pending.length === 0) {
          for (const wake of this.idleWaiters.splice(0)) wake();
        }
      });
    }
  }

  private async write(svc: V1Service, type: EventType, reason: string, message: string): Promise<void> {
    const namespace = svc.metadata?.namespace ?? "default";
    const key = `${svc.metadata?.uid ?? ""}\u0000${type}\u0000${reason}\u0000${message}`;
    const now = this.options.clock.now();
    const windowMs = this.options.aggregateWindowMs ?? 10 * 60_000;
    this.prune(now, windowMs);
    const previous = this.seen.get(key);
    const base = `/api/v1/namespaces/${encodeURIComponent(namespace)}/events`;
    try {
      if (previous) {
        previous.count++;
        previous.at = now;
        this.seen.delete(key);
        this.seen.set(key, previous);
        const body = { count: previous.count, lastTimestamp: new Date(now).toISOString() };
        await this.options.rest.patch(
          `${base}/${encodeURIComponent(previous.name)}`,
          body,
          "application/merge-patch+json",
        );
        return;
      }
      const name = `${svc.metadata?.name ?? "service"}.${now.toString(16)}${(++this.seq).toString(16)}`;
      await this.options.rest.post(base, this.newEvent(name, svc, { type, reason, message }, now));
      this.seen.set(key, { name, namespace, count: 1, at: now });
    } catch (err) {
      this.seen.delete(key);
      this.options.logger.warn({ err, reason }, "could not record event");
    }
  }

  private newEvent(
    name: string,
    svc: V1Service,
    { type, reason, message }: { type: EventType; reason: string; message: string },
    now: number,
  ): CoreV1Event {
    const timestamp = new Date(now); // JSON.stringify writes it as RFC 3339
    return {
      apiVersion: "v1",
      kind: "Event",
      metadata: { name, namespace: svc.metadata?.namespace ?? "default" },
      involvedObject: {
        apiVersion: "v1",
        kind: "Service",
        name: svc.metadata?.name,
        namespace: svc.metadata?.namespace,
        uid: svc.metadata?.uid,
        resourceVersion: svc.metadata?.resourceVersion,
      },
      type,
      reason,
      message,
      count: 1,
      firstTimestamp: timestamp,
      lastTimestamp: timestamp,
      source: { component: this.options.component, host: this.options.instance },
      reportingComponent: this.options.component,
      reportingInstance: this.options.instance,
    };
  }

  /** Drops remembered events older than the window, and the oldest beyond MAX_SEEN. */
  private prune(now: number, windowMs: number): void {
    for (const [key, entry] of this.seen) {
      if (now - entry.at < windowMs && this.seen.size <= MAX_SEEN) break;
      this.seen.delete(key);
    }
  }
}
