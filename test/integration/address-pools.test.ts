import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { createBaremetalProvider } from "../../providers/baremetal/create-baremetal-provider.js";
import { ResyncHub } from "../../src/controller/resync-hub.js";
import { createAddressPool, installAddressPoolCrd } from "../env/address-pool-crd.js";
import { type RunningController, startController, useTestCluster } from "../env/controller-harness.js";
import { eventually } from "../../testing/eventually.js";
import { apiService } from "../fixtures/api-services.js";
import { tweakAnnotation } from "../fixtures/services.js";

const CLASS = "lb-operator.io/baremetal";

const cluster = useTestCluster();

async function startBaremetal(
  addressPools: string[],
): Promise<{ controller: RunningController; stop: () => Promise<void> }> {
  const abort = new AbortController();
  const hub = new ResyncHub();
  const provider = await createBaremetalProvider(
    {
      kubeConfig: cluster.cp.kubeConfig(),
      logger: pino({ level: process.env.LB_TEST_LOG_LEVEL ?? "silent" }),
      signal: abort.signal,
      requestResync: () => hub.request(),
    },
    { addressPools, addressPoolFile: undefined, announceOnly: false },
  );
  const controller = await startController(
    cluster.cp.kubeConfig(),
    provider,
    { classOptions: { loadBalancerClass: CLASS, isDefaultClass: false } },
    hub,
  );
  return {
    controller,
    stop: async () => {
      abort.abort();
      await controller.stop();
    },
  };
}

const ipOf = async (ns: string, name: string) =>
  (await cluster.kube.service(ns, name))?.status?.loadBalancer?.ingress?.[0]?.ip;

describe("address pools from flags and AddressPool objects", () => {
  it("without the CRD, serves the flag pools", async () => {
    const run = await startBaremetal(["flags=192.0.2.0/28"]);
    try {
      const ns = await cluster.kube.createNamespace("flags");
      await cluster.kube.core.createNamespacedService({ namespace: ns, body: apiService(ns, "web", CLASS) });
      expect(await eventually("an address", () => ipOf(ns, "web"))).toBe("192.0.2.0");
    } finally {
      await run.stop();
    }
  });

  it("with the chart's CRD, an AddressPool created later serves a Service that asked for it", async () => {
    await installAddressPoolCrd(cluster.cp.kubeConfig());
    const run = await startBaremetal(["flags=192.0.2.16/28"]);
    try {
      const ns = await cluster.kube.createNamespace("crd");
      await cluster.kube.core.createNamespacedService({
        namespace: ns,
        body: apiService(ns, "wants-blue", CLASS, tweakAnnotation("lb-operator.io/address-pool", "blue")),
      });
      const warning = await eventually("unknown pool warning", async () =>
        (await cluster.kube.events(ns, "wants-blue")).find((e) => e.type === "Warning"),
      );
      expect(warning.message).toMatch(/blue/);

      await createAddressPool(cluster.cp.kubeConfig(), "blue", { addresses: ["198.51.100.128/28"], autoAssign: false });
      // "Unknown pool" is not retried on its own: the pool change itself must requeue the Service.
      expect(
        await eventually("an address from the new pool", () => ipOf(ns, "wants-blue"), { timeoutMs: 20_000 }),
      ).toBe("198.51.100.128");

      await cluster.kube.core.createNamespacedService({ namespace: ns, body: apiService(ns, "plain", CLASS) });
      expect(await eventually("a flag-pool address", () => ipOf(ns, "plain"))).toMatch(
        /^192\.0\.2\.(1[6-9]|2\d|3[01])$/,
      );
    } finally {
      await run.stop();
    }
  });
});
