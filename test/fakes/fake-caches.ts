import type { KubernetesObject, V1EndpointSlice, V1Node, V1Service } from "@kubernetes/client-node";
import type { Cache, CacheFactory, CacheHandlers } from "../../src/runtime/index.js";

function keyOf(obj: KubernetesObject): string {
  const ns = obj.metadata?.namespace;
  const name = obj.metadata?.name ?? "";
  return ns ? `${ns}/${name}` : name;
}

/**
 * An in-memory informer cache. Objects seeded before `start()` are delivered as adds by `start()` (an informer's
 * first list); after that, `upsert`/`remove` change the cache and fire the handlers synchronously, as a watch event
 * would. Stored objects are the caller's: tests replace them (structuredClone + edit + upsert) rather than mutate.
 */
export class FakeCache<T extends KubernetesObject> implements Cache<T> {
  handlers: CacheHandlers<T> = {};
  private readonly items = new Map<string, T>();
  private started = false;
  startCalls = 0;
  stopCalls = 0;

  constructor(initial: readonly T[] = []) {
    for (const obj of initial) this.items.set(keyOf(obj), obj);
  }

  get isRunning(): boolean {
    return this.started;
  }

  /** Puts an object in the cache without firing handlers (before start: part of the first list). */
  seed(obj: T): void {
    this.items.set(keyOf(obj), obj);
  }

  async start(): Promise<void> {
    this.startCalls++;
    this.started = true;
    for (const obj of [...this.items.values()]) this.handlers.onAdd?.(obj);
  }

  async stop(): Promise<void> {
    this.stopCalls++;
    this.started = false;
  }

  get(name: string, namespace?: string): T | undefined {
    return this.items.get(namespace ? `${namespace}/${name}` : name);
  }

  list(namespace?: string): readonly T[] {
    const all = [...this.items.values()];
    return namespace === undefined ? all : all.filter((o) => o.metadata?.namespace === namespace);
  }

  /** Adds or replaces `obj`; fires onAdd or onUpdate(old, new) once started. */
  upsert(obj: T): void {
    const key = keyOf(obj);
    const old = this.items.get(key);
    this.items.set(key, obj);
    if (!this.started) return;
    if (old) this.handlers.onUpdate?.(old, obj);
    else this.handlers.onAdd?.(obj);
  }

  /** Replaces the stored object by an edited deep copy of it; returns the new object. */
  edit(name: string, namespace: string | undefined, change: (obj: T) => void): T {
    const current = this.get(name, namespace);
    if (!current) throw new Error(`fake cache: no ${namespace ? `${namespace}/` : ""}${name}`);
    const next = structuredClone(current);
    change(next);
    this.upsert(next);
    return next;
  }

  /** Removes the object with `obj`'s key; fires onDelete with the last stored version once started. */
  remove(obj: T): void {
    const key = keyOf(obj);
    const old = this.items.get(key);
    if (!old) return;
    this.items.delete(key);
    if (this.started) this.handlers.onDelete?.(old);
  }
}

/** A CacheFactory whose three caches tests can seed before `run()` and drive afterwards. */
export class FakeCacheFactory implements CacheFactory {
  readonly serviceCache = new FakeCache<V1Service>();
  readonly sliceCache = new FakeCache<V1EndpointSlice>();
  readonly nodeCache = new FakeCache<V1Node>();

  services(handlers: CacheHandlers<V1Service>): Cache<V1Service> {
    this.serviceCache.handlers = handlers;
    return this.serviceCache;
  }

  endpointSlices(handlers: CacheHandlers<V1EndpointSlice>): Cache<V1EndpointSlice> {
    this.sliceCache.handlers = handlers;
    return this.sliceCache;
  }

  nodes(handlers: CacheHandlers<V1Node>): Cache<V1Node> {
    this.nodeCache.handlers = handlers;
    return this.nodeCache;
  }

  get all(): readonly FakeCache<KubernetesObject>[] {
    return [this.serviceCache, this.sliceCache, this.nodeCache];
  }
}
