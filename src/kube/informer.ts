import {
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  ListWatch,
  Watch,
} from "@kubernetes/client-node";
import type { Logger } from "pino";
import type { CacheHandlers } from "../runtime/cache.js";
import type { Clock, TimerHandle } from "../util/clock.js";

export interface InformerOptions<T extends KubernetesObject> {
  /** For logs and metrics: "services", "endpointslices", "nodes". */
  resource: string;
  kubeConfig: KubeConfig;
  /** The watch path, e.g. /api/v1/services. */
  path: string;
  /** The list call; it must carry its own deadline (callOptions), which also frees a hung connection. */
  list: () => Promise<KubernetesListObject<T>>;
  handlers: CacheHandlers<T>;
  logger: Logger;
  clock: Clock;
  /** Restart the whole list+watch when nothing (no event, no reconnect) happened for this long. */
  watchdogMs?: number;
  /** A watch that sends nothing for this long is aborted and resumed from its resourceVersion. */
  watchInactivityMs?: number;
  onRestart?: (reason: string) => void;
  /** The watch transport; tests pass a scripted one. Default: client-node's Watch on `kubeConfig`. */
  watch?: Watch;
}

const RESTART_BASE_MS = 1_000;
const RESTART_MAX_MS = 15_000;

/**
 * A cache of one resource kept current by client-node's ListWatch, made resilient the way
 * ../shared/reference/upstream.md section 5 recommends: ListWatch relists on 410 Gone and resumes after its
 * inactivity timeout by itself, but stops for good on any other error, so we restart it with backoff; a
 * watchdog restarts a watch that went silent without an error (kubernetes-client/javascript#364, #596, #958).
 * Relists re-emit adds/updates, so handlers must be idempotent (ours only enqueue keys).
 */
export class ResilientInformer<T extends KubernetesObject> {
  private readonly listWatch: ListWatch<T>;
  /** Our own last-seen copy, because ListWatch's update callback has no old object. */
  private readonly lastSeen = new Map<string, T>();
  private synced = false;
  private stopped = true;
  private restartDelayMs = 0;
  private restartTimer: TimerHandle | undefined;
  private watchdogTimer: TimerHandle | undefined;
  private lastActivity = 0;
  private starting: Promise<void> | undefined;
  private firstList: PromiseWithResolvers<void> = Promise.withResolvers<void>();

  constructor(private readonly options: InformerOptions<T>) {
    const watch = options.watch ?? new Watch(options.kubeConfig);
    if (options.watchInactivityMs !== undefined) {
      // client-node keeps the inactivity timeout in a private field with a fixed 30 s default
      // (kubernetes-client/javascript#3022); tests shorten it to exercise the silent-watch path quickly.
      Object.assign(watch, { requestTimeoutMs: options.watchInactivityMs });
    }
    this.listWatch = new ListWatch<T>(options.path, watch, () => this.listed(), false);
    this.listWatch.on("add", (obj) => this.handleUpsert(obj));
    this.listWatch.on("update", (obj) => this.handleUpsert(obj));
    this.listWatch.on("delete", (obj) => this.handleDelete(obj));
    this.listWatch.on("connect", () => this.touch());
    this.listWatch.on("error", (err: unknown) => this.handleError(err));
  }

  get hasSynced(): boolean {
    return this.synced;
  }

  /**
   * Lists, starts watching, and resolves once the cache holds the first list. A failing first list is
   * retried with backoff (ListWatch swallows it into an `error` event), so this waits for the apiserver.
   */
  async start(): Promise<void> {
    this.stopped = false;
    this.restartDelayMs = 0;
    this.firstList = Promise.withResolvers<void>();
    await this.startListWatch();
    await this.firstList.promise;
    this.synced = true;
    this.armWatchdog();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.restartTimer) this.options.clock.clearTimeout(this.restartTimer);
    if (this.watchdogTimer) this.options.clock.clearTimeout(this.watchdogTimer);
    this.restartTimer = undefined;
    this.watchdogTimer = undefined;
    this.firstList.reject(new Error(`informer for ${this.options.resource} stopped before its first list`));
    this.firstList.promise.catch(() => undefined);
    await this.listWatch.stop();
  }

  get(name: string, namespace?: string): T | undefined {
    return this.listWatch.get(name, namespace);
  }

  list(namespace?: string): readonly T[] {
    return this.listWatch.list(namespace);
  }

  private async startListWatch(): Promise<void> {
    // Guard against a second start while one is in flight (kubernetes-client/javascript#1933).
    this.starting ??= this.listWatch.start().finally(() => {
      this.starting = undefined;
    });
    await this.starting;
    this.touch();
  }

  private async listed(): Promise<KubernetesListObject<T>> {
    const list = await this.options.list();
    this.touch();
    // ListWatch applies the list synchronously after awaiting this; setImmediate runs after that.
    setImmediate(() => this.firstList.resolve());
    return list;
  }

  private handleUpsert(obj: T): void {
    this.touch();
    // client-go's informer transform (cache.TransformStripManagedFields): managedFields are a large share of
    // every cached object and nothing here reads them. The object is the cache's own copy, so this frees it there.
    if (obj.metadata?.managedFields) delete obj.metadata.managedFields;
    this.restartDelayMs = 0;
    const key = objectKey(obj);
    const old = this.lastSeen.get(key);
    this.lastSeen.set(key, obj);
    if (old) this.options.handlers.onUpdate?.(old, obj);
    else this.options.handlers.onAdd?.(obj);
  }

  private handleDelete(obj: T): void {
    this.touch();
    const key = objectKey(obj);
    const old = this.lastSeen.get(key) ?? obj;
    this.lastSeen.delete(key);
    this.options.handlers.onDelete?.(old);
  }

  private handleError(err: unknown): void {
    if (this.stopped) return;
    this.restartDelayMs = Math.min(Math.max(this.restartDelayMs * 2, RESTART_BASE_MS), RESTART_MAX_MS);
    this.options.logger.warn(
      { err, resource: this.options.resource, retryInMs: this.restartDelayMs },
      "watch failed; restarting",
    );
    this.scheduleRestart(`error: ${err instanceof Error ? err.message : String(err)}`, this.restartDelayMs);
  }

  private scheduleRestart(reason: string, delayMs: number): void {
    if (this.restartTimer || this.stopped) return;
    this.restartTimer = this.options.clock.setTimeout(() => {
      this.restartTimer = undefined;
      if (this.stopped) return;
      this.options.onRestart?.(reason);
      void this.listWatch
        .stop()
        .then(() => this.startListWatch())
        .catch((err: unknown) => this.handleError(err));
    }, delayMs);
    this.restartTimer.unref?.();
  }

  private touch(): void {
    this.lastActivity = this.options.clock.now();
  }

  private armWatchdog(): void {
    const periodMs = this.options.watchdogMs ?? 5 * 60_000;
    this.watchdogTimer = this.options.clock.setTimeout(() => {
      if (this.stopped) return;
      const quietMs = this.options.clock.now() - this.lastActivity;
      if (quietMs >= periodMs) {
        this.options.logger.warn({ resource: this.options.resource, quietMs }, "watch silent; restarting");
        this.scheduleRestart("watchdog", 0);
      }
      this.armWatchdog();
    }, periodMs);
    this.watchdogTimer.unref?.();
  }
}

export function objectKey(obj: KubernetesObject): string {
  const ns = obj.metadata?.namespace;
  const name = obj.metadata?.name ?? "";
  return ns ? `${ns}/${name}` : name;
}
