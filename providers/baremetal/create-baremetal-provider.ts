/**
 * The factory the bare-metal plugin (plugin.ts) loads when `--provider baremetal` is chosen: pools from
 * `--address-pool-file` and `--address-pool`, validated together, plus AddressPool objects when the CRD is
 * installed. A pool change makes the controller reconcile every Service again: "no pool" errors are not
 * retried on their own.
 */
import type { ProviderContext } from "../../src/provider-plugin.js";
import { systemClock } from "../../src/util/clock.js";
import { watchAddressPools } from "./address-pool-watch.js";
import { BaremetalProvider } from "./baremetal-provider.js";
import { loadPools } from "./pool-config.js";

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
  const provider = new BaremetalProvider({
    pools,
    ipMode: flags.announceOnly ? "VIP" : "Proxy",
    onIssue: (issue) => log.warn({ issue }, issue.message),
  });
  await watchAddressPools({
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
  });
  return provider;
}
