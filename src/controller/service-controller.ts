import type { V1EndpointSlice, V1Node, V1Service } from "@kubernetes/client-node";
import type { Logger } from "pino";
import type { ControllerMetrics } from "../metrics.js";
import { nodeChangeMatters } from "../model/node-eligibility.js";
import { existingLoadBalancer } from "../model/existing-load-balancer.js";
import {
  type ClassOptions,
  needsCleanup,
  needsUpdate,
  usesEndpoints,
  wantsLoadBalancer,
} from "../model/service-predicates.js";
import type { ExistingLoadBalancer, LoadBalancerProvider } from "../provider.js";
import type { Cache, CacheFactory } from "../runtime/cache.js";
import type { Clock, TimerHandle } from "../util/clock.js";
import { objectKey } from "../kube/informer.js";
import type { EventRecorder } from "../kube/event-recorder.js";
import type { ServiceWriter } from "../kube/service-writer.js";
import { EndpointSliceIndex } from "./endpoint-slice-index.js";
import type { ResyncHub } from "./resync-hub.js";
import { ServiceReconciler } from "./reconciler.js";
import { WorkQueue } from "./work-queue.js";

export interface ServiceControllerOptions {
  caches: CacheFactory;
  writer: ServiceWriter;
  events: EventRecorder;
  provider: LoadBalancerProvider;
  metrics: ControllerMetrics;
  logger: Logger;
  clock: Clock;
  clusterId: string;
  classOptions: ClassOptions;
  workers: number;
  /** Every Service is re-ensured this often even if nothing changed (upstream has no such repair). */
  driftPeriodMs: number;
  /** Called once the caches are synced and the provider restored, before the first reconcile. */
  onSynced?: () => void;
  /** Where the provider asks for every Service to be reconciled again. */
  resync?: ResyncHub;
  /** See ReconcilerDeps.progressEventDelayMs (default 1 s). */
  progressEventDelayMs?: number;
}

/**
 * Watches Services, EndpointSlices and Nodes, and feeds a keyed work queue whose worker is the
 * ServiceReconciler. The caches are only caches: every decision is taken in the reconcile from current state.
 */
export class ServiceController {
  private readonly queue: WorkQueue;
  private readonly reconciler: ServiceReconciler;
  private readonly slices = new EndpointSliceIndex();
  private readonly serviceCache: Cache<V1Service>;
  private readonly sliceCache: Cache<V1EndpointSlice>;
  private readonly nodeCache: Cache<V1Node>;
  private driftTimer: TimerHandle | undefined;
  private stopping: Promise<void> | undefined;
  private synced = false;

  constructor(private readonly options: ServiceControllerOptions) {
    this.queue = new WorkQueue({
      clock: options.clock,
      onVerdict: (key, verdict, nextDelayMs) => {
        options.metrics.reconcileTotal.inc({ verdict: verdict.kind });
        if (verdict.kind === "backoff" || verdict.kind === "retryAfter") {
          options.logger.warn({ key, err: verdict.cause, retryInMs: nextDelayMs }, "reconcile failed; will retry");
        }
      },
    });
    this.serviceCache = options.caches.services({
      onAdd: (svc) => this.onServiceAdd(svc),
      onUpdate: (oldSvc, newSvc) => this.onServiceUpdate(oldSvc, newSvc),
      onDelete: (svc) => this.queue.add(objectKey(svc)),
    });
    this.sliceCache = options.caches.endpointSlices({
      onAdd: (slice) => this.onSliceChange(this.slices.upsert(slice)),
      onUpdate: (oldSlice, slice) => {
        // A relabelled slice must leave its old Service's backends, and both Services need a reconcile.
        const oldKey = this.slices.remove(oldSlice);
        const newKey = this.slices.upsert(slice);
        if (oldKey !== newKey) this.onSliceChange(oldKey);
        this.onSliceChange(newKey);
      },
      onDelete: (slice) => this.onSliceChange(this.slices.remove(slice)),
    });
    this.nodeCache = options.caches.nodes({
      onAdd: () => this.enqueueNodePortServices(),
      onUpdate: (oldNode, newNode) => {
        if (nodeChangeMatters(oldNode, newNode)) this.enqueueNodePortServices();
      },
      onDelete: () => this.enqueueNodePortServices(),
    });
    this.reconciler = new ServiceReconciler({
      view: {
        service: (namespace, name) => this.serviceCache.get(name, namespace),
        endpointSlices: (namespace, name) => this.slices.forService(namespace, name),
        nodes: () => this.nodeCache.list(),
      },
      writer: options.writer,
      events: options.events,
      provider: options.provider,
      metrics: options.metrics,
      logger: options.logger,
      clusterId: options.clusterId,
      classOptions: options.classOptions,
      clock: options.clock,
      progressEventDelayMs: options.progressEventDelayMs,
    });
  }

