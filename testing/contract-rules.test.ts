import { describe, expect, it } from "vitest";
import type { LoadBalancerId, LoadBalancerProvider, LoadBalancerSpec, LoadBalancerStatus } from "../src/provider.js";
import { CallLog, type ProviderTestWorld } from "./call-recorder.js";
import { CONTRACT_RULES, ContractViolationError, checkContractRule, type ContractRule } from "./contract-rules.js";
import { newSpec } from "./new-spec.js";

/** How a deliberately broken provider misbehaves. */
interface Flaws {
  /** Writes on every ensure, changed or not. */
  readonly alwaysWrites?: boolean;
  /** Delete writes even when there is nothing to delete. */
  readonly deleteAlwaysWrites?: boolean;
  /** Delete forgets the second of the two resources an ensure creates. */
  readonly deleteLeaks?: boolean;
  /** A stopped create forgets what it made: delete then finds nothing to remove. */
  readonly losesTrackWhenStopped?: boolean;
  /** Reports a different status on each ensure. */
  readonly unstableStatus?: boolean;
}

/** A two-resource "cloud" (a load balancer and its listener) in a Set, with the flaws asked for. */
function brokenWorld(flaws: Flaws, withFailures = true): ProviderTestWorld {
  const log = new CallLog();
  const cloud = new Set<string>();
  const known = new Set<string>();
  let ensures = 0;
  const create = (resource: string, key: string): void => {
    if (cloud.has(resource) && flaws.alwaysWrites !== true) return log.record(`get ${resource}`, false);
    log.record(`create ${resource}`, true);
    cloud.add(resource);
    known.add(key);
  };
  const provider: LoadBalancerProvider = {
    name: "broken",
    async ensure(spec: LoadBalancerSpec): Promise<LoadBalancerStatus> {
      const key = spec.id.shortName;
      try {
        create(`lb/${key}`, key);
        create(`listener/${key}`, key);
      } catch (err) {
        if (flaws.losesTrackWhenStopped === true) known.delete(key);
        throw err;
      }
      ensures += 1;
      return { ingress: [{ ip: flaws.unstableStatus === true ? `192.0.2.${ensures}` : "192.0.2.1" }] };
    },
    async delete(id: LoadBalancerId): Promise<void> {
      const key = id.shortName;
      if (!known.has(key) && flaws.deleteAlwaysWrites !== true) return log.record(`get ${key}`, false);
      log.record(`delete lb/${key}`, true);
      cloud.delete(`lb/${key}`);
      if (flaws.deleteLeaks !== true) cloud.delete(`listener/${key}`);
      known.delete(key);
    },
  };
  return {
    provider,
    spec: (name) => newSpec({ name }),
    calls: () => log.calls(),
    clearCalls: () => log.clear(),
    resources: async () => [...cloud],
    ...(withFailures ? { failNthMutatingCall: (n: number) => log.failNth(n) } : {}),
  };
}

async function violation(rule: ContractRule, world: ProviderTestWorld): Promise<string> {
  const err: unknown = await checkContractRule(rule, async () => world).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ContractViolationError);
  expect((err as ContractViolationError).rule).toBe(rule);
  return (err as Error).message;
}

describe("contract rules catch a provider that breaks them", () => {
  it("a well-behaved two-resource provider passes every rule", async () => {
    for (const rule of Object.keys(CONTRACT_RULES) as ContractRule[])
      await checkContractRule(rule, async () => brokenWorld({}));
  });

  it("second-ensure-no-mutation: names the write, and catches a changing status", async () => {
    expect(await violation("second-ensure-no-mutation", brokenWorld({ alwaysWrites: true }))).toMatch(
      /second ensure made mutating calls: create lb\//,
    );
    expect(await violation("second-ensure-no-mutation", brokenWorld({ unstableStatus: true }))).toContain(
      "status changed",
    );
  });

  it("delete-twice: catches a leftover resource and a second delete that writes", async () => {
    expect(await violation("delete-twice", brokenWorld({ deleteLeaks: true }))).toMatch(
      /after the first delete, the cloud still holds: listener\//,
    );
    expect(await violation("delete-twice", brokenWorld({ deleteAlwaysWrites: true }))).toContain(
      "the second delete made mutating calls",
    );
  });

  it("delete-never-created: catches a delete that writes when there is nothing", async () => {
    expect(await violation("delete-never-created", brokenWorld({ deleteAlwaysWrites: true }))).toContain(
      "the delete made mutating calls",
    );
  });

  it("no-leak-after-stopped-create: catches what a stopped create leaks, and a world that cannot stop one", async () => {
    expect(await violation("no-leak-after-stopped-create", brokenWorld({ losesTrackWhenStopped: true }))).toMatch(
      /after a create stopped at mutating call 2 of 2, then a delete, the cloud still holds: lb\//,
    );
    expect(await violation("no-leak-after-stopped-create", brokenWorld({}, false))).toContain("cannot fail a call");
  });
});
