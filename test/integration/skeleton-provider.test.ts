/**
 * Adding a provider without editing the core: test/fixtures/skeleton-provider/ is a provider folder with a plugin,
 * judged by the shared contract suite and run by the real `lb-operator run` built around a longer plugin list.
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

const ENTRY = fileURLToPath(new URL("../fixtures/skeleton-provider/main.ts", import.meta.url));
const CLASS = "lb-operator.io/skeleton";

async function skeletonWorld(): Promise<ProviderTestWorld> {
  const cloud = new SkeletonCloud("203.0.113");
  const context = {
    kubeConfig: new KubeConfig(),
    logger: pino({ level: "silent" }),
    signal: new AbortController().signal,
    requestResync: () => undefined,
  };
  const provider = await skeletonPlugin(cloud).create(context, {});
  return {
    provider,
    spec: (name) => newSpec({ name }),
    calls: () => cloud.log.calls(),
    clearCalls: () => cloud.log.clear(),
    resources: async () => cloud.names(),
    failNthMutatingCall: (n) => cloud.log.failNth(n),
  };
}

describeProviderContract("skeleton (added from a test)", skeletonWorld);

describe("the skeleton provider in the real controller", () => {
  const cluster = useTestCluster();
  let controller: ControllerProcess | undefined;
  afterAll(async () => controller?.stop("SIGKILL"));

  it("gives a Service an address from its own flag and releases it on delete", async () => {
    const args = [
      "--provider",
      "skeleton",
      "--skeleton-prefix",
      "198.51.100",
      "--kubeconfig",
      cluster.cp.kubeconfigPath,
      "--no-leader-elect",
    ];
    controller = await ControllerProcess.start(args, cluster.cp.dir, "skeleton", ENTRY);
    const ns = await cluster.kube.createNamespace("skeleton");
    await cluster.kube.core.createNamespacedService({ namespace: ns, body: apiService(ns, "web", CLASS) });
    const ingress = await eventually(
      "an address",
      async () => (await cluster.kube.service(ns, "web"))?.status?.loadBalancer?.ingress?.[0],
    );
    expect(ingress).toMatchObject({ ip: "198.51.100.1" });
    await cluster.kube.core.deleteNamespacedService({ namespace: ns, name: "web" });
    await eventually(
      "the Service gone (finalizer removed after delete)",
      async () => (await cluster.kube.service(ns, "web")) === undefined,
    );
  });
});
