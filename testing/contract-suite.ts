/**
 * The contract rules (contract-rules.ts) as a vitest suite, so every provider, ours or a third party's, runs the
 * same checks: `describeProviderContract("aws nlb", makeWorld, { skip: { rule: "why" } })`. vitest is a peer of
 * this entry point; the rules themselves need no test framework.
 */
import { describe, it } from "vitest";
import type { MakeProviderTestWorld } from "./call-recorder.js";
import { CONTRACT_RULES, checkContractRule, type ContractRule, type ContractRuleOptions } from "./contract-rules.js";

export interface ProviderContractOptions extends ContractRuleOptions {
  /** Rules this provider cannot express, each with the reason (reported as skipped, hono style). */
  readonly skip?: Partial<Readonly<Record<ContractRule, string>>>;
  /** Per-rule timeout in ms (cloud fakes are slow); default vitest's. */
  readonly timeout?: number;
}

export function describeProviderContract(
  name: string,
  makeWorld: MakeProviderTestWorld,
  options: ProviderContractOptions = {},
): void {
  describe(`provider contract: ${name}`, () => {
    for (const [rule, title] of Object.entries(CONTRACT_RULES) as [ContractRule, string][]) {
      const reason = options.skip?.[rule];
      if (reason !== undefined) {
        it.skip(`${title} (skipped: ${reason})`, () => undefined);
        continue;
      }
      it(title, () => checkContractRule(rule, makeWorld, options), options.timeout);
    }
  });
}
