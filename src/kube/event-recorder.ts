import { type CoreV1Api, type CoreV1Event, PatchStrategy, type V1Service } from "@kubernetes/client-node";
import type { Logger } from "pino";
import type { Clock } from "../util/clock.js";
import { kubeApiError } from "./api-error.js";
import { callOptions } from "./request-options.js";

export type EventType = "Normal" | "Warning";

/** Records Events about a Service. Fire-and-forget: recording must never block or fail a reconcile. */
export interface EventRecorder {
  record(svc: V1Service, type: EventType, reason: string, message: string): void;
}

export interface KubeEventRecorderOptions {
  core: CoreV1Api;
  clock: Clock;
  logger: Logger;
  /** `source.component` and `reportingComponent`; upstream uses "service-controller". */
  component: string;
  /** The pod or host we run as (`source.host`, `reportingInstance`). */
  instance: string;
  /** Writes in flight at once; events are low priority next to status writes. */
  concurrency?: number;
  /** Events waiting beyond this are dropped (counted in `dropped`), as client-go's broadcaster does. */
  maxQueued?: number;
  /** A repeat of the same event within this window bumps `count` instead of creating a new one. */
  aggregateWindowMs?: number;
}

interface Seen {
  name: string;
  namespace: string;
  count: number;
  at: number;
}

/**
 * Writes core/v1 Events, asynchronously and with repeats aggregated into `count` (client-go's
 * EventCorrelator does the same), so a Service stuck in a failing state does not flood etcd.
 */
export class KubeEventRecorder implements EventRecorder {
  private readonly pending: (() => Promise<void>)[] = [];
  private readonly seen = new Map<string, Seen>();
  private inFlight = 0;
  private seq = 0;
  dropped = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly options: KubeEventRecorderOptions) {}

  record(svc: V1Service, type: EventType, reason: string, message: string): void {
    if (this.pending.length >= (this.options.maxQueued ?? 5_000)) {
      this.dropped++;
      return;
    }
    this.pending.push(() => this.write(svc, type, reason, message));
    this.pump();
  }

  /** Resolves when every recorded event has been written (or failed). For tests and shutdown. */
  async flush(): Promise<void> {
    if (this.inFlight === 0 && this.pending.length === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
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
    const uid = svc.metadata?.uid ?? "";
    const key = `${uid}\u0000${type}\u0000${reason}\u0000${message}`;
    const now = this.options.clock.now();
    const previous = this.seen.get(key);
    const windowMs = this.options.aggregateWindowMs ?? 10 * 60_000;
    this.pruneSeen(now, windowMs);
    try {
      if (previous && now - previous.at < windowMs) {
        previous.count++;
        previous.at = now;
        await this.options.core.patchNamespacedEvent({
          name: previous.name,
          namespace: previous.namespace,
          body: { count: previous.count, lastTimestamp: new Date(now) },
        }, callOptions(undefined, PatchStrategy.MergePatch));
        return;
      }
      const name = `${svc.metadata?.name ?? "service"}.${now.toString(16)}${(++this.seq).toString(16)}`;
      await this.options.core.createNamespacedEvent(
        { namespace, body: this.newEvent(name, svc, { type, reason, message }, now) },
        callOptions(),
      );
      this.seen.set(key, { name, namespace, count: 1, at: now });
    } catch (err) {
      this.seen.delete(key);
      this.options.logger.warn({ err: kubeApiError("recording event", err), reason }, "could not record event");
    }
  }

  private newEvent(
    name: string,
    svc: V1Service,
    { type, reason, message }: { type: EventType; reason: string; message: string },
    now: number,
  ): CoreV1Event {
    return {
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
      message: message.slice(0, 1024),
      count: 1,
      firstTimestamp: new Date(now),
      lastTimestamp: new Date(now),
      source: { component: this.options.component, host: this.options.instance },
      reportingComponent: this.options.component,
      reportingInstance: this.options.instance,
    };
  }

  private pruneSeen(now: number, windowMs: number): void {
    if (this.seen.size < 10_000) return;
    for (const [key, entry] of this.seen) if (now - entry.at >= windowMs) this.seen.delete(key);
  }
}
