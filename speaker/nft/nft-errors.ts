import { LbOperatorError } from "../../src/toolkit/index.js";
/**
 * Errors of the nftables data path. The speaker's reaction follows the class: NftRenderError is a bug in the plan
 * (retrying the same plan cannot help, the previous ruleset stays in force); NftError is a failed `nft` run, which
 * may pass (retry with backoff); NftNotFoundError will not pass until the node's image is fixed.
 */

/** A value in the plan that we refuse to render, because nft would reject or misparse it. */
export class NftRenderError extends LbOperatorError {
  /** Which input was wrong, e.g. `rules[3].destinations[0].port` or `table`. */
  readonly field: string;
  /** `namespace/name` of the Service the offending rule belongs to, when there is one. */
  readonly service: string | undefined;
  constructor(field: string, message: string, service?: string, options?: { cause?: unknown }) {
    super(`${field}${service === undefined ? "" : ` (${service})`}: ${message}`, options);
    this.field = field;
    this.service = service;
  }
}

/** Running `nft` failed: non-zero exit, timeout or a runner error. `stderr` is nft's own diagnostic, if any. */
export class NftError extends LbOperatorError {
  readonly stderr: string;
  /** Exit code of the process; undefined when it did not exit on its own (timeout, spawn failure). */
  readonly exitCode: number | undefined;
  constructor(message: string, options?: { cause?: unknown; stderr?: string; exitCode?: number }) {
    super(message, options);
    this.stderr = options?.stderr ?? "";
    this.exitCode = options?.exitCode;
  }
}

/** The `nft` binary (or the wrapper in front of it) is not installed or not on PATH. */
export class NftNotFoundError extends NftError {}
