import { CoreV1Api, type CoreV1Event, type KubeConfig, type V1Service } from "@kubernetes/client-node";
import { pino } from "pino";
import type { ResyncHub } from "../../src/controller/resync-hub.js";
import { ControllerMetrics } from "../../src/metrics.js";
import type { LoadBalancerProvider } from "../../src/provider.js";
import { type ControllerConfig, ControllerState, runController } from "../../src/run-controller.js";
import { systemClock } from "../../src/util/clock.js";

export const TEST_CLASS = "lb-operator.io/test";

export interface RunningController {
  readonly state: ControllerState;
  readonly metrics: ControllerMetrics;
  stop(): Promise<void>;
}

/** Runs the real controller in this process against a real apiserver, with the given provider. */
export async function startController(
  kubeConfig: KubeConfig,
  provider: LoadBalancerProvider,
  overrides: Partial<ControllerConfig> = {},
  resync?: ResyncHub,
): Promise<RunningController> {
  const config: ControllerConfig = {
    clusterId: "test-cluster",
    classOptions: { loadBalancerClass: TEST_CLASS, isDefaultClass: false },
    workers: 4,
    driftPeriodMs: 600_000,
    leaderElection: undefined,
    instance: "test-controller",
    ...overrides,
  };
  const state = new ControllerState();
  const metrics = new ControllerMetrics({ processMetrics: false });
  const logger = pino({ level: process.env.LB_TEST_LOG_LEVEL ?? "silent" });
  const abort = new AbortController();
  const done = runController(config, { kubeConfig, provider, resync, logger, clock: systemClock, metrics }, abort.signal, state);
  const deadline = Date.now() + 60_000;
  while (!state.synced) {
    if (Date.now() > deadline) throw new Error("controller did not sync its caches within 60 s");
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    state,
    metrics,
    stop: async () => {
      abort.abort();
      await done;
    },
  };
}

/** Helpers over the real API used by the integration tests and the conformance suite. */
export class KubeTestClient {
  readonly core: CoreV1Api;
  constructor(kubeConfig: KubeConfig) {
    this.core = kubeConfig.makeApiClient(CoreV1Api);
  }

  async createNamespace(prefix: string): Promise<string> {
    const name = `${prefix}-${Math.random().toString(36).slice(2, 8)}`;
    await this.core.createNamespace({ body: { metadata: { name } } });
    return name;
  }

  async service(namespace: string, name: string): Promise<V1Service | undefined> {
    try {
      return await this.core.readNamespacedService({ name, namespace });
    } catch (err) {
      if ((err as { code?: number }).code === 404) return undefined;
      throw err;
    }
  }

  /** Events about one Service, oldest first. */
  async events(namespace: string, name: string): Promise<CoreV1Event[]> {
    const list = await this.core.listNamespacedEvent({
      namespace,
      fieldSelector: `involvedObject.kind=Service,involvedObject.name=${name}`,
    });
    return list.items.sort((a, b) => time(a) - time(b));
  }

  /** Replaces the Service after applying `change` to the current object (retries on conflict). */
  async updateService(namespace: string, name: string, change: (svc: V1Service) => void): Promise<V1Service> {
    for (let attempt = 0; ; attempt++) {
      const svc = await this.core.readNamespacedService({ name, namespace });
      change(svc);
      try {
        return await this.core.replaceNamespacedService({ name, namespace, body: svc });
      } catch (err) {
        if ((err as { code?: number }).code !== 409 || attempt > 5) throw err;
      }
    }
  }
}

function time(e: CoreV1Event): number {
  return new Date(e.firstTimestamp ?? e.eventTime ?? 0).getTime();
}
