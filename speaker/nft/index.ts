/** The speaker's nftables data path: render a DataPlan into one table and keep the kernel in step with it. */
export { NftError, NftNotFoundError, NftRenderError } from "./nft-errors.js";
export {
  AFFINITY_HASH_SEED,
  DEFAULT_TABLE,
  renderDeleteTable,
  renderRuleset,
  type RenderOptions,
} from "./nft-ruleset.js";
export {
  createNftRunner,
  DEFAULT_NFT_TIMEOUT_MS,
  netnsNftRunner,
  type NftRunner,
  type NftRunnerOptions,
} from "./nft-runner.js";
export { NftTable, type ApplyOptions, type NftTableOptions } from "./nft-table.js";
