import { KubeConfig } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { TEST_CLASS, startController, useTestCluster } from "../env/controller-harness.js";
import { eventually } from "../../testing/eventually.js";
import { BlackholeProxy } from "../env/tcp-proxy.js";
import { RecordingProvider } from "../fakes/recording-provider.js";
import { apiService } from "../fixtures/api-services.js";
import { KubeTestClient } from "../../testing/kube-test-client.js";

const cluster = useTestCluster();

/** The same credentials as `base`, pointed at another server URL. */
function redirect(base: KubeConfig, server: string): KubeConfig {
  const kc = new KubeConfig();
  const cluster = base.getCurrentCluster()!;
  kc.loadFromOptions({
    clusters: [{ ...cluster, server }],
    users: base.users,
    contexts: base.contexts,
    currentContext: base.currentContext,
  });
  return kc;
}

describe("controller resilience", () => {
  it("reconciles changes made while its apiserver was away, once it returns", async () => {
    const provider = new RecordingProvider();
    const controller = await startController(cluster.cp.kubeConfig(), provider);
    try {
      const ns = await cluster.kube.createNamespace("away");
      await cluster.kube.core.createNamespacedService({ namespace: ns, body: apiService(ns, "before", TEST_CLASS) });
      await eventually(
        "ingress before outage",
        async () => (await cluster.kube.service(ns, "before"))?.status?.loadBalancer?.ingress?.length,
      );

      await cluster.cp.stopApiServer();
      // Another apiserver on the same etcd takes writes while the controller's apiserver is down.
      const other = await cluster.cp.startExtraApiServer();
      try {
        const otherKube = new KubeTestClient(redirect(cluster.cp.kubeConfig(), other.server));
        await otherKube.core.createNamespacedService({ namespace: ns, body: apiService(ns, "during", TEST_CLASS) });
        await otherKube.updateService(ns, "before", (s) => (s.spec!.loadBalancerSourceRanges = ["203.0.113.0/24"]));
        await otherKube.core.deleteNamespacedService({ namespace: ns, name: "before" });
      } finally {
        await other.stop();
      }
      await cluster.cp.startApiServer();

      await eventually(
        "the Service created during the outage gets an address",
        async () => (await cluster.kube.service(ns, "during"))?.status?.loadBalancer?.ingress?.length,
        { timeoutMs: 60_000 },
      );
      await eventually(
        "the Service deleted during the outage is cleaned up and gone",
        async () => (await cluster.kube.service(ns, "before")) === undefined && !provider.live.has(`${ns}/before`),
        { timeoutMs: 60_000 },
      );
      expect(provider.callsFor(`${ns}/before`, "delete")).toHaveLength(1);
    } finally {
      await controller.stop();
    }
  });

  it("recovers from a watch that goes silent without an error", async () => {
    const url = new URL(cluster.cp.server);
    const proxy = new BlackholeProxy(url.hostname, Number(url.port));
    await proxy.start();
    const provider = new RecordingProvider();
    const viaProxy = redirect(cluster.cp.kubeConfig(), `https://${url.hostname}:${proxy.port}`);
    const controller = await startController(viaProxy, provider, {
      watchInactivityMs: 3_000,
      watchdogMs: 10_000,
      classOptions: { loadBalancerClass: "lb-operator.io/silent", isDefaultClass: false },
    });
    try {
      const ns = await cluster.kube.createNamespace("silent");
      const silenced = proxy.blackholeExisting();
      expect(silenced).toBeGreaterThan(0);
      const start = Date.now();
      await cluster.kube.core.createNamespacedService({
        namespace: ns,
        body: apiService(ns, "late", "lb-operator.io/silent"),
      });
      await eventually(
        "the Service to be reconciled after the watch was silenced",
        async () => (await cluster.kube.service(ns, "late"))?.status?.loadBalancer?.ingress?.length,
        { timeoutMs: 40_000 },
      );
      expect(Date.now() - start).toBeGreaterThan(1_000);
    } finally {
      await controller.stop();
      await proxy.stop();
    }
  });
});
