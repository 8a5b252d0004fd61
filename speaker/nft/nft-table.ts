/**
 * Owns one nftables table on this node and keeps it equal to the latest DataPlan. Every change replaces the
 * whole table in one `nft -f` transaction (nft-ruleset.ts), so packets see either the old rules or the new
 * ones, never a half-written table, and no other table is ever touched.
 */
import type { Logger } from "pino";
import type { DataPlan } from "../data-plan.js";
import { NftError } from "./nft-errors.js";
import { DEFAULT_TABLE, renderDeleteTable, renderRuleset } from "./nft-ruleset.js";
import { createNftRunner, type NftRunner } from "./nft-runner.js";
import { assertTableName } from "./nft-syntax.js";
import { errorMessage } from "../../src/toolkit/index.js";

export interface NftTableOptions {
  /** Table name (family ip); default `lb-operator`. */
  readonly table?: string;
  readonly logger: Logger;
  /** How nft is run; default spawns `nft` from PATH. */
  readonly run?: NftRunner;
  /** Told of each apply transaction nft ran (skipped unchanged plans are not), for metrics. */
  readonly onApply?: (result: { readonly ok: boolean; readonly seconds: number }) => void;
  /** Milliseconds, monotonic; default performance.now. */
  readonly now?: () => number;
}

export interface ApplyOptions {
  /**
   * Run nft even if the script equals the last one applied. For periodic resyncs: someone may have flushed the
   * ruleset behind our back, and skipping would then leave the node without rules until the plan changes.
   */
  readonly force?: boolean;
}

export class NftTable {
  readonly table: string;
  readonly #logger: Logger;
  readonly #run: NftRunner;
  readonly #onApply: NftTableOptions["onApply"];
  readonly #now: () => number;
  /** Script of the last successful apply; undefined after remove(), a failure, or before the first apply. */
  #applied: string | undefined;
  /** Calls run one at a time, in call order: two overlapping applies must not race to the kernel. */
  #tail: Promise<unknown> = Promise.resolve();

  constructor(options: NftTableOptions) {
    this.table = assertTableName(options.table ?? DEFAULT_TABLE);
    this.#logger = options.logger.child({ nftTable: this.table });
    this.#run = options.run ?? createNftRunner();
    this.#onApply = options.onApply;
    this.#now = options.now ?? (() => performance.now());
  }

  /**
   * Makes the table match `plan`. Throws NftRenderError (nothing is run; the old rules stay) for a plan nft
   * could not take, NftError when nft fails (the transaction is all-or-nothing, so the old rules stay).
   */
  apply(plan: DataPlan, options: ApplyOptions = {}): Promise<void> {
    return this.#serialized(async () => {
      const script = renderRuleset(plan, { table: this.table });
      if (options.force !== true && script === this.#applied) {
        this.#logger.debug("nftables table unchanged, not applying");
        return;
      }
      this.#applied = undefined;
      const started = this.#now();
      try {
        await this.#nft("apply", ["-f", "-"], script);
      } catch (err) {
        this.#onApply?.({ ok: false, seconds: (this.#now() - started) / 1000 });
        throw err;
      }
      this.#onApply?.({ ok: true, seconds: (this.#now() - started) / 1000 });
      this.#applied = script;
      this.#logger.info(
        { rules: plan.rules.length, vips: new Set(plan.rules.map((r) => r.vip)).size },
        "nftables table applied",
      );
    });
  }

  /** Deletes the table. A table that does not exist counts as removed. */
  remove(): Promise<void> {
    return this.#serialized(async () => {
      this.#applied = undefined;
      await this.#nft("remove", ["-f", "-"], renderDeleteTable(this.table));
      this.#logger.info("nftables table removed");
    });
  }

  /** The table as `nft list table` prints it, or "" when it does not exist. */
  list(): Promise<string> {
    return this.#serialized(async () => {
      // Asking for a missing table fails with the same exit code as any other error; look it up first instead
      // of parsing nft's error text.
      const { stdout: tables } = await this.#nft("list tables", ["list", "tables", "ip"]);
      const exists = tables.split("\n").some((line) => line.trim() === `table ip ${this.table}`);
      if (!exists) return "";
      const { stdout } = await this.#nft("list", ["list", "table", "ip", this.table]);
      return stdout;
    });
  }

  async #nft(what: string, args: string[], stdin?: string): Promise<{ stdout: string; stderr: string }> {
    try {
      return await this.#run(args, stdin);
    } catch (err) {
      const stderr = err instanceof NftError ? err.stderr : stderrOf(err);
      const extra = stderr !== "" && !errorMessage(err).includes(stderr.trim()) ? `: ${stderr.trim()}` : "";
      this.#logger.debug({ err, script: stdin }, `nft ${what} failed`);
      throw new NftError(`nft ${what} of table ${this.table} failed: ${errorMessage(err)}${extra}`, {
        cause: err,
        stderr,
        exitCode: err instanceof NftError ? err.exitCode : undefined,
      });
    }
  }

  #serialized<T>(op: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(op, op);
    this.#tail = result.catch(() => undefined);
    return result;
  }
}

/** stderr carried by a custom runner's error (child_process errors have one), or "". */
function stderrOf(err: unknown): string {
  if (typeof err === "object" && err !== null && "stderr" in err && typeof err.stderr === "string") return err.stderr;
  return "";
}
