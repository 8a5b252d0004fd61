import type { KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, it } from "vitest";
import { KubeTestClient } from "../env/controller-harness.js";
import { conformanceCases } from "./cases.js";

export interface ConformanceTarget {
  kubeConfig: KubeConfig;
  loadBalancerClass: string;
  requestableAddress?: string;
  timeoutMs?: number;
  teardown(): Promise<void>;
}

/** Cases a provider does not run, each group with a reason a reader can check (hono's runTest skip list). */
export interface SkipEntry {
  reason: string;
  tests: string[];
}

/**
 * Runs every conformance case against one provider (hono's `runTest({ newRouter, skip })` pattern,
 * ../shared/reference/style-anchors.md section 6). Unknown names in the skip list fail the run, so a renamed
 * case cannot silently stay skipped.
 */
export function runConformance(options: { provider: string; setup: () => Promise<ConformanceTarget>; skip: SkipEntry[] }): void {
  const known = new Set(conformanceCases.map((c) => c.name));
  const skipped = new Map<string, string>();
  for (const entry of options.skip) {
    for (const name of entry.tests) {
      if (!known.has(name)) throw new Error(`skip list of ${options.provider} names an unknown case: "${name}"`);
      skipped.set(name, entry.reason);
    }
  }

  describe(`conformance: ${options.provider}`, () => {
    let target: ConformanceTarget;
    let kube: KubeTestClient;
    beforeAll(async () => {
      target = await options.setup();
      kube = new KubeTestClient(target.kubeConfig);
    });
    afterAll(async () => {
      await target?.teardown();
    });
    for (const testCase of conformanceCases) {
      const reason = skipped.get(testCase.name);
      it.skipIf(reason !== undefined)(reason ? `${testCase.name} [skipped: ${reason}]` : testCase.name, async () => {
        const namespace = await kube.createNamespace("conf");
        await testCase.run({
          kube,
          namespace,
          loadBalancerClass: target.loadBalancerClass,
          requestableAddress: target.requestableAddress,
          timeoutMs: target.timeoutMs ?? 30_000,
        });
      });
    }
  });
}
