import {
  CoreV1Api,
  DiscoveryV1Api,
  type KubeConfig,
  type KubernetesObject,
  type KubernetesListObject,
  type V1EndpointSlice,
  type V1Node,
  type V1Service,
} from "@kubernetes/client-node";
import type { Logger } from "pino";
import type { Cache, CacheFactory, CacheHandlers } from "../runtime/cache.js";
import type { ControllerMetrics } from "../metrics.js";
import type { Clock } from "../util/clock.js";
import { ResilientInformer } from "./informer.js";
import { callOptions } from "./request-options.js";

const LIST_TIMEOUT_MS = 60_000;

export interface KubeCacheOptions {
  kubeConfig: KubeConfig;
  logger: Logger;
  clock: Clock;
  metrics: Pick<ControllerMetrics, "watchRestartsTotal">;
  watchdogMs?: number;
  watchInactivityMs?: number;
}

/** Cluster-wide informers for the three resources the controller reads. */
export function kubeCacheFactory(options: KubeCacheOptions): CacheFactory {
  const core = options.kubeConfig.makeApiClient(CoreV1Api);
  const discovery = options.kubeConfig.makeApiClient(DiscoveryV1Api);
  const make = <T extends KubernetesObject>(
    resource: string,
    path: string,
    list: () => Promise<KubernetesListObject<T>>,
    handlers: CacheHandlers<T>,
  ): Cache<T> =>
    new ResilientInformer<T>({
      resource,
      path,
      list,
      handlers,
      kubeConfig: options.kubeConfig,
      logger: options.logger,
      clock: options.clock,
      watchdogMs: options.watchdogMs,
      watchInactivityMs: options.watchInactivityMs,
      onRestart: () => options.metrics.watchRestartsTotal.inc({ resource }),
    });
  return {
    services: (handlers) =>
      make<V1Service>(
        "services",
        "/api/v1/services",
        () => core.listServiceForAllNamespaces({}, callOptions(LIST_TIMEOUT_MS)),
        handlers,
      ),
    endpointSlices: (handlers) =>
      make<V1EndpointSlice>(
        "endpointslices",
        "/apis/discovery.k8s.io/v1/endpointslices",
        () => discovery.listEndpointSliceForAllNamespaces({}, callOptions(LIST_TIMEOUT_MS)),
        handlers,
      ),
    nodes: (handlers) =>
      make<V1Node>("nodes", "/api/v1/nodes", () => core.listNode({}, callOptions(LIST_TIMEOUT_MS)), handlers),
  };
}
