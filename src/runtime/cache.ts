import type { V1EndpointSlice, V1Node, V1Service } from "@kubernetes/client-node";

/**
 * The narrow ports between a program and the Kubernetes objects it watches (MetalLB's controller/speaker split
 * keeps the same seam): the controller and the speaker depend on these, never on an informer implementation.
 */

/** A started cache of one resource. ResilientInformer implements it; so can a test double. */
export interface Cache<T> {
  start(): Promise<void>;
  stop(): Promise<void>;
  get(name: string, namespace?: string): T | undefined;
  list(namespace?: string): readonly T[];
}

/** Called from the cache's event loop turn; a handler must not throw and should only enqueue work. */
export interface CacheHandlers<T> {
  onAdd?(obj: T): void;
  /** Unlike client-node's informer, handlers get the previous object too, so callers can diff. */
  onUpdate?(oldObj: T, newObj: T): void;
  onDelete?(obj: T): void;
}

/** Builds the three caches with the caller's handlers attached. */
export interface CacheFactory {
  services(handlers: CacheHandlers<V1Service>): Cache<V1Service>;
  endpointSlices(handlers: CacheHandlers<V1EndpointSlice>): Cache<V1EndpointSlice>;
  nodes(handlers: CacheHandlers<V1Node>): Cache<V1Node>;
}
