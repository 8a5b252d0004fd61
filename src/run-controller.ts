import type { Logger } from "pino";
import { withDeadline } from "./controller/provider-deadline.js";
import type { ResyncHub } from "./controller/resync-hub.js";
import { ServiceController } from "./controller/service-controller.js";
import { KubeEventRecorder } from "./kube/event-recorder.js";
import { KubeRest } from "./kube/kube-rest.js";
import { kubeCacheFactory } from "./kube/kube-caches.js";
import { LeaderElector } from "./kube/leader-election.js";
import type { KubeConfigData } from "./kube/kube-config-loader.js";
import { KubeConnection } from "./kube/kube-connection.js";
import { KubeServiceWriter } from "./kube/service-writer.js";
import type { ControllerMetrics } from "./metrics.js";
import type { ClassOptions } from "./model/service-predicates.js";
import type { LoadBalancerProvider } from "./provider.js";
import type { Clock } from "./util/clock.js";

export interface LeaderElectionConfig {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

export interface ControllerConfig {
  clusterId: string;
  classOptions: ClassOptions;
  workers: number;
  driftPeriodMs: number;
  /** Undefined: run without leader election (one replica, tests). */
  leaderElection: LeaderElectionConfig | undefined;
  /** Identity written into Events. */
  instance: string;
  watchdogMs?: number;
  watchInactivityMs?: number;
  /**
   * Deadline of one provider ensure/delete (`--reconcile-timeout`): its AbortSignal fires then, and the reconcile
   * ends as a retryable failure (a Warning, then backoff), so no Service waits behind a hung cloud call.
   */
  reconcileTimeoutMs: number;
}

export interface ControllerRuntime {
  kubeConfig: KubeConfigData;
  provider: LoadBalancerProvider;
  /** Where the provider asks for every Service to be reconciled again. */
  resync?: ResyncHub;
  logger: Logger;
  clock: Clock;
  metrics: ControllerMetrics;
}

/** What /healthz and /readyz report, updated as the controller goes through its life. */
export class ControllerState {
  leading = false;
  standingBy = false;
  synced = false;
  ready(): boolean {
    return this.synced || this.standingBy;
  }
}

/**
 * Wires the controller to a cluster and runs it until `signal` aborts: as leader when leader election is
 * configured (a standby only campaigns; caches start once it leads), or directly otherwise.
 * Resolves "lost" when leadership was lost: the caller should exit so the process restarts clean.
 */
export async function runController(
  config: ControllerConfig,
  runtime: ControllerRuntime,
  signal: AbortSignal,
  state = new ControllerState(),
): Promise<"stopped" | "lost"> {
  const { logger, clock, metrics } = runtime;
  const kubeConfig = KubeConnection.from(runtime.kubeConfig);
  const rest = new KubeRest(kubeConfig);
  const events = new KubeEventRecorder({
    rest,
    clock,
    logger,
    component: "lb-operator",
    instance: config.instance,
    onDropped: () => metrics.eventsDroppedTotal.inc(),
  });
  // Wrapped once per process, not per leadership term: an abandoned call still holds its own Service's next call.
  const provider = withDeadline(runtime.provider, { timeoutMs: config.reconcileTimeoutMs, clock });
  const wiring: Wiring = { config, runtime: { ...runtime, provider }, kubeConfig, rest, events, state };

  const le = config.leaderElection;
  if (!le) {
    await lead(wiring, signal);
    return "stopped";
  }
  state.standingBy = true;
  const elector = new LeaderElector({
    kubeConfig,
    namespace: le.namespace,
    name: le.name,
    identity: le.identity,
    clock,
    logger,
    leaseDurationMs: le.leaseDurationMs,
    renewDeadlineMs: le.renewDeadlineMs,
    retryPeriodMs: le.retryPeriodMs,
  });
  return elector.run(signal, (leading) => lead(wiring, leading));
}

/** What every term of leadership shares: one REST client and one event recorder for the process. */
interface Wiring {
  readonly config: ControllerConfig;
  readonly runtime: ControllerRuntime;
  readonly kubeConfig: KubeConnection;
  readonly rest: KubeRest;
  readonly events: KubeEventRecorder;
  readonly state: ControllerState;
}

/** One term of leadership: a fresh controller (and caches) running until `leading` aborts. */
async function lead({ config, runtime, kubeConfig, rest, events, state }: Wiring, leading: AbortSignal): Promise<void> {
  const { logger, clock, metrics } = runtime;
  state.leading = true;
  state.standingBy = false;
  metrics.isLeader.set(1);
  const controller = new ServiceController({
    caches: kubeCacheFactory({
      kubeConfig,
      logger,
      clock,
      metrics,
      watchdogMs: config.watchdogMs,
      watchInactivityMs: config.watchInactivityMs,
    }),
    writer: new KubeServiceWriter(rest),
    events,
    provider: runtime.provider,
    metrics,
    logger,
    clock,
    clusterId: config.clusterId,
    classOptions: config.classOptions,
    workers: config.workers,
    driftPeriodMs: config.driftPeriodMs,
    onSynced: () => {
      state.synced = true;
    },
    resync: runtime.resync,
  });
  try {
    await controller.run(leading);
    await events.flush();
  } finally {
    state.leading = false;
    state.synced = false;
    metrics.isLeader.set(0);
  }
}
