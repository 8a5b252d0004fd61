import type { KubernetesListObject, KubernetesObject } from "@kubernetes/client-node";
import type { Logger } from "pino";
import type { CacheHandlers } from "../runtime/cache.js";
import { type Clock, type TimerHandle, sleep } from "../util/clock.js";
import type { KubeConfigData } from "./kube-config-loader.js";
import { KubeRest } from "./kube-rest.js";
import {
  HttpWatchTransport,
  WatchExpiredError,
  type WatchEventType,
  WatchInactiveError,
  type WatchTransport,
} from "./watch-stream.js";

export interface InformerOptions<T extends KubernetesObject> {
  /** For logs and metrics: "services", "endpointslices", "nodes". */
  resource: string;
  kubeConfig: KubeConfigData;
  /** The watch path, e.g. /api/v1/services. */
  path: string;
  /** The list call, with a deadline of its own. Default: GET `path` with a 60 s deadline. */
  list?: () => Promise<KubernetesListObject<T>>;
  handlers: CacheHandlers<T>;
  logger: Logger;
  clock: Clock;
  /** Restart the whole list+watch when nothing (no event, no reconnect) happened for this long. */
  watchdogMs?: number;
  /** A watch that sends nothing for this long is aborted and resumed from its resourceVersion. */
  watchInactivityMs?: number;
  onRestart?: (reason: string) => void;
  /** The watch transport; tests pass a scripted one. Default: HttpWatchTransport on `kubeConfig`. */
  watch?: WatchTransport;
}

const LIST_TIMEOUT_MS = 60_000;
const RESTART_BASE_MS = 1_000;
const RESTART_MAX_MS = 15_000;

/**
 * A cache of one resource kept current by list, then watch from the list's resourceVersion, the reflector
 * loop of client-go (tools/cache/reflector.go) as ../shared/reference/upstream.md section 5 describes it:
 * a watch the server ends is resumed from the last resourceVersion seen; a failed one is resumed after a
 * backoff; 410 Gone lists again, and objects missing from the new list are reported deleted; a watchdog
 * lists again when nothing happened for its period (a watch gone silent without an error,
 * kubernetes-client/javascript#364, #596, #958). Relists re-emit adds/updates, so handlers must be
 * idempotent (ours only enqueue keys).
 */
export class ResilientInformer<T extends KubernetesObject> {
  private readonly transport: WatchTransport;
  private readonly listAll: () => Promise<KubernetesListObject<T>>;
  private readonly store = new Map<string, T>();
  private resourceVersion = "";
  private synced = false;
  private stopper = new AbortController();
  /** Aborts the watch in flight; the watchdog uses it to force a relist. */
  private current: AbortController | undefined;
  private needList = true;
  private restartDelayMs = 0;
  private watchdogTimer: TimerHandle | undefined;
  private lastActivity = 0;

  constructor(private readonly options: InformerOptions<T>) {
    this.transport = options.watch ?? new HttpWatchTransport(options.kubeConfig, options.watchInactivityMs);
    this.listAll = options.list ?? listPath<T>(new KubeRest(options.kubeConfig, LIST_TIMEOUT_MS), options.path);
  }

  get hasSynced(): boolean {
    return this.synced;
  }

  /** Lists, starts watching, and resolves once the cache holds the first list; a failing list is retried with backoff. */
  async start(): Promise<void> {
    this.stopper = new AbortController();
    this.needList = true;
    this.restartDelayMs = 0;
    const firstList = Promise.withResolvers<void>();
    void this.run(firstList);
    await firstList.promise;
    this.synced = true;
    this.armWatchdog();
  }

  stop(): Promise<void> {
    this.stopper.abort(new Error(`informer for ${this.options.resource} stopped`));
    this.current?.abort(this.stopper.signal.reason);
    if (this.watchdogTimer) this.options.clock.clearTimeout(this.watchdogTimer);
    this.watchdogTimer = undefined;
    // A list in flight is not awaited (it has its own deadline): a stopped informer delivers nothing more.
    return Promise.resolve();
  }

  get(name: string, namespace?: string): T | undefined {
    return this.store.get(namespace ? `${namespace}/${name}` : name);
  }

  list(namespace?: string): readonly T[] {
    const all = [...this.store.values()];
    return namespace === undefined ? all : all.filter((o) => o.metadata?.namespace === namespace);
  }

