import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/**
 * The controller's metrics, on a registry of its own (no prom-client global state). Names keep the upstream
 * `service_controller_loadbalancer_sync_total` so existing dashboards work, plus our own under lb_operator_.
 */
export class ControllerMetrics {
  readonly registry = new Registry();
  readonly loadBalancerSyncTotal = new Counter({
    name: "service_controller_loadbalancer_sync_total",
    help: "A metric counting the amount of times any load balancer has been configured (upstream name).",
    registers: [this.registry],
  });
  readonly reconcileTotal = new Counter({
    name: "lb_operator_reconcile_total",
    help: "Reconciles by verdict (success, backoff, retryAfter, noRetry).",
    labelNames: ["verdict"] as const,
    registers: [this.registry],
  });
  readonly reconcileSeconds = new Histogram({
    name: "lb_operator_reconcile_duration_seconds",
    help: "Time spent in one reconcile of one Service.",
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120],
    registers: [this.registry],
  });
  readonly providerCallsTotal = new Counter({
    name: "lb_operator_provider_calls_total",
    help: "Provider calls by operation and outcome.",
    labelNames: ["provider", "operation", "outcome"] as const,
    registers: [this.registry],
  });
  readonly queueDepth = new Gauge({
    name: "lb_operator_workqueue_depth",
    help: "Keys waiting in the work queue.",
    registers: [this.registry],
  });
  readonly watchRestartsTotal = watchRestartsCounter(this.registry);
  readonly eventsDroppedTotal = new Counter({
    name: "lb_operator_events_dropped_total",
    help: "Events not written because the event queue was full.",
    registers: [this.registry],
  });
  readonly isLeader = new Gauge({
    name: "lb_operator_leader",
    help: "1 while this process holds the leader Lease.",
    registers: [this.registry],
  });

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }
}

/** One name and meaning for watch restarts in every program that watches the API (the controller, the speaker). */
export function watchRestartsCounter(registry: Registry): Counter<"resource"> {
  return new Counter({
    name: "lb_operator_watch_restarts_total",
    help: "Restarts of a list/watch after an error or a silent period.",
    labelNames: ["resource"] as const,
    registers: [registry],
  });
}
