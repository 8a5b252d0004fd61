import { LbOperatorError } from "../errors.js";
import { CASE_REQUIREMENTS, type CaseRequirement, type ConformanceCase, conformanceCases } from "./cases.js";
import { dataPathCases } from "./data-path-cases.js";

/** Cases a provider does not run, each group with a reason a reader can check (hono's runTest skip list). */
export interface SkipEntry {
  readonly reason: string;
  readonly tests: readonly string[];
}

/** What a runner gives the cases, as far as `requires` is concerned: a requirement is met when it is defined. */
export type GivenInputs = { readonly [R in CaseRequirement]?: unknown };

/** Why a case is skipped when the runner does not give what it requires (the CLI's wording: it names the flags). */
export const UNMET_REQUIREMENT_REASONS: Readonly<Record<CaseRequirement, string>> = {
  requestableAddress: "no --requestable-address given",
  unavailableAddress: "no --unavailable-address given",
  dataPath: "the runner was not given a way to reach the load balancer (--data-path)",
};

/**
 * Skip entries for the cases whose `requires` the runner does not meet, one entry per unmet requirement. A case
 * missing two inputs is named twice; `resolveSkips` keeps the first reason.
 */
export function unmetRequirementSkips(
  cases: readonly ConformanceCase[],
  given: GivenInputs,
  reasons: Partial<Readonly<Record<CaseRequirement, string>>> = {},
): SkipEntry[] {
  return CASE_REQUIREMENTS.flatMap((requirement) => {
    if (given[requirement] !== undefined) return [];
    const tests = cases.filter((c) => c.requires?.includes(requirement)).map((c) => c.name);
    return tests.length > 0 ? [{ reason: reasons[requirement] ?? UNMET_REQUIREMENT_REASONS[requirement], tests }] : [];
  });
}

/**
 * An entry naming every data-path case, with the caller's reason, for test worlds where no load balancer forwards
 * traffic (test/conformance/: moto, the fake Compute API, the recording provider). Their targets give no dataPath,
 * so `unmetRequirementSkips` would skip the cases anyway; this entry states the real reason (the first reason wins
 * in `resolveSkips`) and is static, so vitest reports the cases skipped before the target starts. Not in any
 * plugin's skip list: against a real AWS or GCE cluster the cases run when the runner is given a data path (the CLI's
 * --data-path), and are skipped by requirement when it is not.
 */
export function dataPathSkip(reason: string): SkipEntry {
  return { reason, tests: dataPathCases.map((c) => c.name) };
}

/**
 * Case name -> skip reason. Unknown names fail, so a renamed case cannot silently stay skipped; a case named twice
 * keeps its first reason.
 */
export function resolveSkips(
  entries: readonly SkipEntry[],
  cases: readonly ConformanceCase[] = conformanceCases,
): Map<string, string> {
  const known = new Set(cases.map((c) => c.name));
  const skipped = new Map<string, string>();
  for (const entry of entries) {
    for (const name of entry.tests) {
      if (!known.has(name)) throw new UnknownCaseError(name);
      if (!skipped.has(name)) skipped.set(name, entry.reason);
    }
  }
  return skipped;
}

/** A skip list names a case the suite does not have. */
export class UnknownCaseError extends LbOperatorError {
  constructor(readonly caseName: string) {
    super(`the skip list names an unknown conformance case: "${caseName}"`);
  }
}
