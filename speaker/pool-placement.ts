/**
 * Where an address may be announced: its pool's `nodeSelectors` and `interfaces`, MetalLB's L2Advertisement fields
 * (MLB api/v1beta1/l2advertisement_types.go) carried on our AddressPool. The speaker does not read pools itself;
 * the bare-metal plugin hands it a PlacementSource (providers/baremetal/speaker-placement.ts).
 */
import type { Logger } from "pino";
import type { Clock } from "../src/runtime/index.js";
import type { KubeConfigData } from "../src/runtime/index.js";

export interface AddressPlacement {
  readonly pool: string;
  /** Whether a node with these labels may announce the address (any of the pool's node selectors matches). */
  readonly nodeAllowed: (labels: Readonly<Record<string, string>>) => boolean;
  /** Empty: every interface the speaker answers on. */
  readonly interfaces: readonly string[];
}

/** The placement of an address; undefined (an address in no known pool): no limit. */
export type PlacementOf = (address: string) => AddressPlacement | undefined;

export interface PlacementSourceOptions {
  /** `--address-pool` values and `--address-pool-file`, as the controller takes them. */
  readonly flags: readonly string[];
  readonly file: string | undefined;
  readonly kubeConfig: KubeConfigData;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly signal: AbortSignal;
  /** The placement changed: recompute the plan. */
  readonly onChange: () => void;
}

/** Loads pools (failing at start on bad ones) and keeps the returned lookup current. */
export type PlacementSource = (options: PlacementSourceOptions) => Promise<PlacementOf>;

export function nodeMayAnnounce(
  placement: AddressPlacement | undefined,
  labels: Readonly<Record<string, string>>,
): boolean {
  return placement === undefined || placement.nodeAllowed(labels);
}
