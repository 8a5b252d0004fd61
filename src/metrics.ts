import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { CloudCallObserver } from "./cloud-call-observer.js";

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
  /** Labelled like lb_operator_reconcile_total (verdict) plus the provider, so a slow cloud shows on its own. */
  readonly reconcileSeconds = new Histogram({
    name: "lb_operator_reconcile_duration_seconds",
    help: "Time spent in one reconcile of one Service, by provider and verdict (success, backoff, retryAfter, noRetry).",
    labelNames: ["provider", "verdict"] as const,
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120],
    registers: [this.registry],
  });
  /**
   * One per request sent to a cloud API, retries included: aws-load-balancer-controller's aws_api_calls_total
   * (pkg/metrics/aws/instruments.go: service, operation, error_code) made provider-neutral, with the outcome the
   * retry policy read (success, throttled, transient, error). Errors are the calls whose outcome is not success.
   * Its `service` label is called `api` here: a ServiceMonitor target already has a `service` label (the scraped
   * Service), which would push ours aside to exported_service.
   */
  readonly cloudApiCallsTotal = new Counter({
    name: "lb_operator_cloud_api_calls_total",
    help: "Cloud API requests sent, by provider, API, operation, outcome and error code (retries included).",
    labelNames: ["provider", "api", "operation", "outcome", "error_code"] as const,
    registers: [this.registry],
  });
  /** aws-load-balancer-controller's aws_api_call_duration_seconds, provider-neutral and with the outcome. */
  readonly cloudApiCallSeconds = new Histogram({
    name: "lb_operator_cloud_api_call_duration_seconds",
    help: "Latency of one cloud API request, by provider, API, operation and outcome.",
    labelNames: ["provider", "api", "operation", "outcome"] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
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

  /** The port a provider reports its cloud calls through (ProviderContext.cloudCalls), labelled with its name. */
  cloudCallObserver(provider: string): CloudCallObserver {
    return {
      observe: (call) => {
        const { api, operation, outcome } = call;
        this.cloudApiCallsTotal.inc({ provider, api, operation, outcome, error_code: call.errorCode });
        this.cloudApiCallSeconds.observe({ provider, api, operation, outcome }, call.seconds);
      },
    };
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
