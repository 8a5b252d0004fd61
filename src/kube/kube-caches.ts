import type { KubernetesObject, V1EndpointSlice, V1Node, V1Service } from "@kubernetes/client-node";
import type { Logger } from "pino";
import type { Cache, CacheFactory, CacheHandlers } from "../runtime/cache.js";
import type { ControllerMetrics } from "../metrics.js";
import type { Clock } from "../util/clock.js";
import { ResilientInformer } from "./informer.js";
import type { KubeConfigData } from "./kube-config-loader.js";
import { KubeConnection } from "./kube-connection.js";

export interface KubeCacheOptions {
  kubeConfig: KubeConfigData;
  logger: Logger;
  clock: Clock;
  metrics: Pick<ControllerMetrics, "watchRestartsTotal">;
  watchdogMs?: number;
  watchInactivityMs?: number;
}

/** Cluster-wide informers for the three resources the controller reads. */
export function kubeCacheFactory(options: KubeCacheOptions): CacheFactory {
  const connection = KubeConnection.from(options.kubeConfig);
  const make = <T extends KubernetesObject>(resource: string, path: string, handlers: CacheHandlers<T>): Cache<T> =>
    new ResilientInformer<T>({
      resource,
      path,
      handlers,
      kubeConfig: connection,
      logger: options.logger,
      clock: options.clock,
      watchdogMs: options.watchdogMs,
      watchInactivityMs: options.watchInactivityMs,
      onRestart: () => options.metrics.watchRestartsTotal.inc({ resource }),
    });
  return {
    services: (handlers) => make<V1Service>("services", "/api/v1/services", handlers),
    endpointSlices: (handlers) =>
      make<V1EndpointSlice>("endpointslices", "/apis/discovery.k8s.io/v1/endpointslices", handlers),
    nodes: (handlers) => make<V1Node>("nodes", "/api/v1/nodes", handlers),
  };
}
