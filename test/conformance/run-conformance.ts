import type { KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, it } from "vitest";
import { conformanceCases } from "../../src/conformance/cases.js";
import type { DataPathAccess } from "../../src/conformance/data-path.js";
import { ConformanceKubeClient } from "../../src/conformance/kube-client.js";
import { type SkipEntry, resolveSkips, unmetRequirementSkips } from "../../src/conformance/skip-lists.js";

export type { SkipEntry };

export interface ConformanceTarget {
  kubeConfig: KubeConfig;
  loadBalancerClass: string;
  requestableAddress?: string;
  /** An address the provider cannot hand out (outside its pools or subnetwork); without it that case is skipped. */
  unavailableAddress?: string;
  /** How the cases reach the load balancer; without it the data-path cases are skipped. */
  dataPath?: DataPathAccess;
  timeoutMs?: number;
  teardown(): Promise<void>;
}

/**
 * Runs every conformance case (src/conformance/cases.ts, the ones `lb-operator conformance` runs) against one
 * provider under vitest (hono's `runTest({ newRouter, skip })` pattern, ../shared/reference/style-anchors.md
 * section 6). Unknown names in the skip list fail the run, so a renamed case cannot silently stay skipped.
 */
export function runConformance(options: {
  provider: string;
  setup: () => Promise<ConformanceTarget>;
  skip: readonly SkipEntry[];
}): void {
  describe(`conformance: ${options.provider}`, () => {
    let target: ConformanceTarget;
    let kube: ConformanceKubeClient;
    let skipped = new Map<string, string>();
    beforeAll(async () => {
      target = await options.setup();
      kube = new ConformanceKubeClient(target.kubeConfig);
      skipped = resolveSkips([
        ...options.skip,
        ...unmetRequirementSkips(conformanceCases, target, {
          requestableAddress: "the target gives no requestable address",
          unavailableAddress: "the target gives no address it cannot hand out (ConformanceTarget.unavailableAddress)",
          dataPath: "the target gives no way to reach the load balancer (ConformanceTarget.dataPath)",
        }),
      ]);
    });
    afterAll(async () => {
      await target?.teardown();
    });
    // The static list decides what vitest reports as skipped; requirements are checked once the target exists.
    const listed = resolveSkips(options.skip);
    for (const testCase of conformanceCases) {
      const reason = listed.get(testCase.name);
      it.skipIf(reason !== undefined)(reason ? `${testCase.name} [skipped: ${reason}]` : testCase.name, async (ctx) => {
        const unmet = skipped.get(testCase.name);
        if (unmet !== undefined) ctx.skip(unmet);
        const namespace = await kube.createNamespace("conf");
        const timeoutMs = target.timeoutMs ?? 30_000;
        try {
          await testCase.run({
            kube,
            namespace,
            loadBalancerClass: target.loadBalancerClass,
            requestableAddress: target.requestableAddress,
            unavailableAddress: target.unavailableAddress,
            dataPath: target.dataPath,
            timeoutMs,
          });
        } finally {
          await kube.deleteNamespace(namespace, timeoutMs);
        }
      });
    }
  });
}