  get hasSynced(): boolean {
    return this.synced;
  }

  /**
   * Syncs the caches, lets the provider rebuild its state from the Services it already serves, then runs
   * the workers until `signal` aborts. Resolves after in-flight reconciles have finished.
   */
  async run(signal: AbortSignal): Promise<void> {
    const log = this.options.logger;
    const depth = setInterval(() => this.options.metrics.queueDepth.set(this.queue.length), 5_000);
    depth.unref();
    // A first list can wait for an apiserver that is away; stopping the caches ends that wait on shutdown.
    const onAbort = (): void => void this.stopCaches();
    let disconnect: (() => void) | undefined;
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      try {
        await Promise.all([this.serviceCache.start(), this.sliceCache.start(), this.nodeCache.start()]);
      } catch (err) {
        if (signal.aborted) return;
        throw err;
      }
      if (signal.aborted) return;
      const existing = this.existingLoadBalancers();
      await this.options.provider.restore?.(existing);
      this.synced = true;
      this.options.onSynced?.();
      log.info(
        { services: this.serviceCache.list().length, restored: existing.length },
        "caches synced; starting workers",
      );
      for (const svc of this.serviceCache.list()) this.onServiceAdd(svc);
      this.armDriftRepair();
      disconnect = this.options.resync?.connect(() => this.reprocessAll());
      await this.queue.run(
        this.options.workers,
        async (key, workerSignal) => {
          const end = this.options.metrics.reconcileSeconds.startTimer({ provider: this.options.provider.name });
          // A throw is a backoff to the queue (work-queue.ts), so it is timed as one.
          let verdict = "backoff";
          try {
            const result = await this.reconciler.reconcile(key, workerSignal);
            verdict = result.kind;
            return result;
          } finally {
            end({ verdict });
          }
        },
        signal,
      );
    } finally {
      disconnect?.();
      signal.removeEventListener("abort", onAbort);
      clearInterval(depth);
      if (this.driftTimer) this.options.clock.clearTimeout(this.driftTimer);
      await this.stopCaches();
    }
  }

  private stopCaches(): Promise<void> {
    this.stopping ??= Promise.all([this.serviceCache.stop(), this.sliceCache.stop(), this.nodeCache.stop()]).then(
      () => undefined,
    );
    return this.stopping;
  }

  private relevant(svc: V1Service): boolean {
    return wantsLoadBalancer(svc, this.options.classOptions) || needsCleanup(svc, this.options.classOptions);
  }

  private onServiceAdd(svc: V1Service): void {
    if (this.relevant(svc)) this.queue.add(objectKey(svc));
  }

  private onServiceUpdate(oldSvc: V1Service, newSvc: V1Service): void {
    // upstream: enqueue if needsUpdate(old, new) || needsCleanup(new). Our own status patches change
    // neither, so they do not loop back into a reconcile.
    if (!this.relevant(newSvc) && !this.relevant(oldSvc)) return;
    if (needsUpdate(oldSvc, newSvc, this.options.classOptions) || needsCleanup(newSvc, this.options.classOptions)) {
      this.queue.add(objectKey(newSvc));
    }
  }

  private onSliceChange(serviceKey: string | undefined): void {
    if (!serviceKey || !this.synced) return;
    const [namespace, name] = serviceKey.split("/") as [string, string];
    const svc = this.serviceCache.get(name, namespace);
    if (svc && wantsLoadBalancer(svc, this.options.classOptions) && usesEndpoints(svc)) this.queue.add(serviceKey);
  }

  private enqueueNodePortServices(): void {
    if (!this.synced) return;
    for (const svc of this.serviceCache.list()) {
      if (wantsLoadBalancer(svc, this.options.classOptions) && svc.spec?.allocateLoadBalancerNodePorts !== false) {
        this.queue.add(objectKey(svc));
      }
    }
  }

  /** Every relevant Service through the provider again, changed or not (drift repair, a provider's request). */
  private reprocessAll(): void {
    for (const svc of this.serviceCache.list()) {
      if (!this.relevant(svc)) continue;
      const key = objectKey(svc);
      this.reconciler.force(key);
      this.queue.add(key);
    }
  }

  private armDriftRepair(): void {
    this.driftTimer = this.options.clock.setTimeout(() => {
      this.reprocessAll();
      this.armDriftRepair();
    }, this.options.driftPeriodMs);
    this.driftTimer.unref?.();
  }

  private existingLoadBalancers(): ExistingLoadBalancer[] {
    const out: ExistingLoadBalancer[] = [];
    for (const svc of this.serviceCache.list()) {
      const existing = existingLoadBalancer(svc, this.options.clusterId, this.options.classOptions);
      if (existing) out.push(existing);
    }
    return out;
  }
}