  /** The reflector loop: list when needed, watch, and on failure back off; until stopped. */
  private async run(firstList: PromiseWithResolvers<void>): Promise<void> {
    const stopped = this.stopper.signal;
    stopped.addEventListener("abort", () => firstList.reject(stopped.reason), { once: true });
    firstList.promise.catch(() => undefined);
    while (!stopped.aborted) {
      try {
        if (this.needList) {
          await this.relist();
          firstList.resolve();
        }
        this.current = new AbortController();
        this.touch();
        const openedAt = this.options.clock.now();
        await this.transport.watch(
          this.options.path,
          this.resourceVersion,
          (type, obj) => this.handleEvent(type, obj as T),
          this.current.signal,
        );
        // The server ended the watch (its timeout): resume at once, unless it ends them as fast as we open them.
        if (this.options.clock.now() - openedAt < RESTART_BASE_MS) {
          await sleep(this.options.clock, RESTART_BASE_MS, stopped).catch(() => undefined);
        }
      } catch (err) {
        if (stopped.aborted) return;
        if (err instanceof WatchExpiredError) {
          // client-go's reflector logs the same at info: routine after a long disconnection, a sign of trouble often.
          this.options.logger.info(
            { resource: this.options.resource, err: err.message },
            "watch expired; listing again",
          );
          this.needList = true;
          this.options.onRestart?.("expired");
          continue;
        }
        if (this.current?.signal.aborted && this.needList) continue; // the watchdog's own abort
        // A quiet resource (no event, no bookmark) looks like a dead connection to the transport; either way the
        // next watch resumes from the same resourceVersion, at once (client-node's Watch did the same, silently).
        if (err instanceof WatchInactiveError) continue;
        await this.backOff(err);
      }
    }
  }

  private async relist(): Promise<void> {
    const list = await this.listAll();
    if (this.stopper.signal.aborted) return;
    this.touch();
    this.needList = false;
    this.restartDelayMs = 0;
    // Vanished objects first, as client-node's ListWatch did: a freed name or address is free before its reuse.
    const listed = new Set(list.items.map(objectKey));
    for (const [key, old] of this.store) {
      if (listed.has(key)) continue;
      this.store.delete(key);
      this.options.handlers.onDelete?.(old);
    }
    for (const obj of list.items) this.upsert(obj);
    this.resourceVersion = list.metadata?.resourceVersion ?? "";
  }

  private async backOff(err: unknown): Promise<void> {
    this.restartDelayMs = Math.min(Math.max(this.restartDelayMs * 2, RESTART_BASE_MS), RESTART_MAX_MS);
    const { logger, resource, clock, onRestart } = this.options;
    logger.warn({ err, resource, retryInMs: this.restartDelayMs }, "watch failed; restarting");
    await sleep(clock, this.restartDelayMs, this.stopper.signal).catch(() => undefined);
    if (!this.stopper.signal.aborted) onRestart?.(`error: ${err instanceof Error ? err.message : String(err)}`);
  }

  private handleEvent(type: WatchEventType, obj: T): void {
    if (this.stopper.signal.aborted) return;
    this.touch();
    this.restartDelayMs = 0;
    const version = obj.metadata?.resourceVersion;
    if (version) this.resourceVersion = version;
    if (type === "ADDED" || type === "MODIFIED") this.upsert(obj);
    else if (type === "DELETED") this.remove(obj);
  }

  private upsert(obj: T): void {
    // client-go's informer transform (cache.TransformStripManagedFields): managedFields are a large share of
    // every cached object and nothing here reads them.
    if (obj.metadata?.managedFields) delete obj.metadata.managedFields;
    const key = objectKey(obj);
    const old = this.store.get(key);
    this.store.set(key, obj);
    // A relist returns unchanged objects too; they are no news (client-node's ListWatch skipped them as well).
    if (old && old.metadata?.resourceVersion === obj.metadata?.resourceVersion) return;
    if (old) this.options.handlers.onUpdate?.(old, obj);
    else this.options.handlers.onAdd?.(obj);
  }

  private remove(obj: T): void {
    const key = objectKey(obj);
    const old = this.store.get(key) ?? obj;
    this.store.delete(key);
    this.options.handlers.onDelete?.(old);
  }

  private touch(): void {
    this.lastActivity = this.options.clock.now();
  }

  private armWatchdog(): void {
    const periodMs = this.options.watchdogMs ?? 5 * 60_000;
    this.watchdogTimer = this.options.clock.setTimeout(() => {
      if (this.stopper.signal.aborted) return;
      const quietMs = this.options.clock.now() - this.lastActivity;
      if (quietMs >= periodMs) {
        this.options.logger.warn({ resource: this.options.resource, quietMs }, "watch silent; restarting");
        this.options.onRestart?.("watchdog");
        this.needList = true;
        this.current?.abort(new Error("watchdog"));
      }
      this.armWatchdog();
    }, periodMs);
    this.watchdogTimer.unref?.();
  }
}

function listPath<T extends KubernetesObject>(rest: KubeRest, path: string): () => Promise<KubernetesListObject<T>> {
  return () => rest.get<KubernetesListObject<T>>(path);
}

export function objectKey(obj: KubernetesObject): string {
  const ns = obj.metadata?.namespace;
  const name = obj.metadata?.name ?? "";
  return ns ? `${ns}/${name}` : name;
}
