/**
 * Providers added without editing the core. The recording test provider and test/fixtures/skeleton-provider/ are
 * each a plugin and nothing else: the skeleton is judged by the shared contract suite, and both are run by the real
 * `lb-operator run` built around a longer plugin list (test/fakes/main-with-test-plugins.ts, the skeleton's main.ts).
 */
import { fileURLToPath } from "node:url";
import { KubeConfig } from "@kubernetes/client-node";
import { pino } from "pino";
import { afterAll, describe, expect, it } from "vitest";
import type { ProviderTestWorld } from "../../testing/call-recorder.js";
import { describeProviderContract } from "../../testing/contract-suite.js";
import { eventually } from "../../testing/eventually.js";
import { newSpec } from "../../testing/new-spec.js";
import { useTestCluster } from "../env/controller-harness.js";
import { ControllerProcess } from "../env/controller-process.js";
import { apiService } from "../fixtures/api-services.js";
import { skeletonPlugin } from "../fixtures/skeleton-provider/plugin.js";
import { SkeletonCloud } from "../fixtures/skeleton-provider/skeleton-cloud.js";

const entry = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

async function skeletonWorld(): Promise<ProviderTestWorld> {
  const cloud = new SkeletonCloud("203.0.113");
  const context = {
    kubeConfig: new KubeConfig(),
    logger: pino({ level: "silent" }),
    signal: new AbortController().signal,
    requestResync: () => undefined,
  };
  return {
    provider: await skeletonPlugin(cloud).create(context, {}),
    spec: (name) => newSpec({ name }),
    calls: () => cloud.log.calls(),
    clearCalls: () => cloud.log.clear(),
    resources: async () => cloud.names(),
    failNthMutatingCall: (n) => cloud.log.failNth(n),
  };
}

describeProviderContract("skeleton (added from a test)", skeletonWorld);

const CASES = [
  {
    provider: "recording",
    entry: entry("../fakes/main-with-test-plugins.ts"),
    flags: ["--recording-ip-mode", "Proxy"],
    ingress: { ip: "198.51.100.10", ipMode: "Proxy" },
  },
  {
    provider: "skeleton",
    entry: entry("../fixtures/skeleton-provider/main.ts"),
    flags: ["--skeleton-prefix", "198.51.100"],
    ingress: { ip: "198.51.100.1", ipMode: "VIP" },
  },
];

describe("a provider registered through its plugin alone, in the real controller", () => {
  const cluster = useTestCluster();
  const controllers: ControllerProcess[] = [];
  afterAll(async () => Promise.all(controllers.map((c) => c.stop("SIGKILL"))));

  for (const c of CASES) {
    it(`${c.provider}: chosen with --provider, reads its own flag, serves its default class, deletes`, async () => {
      const args = [
        "--provider",
        c.provider,
        ...c.flags,
        "--kubeconfig",
        cluster.cp.kubeconfigPath,
        "--no-leader-elect",
      ];
      const controller = await ControllerProcess.start(args, cluster.cp.dir, c.provider, c.entry);
      controllers.push(controller);
      const ns = await cluster.kube.createNamespace(c.provider);
      const svc = apiService(ns, "web", `lb-operator.io/${c.provider}`);
      await cluster.kube.core.createNamespacedService({ namespace: ns, body: svc });
      const ingress = await eventually(
        "an address",
        async () => (await cluster.kube.service(ns, "web"))?.status?.loadBalancer?.ingress?.[0],
      );
      expect(ingress).toMatchObject(c.ingress);
      await cluster.kube.core.deleteNamespacedService({ namespace: ns, name: "web" });
      await eventually(
        "the Service gone (finalizer removed)",
        async () => (await cluster.kube.service(ns, "web")) === undefined,
      );
      await controller.stop("SIGTERM");
    });
  }
});
