/**
 * The speaker's view of the address pools, for placement only (speaker/pool-placement.ts): the same sources as
 * the controller (`--address-pool`, `--address-pool-file`, AddressPool objects when the CRD is installed), so a
 * pool's nodeSelectors and interfaces reach every node. Allocation stays the controller's business. The
 * bare-metal plugin passes speakerPlacement to the speaker command (plugin.ts).
 */
import type { AddressPlacement, PlacementOf, PlacementSourceOptions } from "../../speaker/pool-placement.js";
import { parseIPValue } from "../../src/toolkit/index.js";
import { watchAddressPools } from "./address-pool-watch.js";
import type { AddressPool } from "./address-pool.js";
import { anySelectorMatches } from "./label-selector.js";
import { loadPools } from "./pool-config.js";
import { PoolIndex } from "./pool-index.js";

/** Throws InvalidPoolError for bad flags or file (the speaker fails at start, as the controller does). */
export async function speakerPlacement(options: PlacementSourceOptions): Promise<PlacementOf> {
  const staticPools = await loadPools({ file: options.file, flags: options.flags, flagName: "--address-pool" });
  let current = placementFor(staticPools);
  await watchAddressPools({
    kubeConfig: options.kubeConfig,
    logger: options.logger,
    clock: options.clock,
    signal: options.signal,
    staticPools,
    onPools: (merged: AddressPool[]) => {
      current = placementFor(merged);
      options.onChange();
    },
  });
  return (address) => current(address);
}

/** `pools` must have passed validatePools. */
export function placementFor(pools: readonly AddressPool[]): PlacementOf {
  const index = new PoolIndex(pools);
  return (address) => {
    const addr = parseIPValue(address);
    const pool = addr === undefined ? undefined : index.locate(addr)?.pool;
    return pool === undefined ? undefined : placementOfPool(pool);
  };
}

function placementOfPool(pool: AddressPool): AddressPlacement {
  const selectors = pool.nodeSelectors ?? [];
  return {
    pool: pool.name,
    // MetalLB: an L2Advertisement without nodeSelectors applies to every node.
    nodeAllowed: (labels) => selectors.length === 0 || anySelectorMatches(selectors, labels),
    interfaces: pool.interfaces ?? [],
  };
}
