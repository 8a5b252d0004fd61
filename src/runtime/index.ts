/**
 * The runtime layer the core shares with every program built on it (the controller, the bare-metal speaker, a
 * third party's agent): watched caches behind narrow ports, a REST writer, Events, the health/metrics server,
 * leader election and the clock. Programs import it from here, never from the core's internals; the lint rule
 * for speaker/ enforces that.
 */
export type { Cache, CacheFactory, CacheHandlers } from "./cache.js";
export { kubeCacheFactory, type KubeCacheOptions } from "../kube/kube-caches.js";
export { KubeRest, type PatchType } from "../kube/kube-rest.js";
export { KubeConnection, type RequestAuth } from "../kube/kube-connection.js";
export { KubeConfigError, type KubeConfigData, loadKubeConfigData } from "../kube/kube-config-loader.js";
export { type InformerOptions, ResilientInformer } from "../kube/informer.js";
export {
  HttpWatchTransport,
  type WatchEventType,
  WatchExpiredError,
  WatchInactiveError,
  type WatchTransport,
} from "../kube/watch-stream.js";
export {
  type EventRecorder,
  type EventType,
  KubeEventRecorder,
  type KubeEventRecorderOptions,
} from "../kube/event-recorder.js";
export { type HealthSource, startHttpServer } from "../http-server.js";
export { LeaderElector, type LeaderElectionOptions } from "../kube/leader-election.js";
export { type Clock, type TimerHandle, sleep, systemClock } from "../util/clock.js";
export { CoalescedNotifier } from "../util/coalesced-notifier.js";
export {
  abortOnSignals,
  durationOption,
  listOption,
  loadKubeConfig,
  portOption,
  positiveIntOption,
  repeatableOption,
  splitHostPort,
} from "./command-options.js";
export { createLogger } from "../logger.js";
export { packageVersion } from "../package-version.js";
export { watchRestartsCounter } from "../metrics.js";
