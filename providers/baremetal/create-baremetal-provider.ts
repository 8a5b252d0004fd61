/**
 * The factory src/providers.ts loads when `--provider baremetal` is chosen: pools from
 * `--address-pool-file` and `--address-pool`, validated together, plus AddressPool objects when the CRD is
 * installed. A pool change makes the controller reconcile every Service again: "no pool" errors are not
 * retried on their own.
 */
import type { ProviderInputs } from "../../src/providers.js";
import { systemClock } from "../../src/util/clock.js";
import { watchAddressPools } from "./address-pool-watch.js";
import { BaremetalProvider } from "./baremetal-provider.js";
import { loadPools } from "./pool-config.js";

/** Throws InvalidPoolError when the pool file or flags are invalid, so the process fails at start. */
export async function createBaremetalProvider(
  inputs: ProviderInputs,
): Promise<BaremetalProvider> {
  const pools = await loadPools({ file: inputs.addressPoolFile, flags: inputs.addressPools, flagName: "--address-pool" });
  const log = inputs.logger.child({ provider: "baremetal" });
  if (pools.length === 0) log.warn("no address pools configured: Services will get no address until pools are added");
  else log.info({ pools: pools.map((p) => ({ name: p.name, addresses: p.addresses })) }, "address pools loaded");
  const provider = new BaremetalProvider({
    pools,
    ipMode: inputs.announceOnly ? "VIP" : "Proxy",
    onIssue: (issue) => log.warn({ issue }, issue.message),
  });
  await watchAddressPools({
    kubeConfig: inputs.kubeConfig,
    logger: log,
    clock: systemClock,
    signal: inputs.signal,
    staticPools: pools,
    onPools: (merged) => {
      provider.setPools(merged);
      log.info({ pools: merged.map((p) => p.name) }, "address pools updated");
      inputs.requestResync();
    },
  });
  return provider;
}
