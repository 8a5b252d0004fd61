/**
 * The factory the bare-metal plugin (plugin.ts) loads when `--provider baremetal` is chosen: pools from
 * `--address-pool-file` and `--address-pool`, validated together, plus AddressPool objects when the CRD is
 * installed. A pool change makes the controller reconcile every Service again: "no pool" errors are not
 * retried on their own. With the CRD, the leader also writes each pool's status (pool-status-writer.ts); with a
 * metrics registry in the context, per-pool gauges are registered (pool-metrics.ts).
 */
import { hostname } from "node:os";
import type { ProviderContext } from "../../src/provider-plugin.js";
import { KubeRest } from "../../src/kube/kube-rest.js";
import { systemClock } from "../../src/util/clock.js";
import type { Logger } from "pino";
import { type AddressPoolWatch, watchAddressPools } from "./address-pool-watch.js";
import { BaremetalProvider } from "./baremetal-provider.js";
import { watchNamespaceLabels } from "./namespace-labels.js";
import { loadPools } from "./pool-config.js";
import { registerPoolMetrics } from "./pool-metrics.js";
import type { PoolVerdict } from "./pool-status.js";
import { PoolStatusWriter } from "./pool-status-writer.js";

/** The bare-metal flags of `lb-operator run`. */
export interface BaremetalFlags {
  /** `--address-pool` values. */
  readonly addressPools: readonly string[];
  /** `--address-pool-file`. */
  readonly addressPoolFile: string | undefined;
  /** `--announce-only` (speakers only answer ARP; kube-proxy forwards; ipMode VIP). */
  readonly announceOnly: boolean;
}

/** Throws InvalidPoolError when the pool file or flags are invalid, so the process fails at start. */
export async function createBaremetalProvider(
  context: ProviderContext,
  flags: BaremetalFlags,
): Promise<BaremetalProvider> {
  const pools = await loadPools({ file: flags.addressPoolFile, flags: flags.addressPools, flagName: "--address-pool" });
  const log = context.logger.child({ provider: "baremetal" });
  if (pools.length === 0) log.warn("no address pools configured: Services will get no address until pools are added");
  else log.info({ pools: pools.map((p) => ({ name: p.name, addresses: p.addresses })) }, "address pools loaded");
  // The parts below report to each other: bind late.
  const late: { writer?: PoolStatusWriter } = {};
  const namespaces = watchNamespaceLabels({
    kubeConfig: context.kubeConfig,
    logger: log,
    clock: systemClock,
    signal: context.signal,
    onChange: () => {
      if (provider.pools.some((p) => (p.serviceAllocation?.namespaceSelectors.length ?? 0) > 0)) {
        context.requestResync();
      }
    },
  });
  const provider = new BaremetalProvider({
    pools,
    ipMode: flags.announceOnly ? "VIP" : "Proxy",
    onIssue: (issue) => log.warn({ issue }, issue.message),
    namespaceLabels: namespaces.labelsOf,
    onUsageChange: () => late.writer?.schedule(),
  });
  if (context.metricsRegistry !== undefined) {
    registerPoolMetrics(context.metricsRegistry, { active: () => provider.restored, usages: () => provider.usages() });
  }
  const watch = await watchAddressPools({
    kubeConfig: context.kubeConfig,
    logger: log,
    clock: systemClock,
    signal: context.signal,
    staticPools: pools,
    onPools: (merged) => {
      provider.setPools(merged);
      log.info({ pools: merged.map((p) => p.name) }, "address pools updated");
      context.requestResync();
    },
    onObjects: () => late.writer?.schedule(),
  });
  if (watch !== undefined) late.writer = startPoolStatus(context, log, watch, provider);
  return provider;
}

/** The leader's AddressPool status writer: a refused pool's reason, else its usage. */
function startPoolStatus(
  context: ProviderContext,
  log: Logger,
  watch: AddressPoolWatch,
  provider: BaremetalProvider,
): PoolStatusWriter {
  const verdict = (name: string): PoolVerdict | undefined => {
    const rejected = watch.rejected().get(name);
    if (rejected !== undefined) return { accepted: false, reason: rejected.reason, message: rejected.error.message };
    const usage = provider.usage(name);
    return usage === undefined ? undefined : { accepted: true, usage };
  };
  const writer = new PoolStatusWriter({
    rest: new KubeRest(context.kubeConfig),
    logger: log,
    clock: systemClock,
    objects: watch.objects,
    verdict,
    active: () => provider.restored,
    instance: hostname(),
  });
  context.signal.addEventListener("abort", () => writer.stop(), { once: true });
  writer.schedule();
  return writer;
}
