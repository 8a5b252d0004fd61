/**
 * Keeps the bare-metal provider's pools in step with AddressPool objects (charts/lb-operator/crds/), merged
 * with the pools given by flag or file. Optional by design: in the lab there is no CRD, so when the API has
 * no AddressPool resource the watch is not started and the static pools are all there is.
 */
import type { KubernetesListObject, KubernetesObject } from "@kubernetes/client-node";
import pRetry from "p-retry";
import type { Logger } from "pino";
import { isNotFound, kubeApiError } from "../../src/kube/api-error.js";
import { ResilientInformer } from "../../src/kube/informer.js";
import type { KubeConfigData } from "../../src/kube/kube-config-loader.js";
import { KubeRest } from "../../src/kube/kube-rest.js";
import type { Clock } from "../../src/util/clock.js";
import { type AddressPool, validatePools } from "./address-pool.js";
import { InvalidPoolError } from "./baremetal-errors.js";
import {
  ADDRESS_POOL_GROUP,
  ADDRESS_POOL_PLURAL,
  ADDRESS_POOL_VERSION,
  type RejectedPool,
  poolsFromCustomObjects,
} from "./crd-pool.js";

export interface AddressPoolWatchOptions {
  kubeConfig: KubeConfigData;
  logger: Logger;
  clock: Clock;
  signal: AbortSignal;
  /** Pools from flags and files; they always apply. */
  staticPools: readonly AddressPool[];
  /** Receives the merged pool set after each change that produced a valid one. */
  onPools: (pools: AddressPool[]) => void;
  /** Called after every add, update or delete of an object (status writes included), once started. */
  onObjects?: () => void;
}

/** The watched objects and the controller's verdict on each, for pool status (pool-status-writer.ts). */
export interface AddressPoolWatch {
  readonly objects: () => readonly KubernetesObject[];
  /** Objects refused (invalid, or clashing with an older pool or a flag/file pool), by name. */
  readonly rejected: () => ReadonlyMap<string, RejectedPool>;
}

/**
 * Starts watching AddressPool objects and resolves after the first list has been delivered to `onPools`.
 * Resolves undefined without watching when the CRD is not installed.
 */
export async function watchAddressPools(options: AddressPoolWatchOptions): Promise<AddressPoolWatch | undefined> {
  const path = `/apis/${ADDRESS_POOL_GROUP}/${ADDRESS_POOL_VERSION}/${ADDRESS_POOL_PLURAL}`;
  const rest = new KubeRest(options.kubeConfig, 30_000);
  const list = (): Promise<KubernetesListObject<KubernetesObject>> => rest.get(path);
  if (!(await crdInstalled(list, options))) return undefined;

  let lastApplied = "";
  let lastRejected = new Map<string, RejectedPool>();
  const apply = (): void => {
    const { pools, rejected } = poolsFromCustomObjects(informer.list(), options.staticPools);
    lastRejected = logRejections(rejected, lastRejected, options.logger);
    let merged: AddressPool[];
    try {
      merged = validatePools([...options.staticPools, ...pools], "flag/file pools and AddressPool objects");
    } catch (err) {
      if (!(err instanceof InvalidPoolError)) throw err;
      options.logger.error(
        { err },
        "AddressPool objects conflict with the flag/file pools; keeping the previous pools",
      );
      return;
    }
    const fingerprint = JSON.stringify(merged);
    if (fingerprint === lastApplied) return;
    lastApplied = fingerprint;
    options.onPools(merged);
  };
  const informer = new ResilientInformer<KubernetesObject>({
    resource: "addresspools",
    path,
    list,
    kubeConfig: options.kubeConfig,
    logger: options.logger,
    clock: options.clock,
    // Handlers fire for each object of a relist too; applying is idempotent and skips unchanged pool sets.
    handlers: {
      onAdd: () => changed(),
      onUpdate: () => changed(),
      onDelete: () => changed(),
    },
  });
  let started = false;
  const changed = (): void => {
    if (!started) return;
    apply();
    options.onObjects?.();
  };
  await informer.start();
  started = true;
  apply();
  options.signal.addEventListener("abort", () => void informer.stop(), { once: true });
  return { objects: () => informer.list(), rejected: () => lastRejected };
}

/**
 * Logs each refusal when it starts or changes, not on every event (our own status writes are events too);
 * returns the refusals by name.
 */
function logRejections(
  rejected: readonly RejectedPool[],
  before: ReadonlyMap<string, RejectedPool>,
  logger: Logger,
): Map<string, RejectedPool> {
  for (const r of rejected) {
    if (before.get(r.name)?.error.message === r.error.message) continue;
    logger.warn({ pool: r.name, err: r.error }, `AddressPool ${r.name} ignored: ${r.error.message}`);
  }
  return new Map(rejected.map((r) => [r.name, r]));
}

/** Lists once, with a few retries; false when the CRD is not installed. */
async function crdInstalled(
  list: () => Promise<KubernetesListObject<KubernetesObject>>,
  options: AddressPoolWatchOptions,
): Promise<boolean> {
  // 404 means the CRD is not installed. Anything else (an apiserver still starting, a CRD whose storage is
  // initialising: 429) is worth a few retries before the process gives up.
  try {
    await pRetry(list, {
      retries: 6,
      minTimeout: 500,
      maxTimeout: 5_000,
      signal: options.signal,
      shouldRetry: ({ error }) => !isNotFound(error),
      onFailedAttempt: ({ error, retriesLeft }) => {
        if (!isNotFound(error)) options.logger.warn({ err: error, retriesLeft }, "listing AddressPool objects failed");
      },
    });
  } catch (err) {
    if (isNotFound(err)) {
      options.logger.info("AddressPool CRD not installed; using the pools given by flag or file only");
      return false;
    }
    throw kubeApiError("listing AddressPool objects", err);
  }
  return true;
}
