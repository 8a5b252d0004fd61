import type { KubeConfig } from "@kubernetes/client-node";
import { pino } from "pino";
import { afterAll, beforeAll } from "vitest";
import type { ResyncHub } from "../../src/controller/resync-hub.js";
import { LbOperatorError } from "../../src/errors.js";
import { ControllerMetrics } from "../../src/metrics.js";
import type { LoadBalancerProvider } from "../../src/provider.js";
import { type ControllerConfig, ControllerState, runController } from "../../src/run-controller.js";
import { systemClock } from "../../src/util/clock.js";
import { KubeTestClient } from "../../testing/kube-test-client.js";
import { type ControlPlane, startControlPlane } from "./control-plane.js";

export const TEST_CLASS = "lb-operator.io/test";

/** The harness could not give a test what it set up (a controller that never synced, a cluster read too early). */
export class HarnessError extends LbOperatorError {}

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
  /** The controller's metrics; a test that wires a provider's cloud calls into them passes its own. */
  metrics = new ControllerMetrics({ processMetrics: false }),
): Promise<RunningController> {
  const config: ControllerConfig = {
    clusterId: "test-cluster",
    classOptions: { loadBalancerClass: TEST_CLASS, isDefaultClass: false },
    workers: 4,
    driftPeriodMs: 600_000,
    reconcileTimeoutMs: 180_000,
    leaderElection: undefined,
    instance: "test-controller",
    ...overrides,
  };
  const state = new ControllerState();
  const logger = pino({ level: process.env.LB_TEST_LOG_LEVEL ?? "silent" });
  const abort = new AbortController();
  const done = runController(
    config,
    { kubeConfig, provider, resync, logger, clock: systemClock, metrics },
    abort.signal,
    state,
  );
  const deadline = Date.now() + 60_000;
  while (!state.synced) {
    if (Date.now() > deadline) throw new HarnessError("controller did not sync its caches within 60 s");
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

/** A test file's own control plane and a client of it; read the fields inside tests and hooks, not at load. */
export interface TestCluster {
  readonly cp: ControlPlane;
  readonly kube: KubeTestClient;
}

/**
 * Starts a real control plane before the calling file's tests (its beforeAll) and stops it after them (afterAll,
 * registered first, so it runs after the file's own afterAll hooks, which may still need the apiserver).
 */
export function useTestCluster(): TestCluster {
  let started: TestCluster | undefined;
  beforeAll(async () => {
    const cp = await startControlPlane();
    started = { cp, kube: new KubeTestClient(cp.kubeConfig()) };
  });
  afterAll(async () => {
    await started?.cp.stop();
  });
  const get = (): TestCluster => {
    if (started === undefined)
      throw new HarnessError("useTestCluster: the control plane is read before beforeAll started it");
    return started;
  };
  return {
    get cp() {
      return get().cp;
    },
    get kube() {
      return get().kube;
    },
  };
}
