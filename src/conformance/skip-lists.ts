import { LbOperatorError } from "../errors.js";
import { type ConformanceCase, conformanceCases } from "./cases.js";

/** Cases a provider does not run, each group with a reason a reader can check (hono's runTest skip list). */
export interface SkipEntry {
  readonly reason: string;
  readonly tests: readonly string[];
}

export const CONFORMANCE_PROVIDERS = ["aws", "gce", "baremetal"] as const;
export type ConformanceProvider = (typeof CONFORMANCE_PROVIDERS)[number];

/** The skip list of every provider the product ships; the test suites (test/conformance/) use the same lists. */
export const providerSkips: Readonly<Record<ConformanceProvider, readonly SkipEntry[]>> = {
  aws: [
    {
      reason:
        "AWS picks load balancer addresses; a requested address is rejected (as cloud-provider-aws does): an NLB takes Elastic IPs by annotation instead",
      tests: ["honours a requested address in spec.loadBalancerIP"],
    },
    {
      reason:
        "without NodePorts a Service needs an NLB with ip targets and ready pod endpoints; the provider-neutral case has neither the annotation nor pods (aws-provider.test.ts covers ip targets)",
      tests: ["should be able to create LoadBalancer Service without NodePort and change it"],
    },
  ],
  gce: [
    {
      reason:
        "pod mode is refused with an InvalidSpecError: GCE_VM_IP network endpoint groups list the endpoints' node VMs, which the provider contract does not give in pod mode (README, GCE)",
      tests: ["should be able to create LoadBalancer Service without NodePort and change it"],
    },
  ],
  // Nothing skipped: every case is a control-plane case, and the allocator serves requested addresses.
  // The data-path cases (reachability, source ranges, client IP) arrive with the speaker.
  baremetal: [],
};

/** Skip entries for the cases whose `requires` the target does not meet. */
export function unmetRequirementSkips(
  cases: readonly ConformanceCase[],
  given: { requestableAddress?: string | undefined },
  reason: string,
): SkipEntry[] {
  const tests = cases.filter((c) => c.requires?.includes("requestableAddress") && given.requestableAddress === undefined).map((c) => c.name);
  return tests.length > 0 ? [{ reason, tests }] : [];
}

/**
 * Case name -> skip reason. Unknown names fail, so a renamed case cannot silently stay skipped; a case named twice
 * keeps its first reason.
 */
export function resolveSkips(entries: readonly SkipEntry[], cases: readonly ConformanceCase[] = conformanceCases): Map<string, string> {
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
