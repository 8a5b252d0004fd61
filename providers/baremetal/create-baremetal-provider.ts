/**
 * The factory src/providers.ts loads when `--provider baremetal` is chosen: pools from
 * `--address-pool-file` and `--address-pool`, validated together. AddressPool objects (the CRD) are not
 * watched yet; whoever adds that watch feeds poolsFromCustomObjects() into provider.setPools().
 */
import type { ProviderInputs } from "../../src/providers.js";
import { BaremetalProvider } from "./baremetal-provider.js";
import { loadPools } from "./pool-config.js";

/** Throws InvalidPoolError when the pool file or flags are invalid, so the process fails at start. */
export async function createBaremetalProvider(
  inputs: Pick<ProviderInputs, "logger" | "addressPools" | "addressPoolFile">,
): Promise<BaremetalProvider> {
  const pools = await loadPools({ file: inputs.addressPoolFile, flags: inputs.addressPools, flagName: "--address-pool" });
  const log = inputs.logger.child({ provider: "baremetal" });
  if (pools.length === 0) log.warn("no address pools configured: Services will get no address until pools are added");
  else log.info({ pools: pools.map((p) => ({ name: p.name, addresses: p.addresses })) }, "address pools loaded");
  return new BaremetalProvider({ pools, onIssue: (issue) => log.warn({ issue }, issue.message) });
}
