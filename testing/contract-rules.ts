/**
 * The provider contract (src/provider.ts) as rules checked against a ProviderTestWorld, with no test framework:
 * each rule resolves, or rejects with a ContractViolationError saying what it saw. contract-suite.ts runs them
 * under vitest; another runner can call checkContractRule directly.
 */
import { LbOperatorError } from "../src/errors.js";
import type { LoadBalancerStatus } from "../src/provider.js";
import type { MakeProviderTestWorld, ProviderTestWorld } from "./call-recorder.js";

export type ContractRule =
  "second-ensure-no-mutation" | "delete-twice" | "delete-never-created" | "no-leak-after-stopped-create";

export const CONTRACT_RULES: Readonly<Record<ContractRule, string>> = {
  "second-ensure-no-mutation": "a second ensure with the same spec makes no mutating call and reports the same status",
  "delete-twice": "delete is idempotent: a second delete succeeds with no mutating call, and nothing is left",
  "delete-never-created": "deleting a load balancer that was never created succeeds with no mutating call",
  "no-leak-after-stopped-create": "a create stopped at any mutating call leaves nothing once deleted",
};

export class ContractViolationError extends LbOperatorError {
  constructor(
    readonly rule: ContractRule,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${rule}: ${message}`, options);
  }
}

export interface ContractRuleOptions {
  /** Which stops no-leak-after-stopped-create tries: every mutating call of a create, or the first, middle and last. Default "every". */
  readonly stopPoints?: "every" | "sample";
}

const signal = (): AbortSignal => new AbortController().signal;

/** Makes a world, checks `rule` on it, closes the world. */
export async function checkContractRule(
  rule: ContractRule,
  makeWorld: MakeProviderTestWorld,
  options: ContractRuleOptions = {},
): Promise<void> {
  const world = await makeWorld();
  try {
    await RULES[rule](world, options);
  } finally {
    await world.close?.();
  }
}

const RULES: Readonly<Record<ContractRule, (world: ProviderTestWorld, options: ContractRuleOptions) => Promise<void>>> =
  {
    "second-ensure-no-mutation": async (world) => {
      const rule = "second-ensure-no-mutation";
      const spec = world.spec("contract-a");
      const first = await world.provider.ensure(spec, signal());
      if ((await world.resources()).length === 0)
        throw new ContractViolationError(rule, "the world shows no resource after an ensure");
      world.clearCalls();
      const second = await world.provider.ensure(spec, signal());
      expectNoMutation(rule, world, "the second ensure");
      if (!sameStatus(first, second)) {
        throw new ContractViolationError(
          rule,
          `status changed: ${JSON.stringify(first)} then ${JSON.stringify(second)}`,
        );
      }
    },

    "delete-twice": async (world) => {
      const rule = "delete-twice";
      const spec = world.spec("contract-b");
      await world.provider.ensure(spec, signal());
      await world.provider.delete(spec.id, signal());
      await expectNothingLeft(rule, world, "after the first delete");
      world.clearCalls();
      await world.provider.delete(spec.id, signal());
      expectNoMutation(rule, world, "the second delete");
      await expectNothingLeft(rule, world, "after the second delete");
    },

    "delete-never-created": async (world) => {
      const rule = "delete-never-created";
      world.clearCalls();
      await world.provider.delete(world.spec("contract-c").id, signal());
      expectNoMutation(rule, world, "the delete");
      await expectNothingLeft(rule, world, "after the delete");
    },

    "no-leak-after-stopped-create": async (world, options) => {
      const rule = "no-leak-after-stopped-create";
      const failNth = world.failNthMutatingCall?.bind(world);
      if (failNth === undefined)
        throw new ContractViolationError(
          rule,
          "the world cannot fail a call (failNthMutatingCall): skip this rule with a reason",
        );
      const spec = world.spec("contract-d");
      // Counted on a second create: the first may make shared resources (a cluster's security group or instance
      // group) that outlive the delete, so later creates make fewer calls.
      let total = 0;
      for (let round = 0; round < 2; round++) {
        world.clearCalls();
        await world.provider.ensure(spec, signal());
        total = world.calls().filter((c) => c.mutating).length;
        await world.provider.delete(spec.id, signal());
        await expectNothingLeft(rule, world, "after a create and delete");
      }
      if (total === 0) throw new ContractViolationError(rule, "a create made no mutating call");
      let stops = 0;
      for (const n of stopPoints(total, options.stopPoints ?? "every")) {
        failNth(n);
        let stopped = false;
        try {
          await world.provider.ensure(spec, signal());
        } catch {
          stopped = true;
        }
        // A create may make fewer calls than the counted one (shared resources left by an earlier stop): then the
        // failure was never reached and must not hit the delete.
        if (stopped) stops += 1;
        else failNth(0);
        await world.provider.delete(spec.id, signal());
        await expectNothingLeft(rule, world, `after a create stopped at mutating call ${n} of ${total}, then a delete`);
      }
      if (stops === 0) throw new ContractViolationError(rule, "no injected failure stopped an ensure");
    },
  };

function stopPoints(total: number, mode: "every" | "sample"): number[] {
  if (mode === "every") return Array.from({ length: total }, (_, i) => i + 1);
  return [...new Set([1, Math.ceil(total / 2), total])];
}

function expectNoMutation(rule: ContractRule, world: ProviderTestWorld, what: string): void {
  const mutating = world
    .calls()
    .filter((c) => c.mutating)
    .map((c) => c.operation);
  if (mutating.length > 0)
    throw new ContractViolationError(rule, `${what} made mutating calls: ${mutating.join(", ")}`);
}

async function expectNothingLeft(rule: ContractRule, world: ProviderTestWorld, when: string): Promise<void> {
  const left = await world.resources();
  if (left.length > 0) throw new ContractViolationError(rule, `${when}, the cloud still holds: ${left.join(", ")}`);
}

function sameStatus(a: LoadBalancerStatus, b: LoadBalancerStatus): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
