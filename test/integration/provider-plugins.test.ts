import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { eventually } from "../../testing/eventually.js";
import { useTestCluster } from "../env/controller-harness.js";
import { ControllerProcess } from "../env/controller-process.js";
import { apiService } from "../fixtures/api-services.js";

const ENTRY = fileURLToPath(new URL("../fakes/main-with-test-plugins.ts", import.meta.url));
const CLASS = "lb-operator.io/recording";

const cluster = useTestCluster();
let controller: ControllerProcess | undefined;
afterAll(async () => controller?.stop("SIGKILL"));

// The recording provider is registered as a plugin and nothing else: the core's `run` builds it from its own flag.
describe("a provider registered through its plugin alone", () => {
  it("is chosen with --provider, reads its own flag and serves its default class", async () => {
    const args = [
      "--provider",
      "recording",
      "--recording-ip-mode",
      "Proxy",
      "--kubeconfig",
      cluster.cp.kubeconfigPath,
      "--no-leader-elect",
    ];
    controller = await ControllerProcess.start(args, cluster.cp.dir, "recording", ENTRY);
    const ns = await cluster.kube.createNamespace("plugin");
    await cluster.kube.core.createNamespacedService({ namespace: ns, body: apiService(ns, "web", CLASS) });
    const ingress = await eventually(
      "an address",
      async () => (await cluster.kube.service(ns, "web"))?.status?.loadBalancer?.ingress?.[0],
    );
    expect(ingress).toMatchObject({ ip: "198.51.100.10", ipMode: "Proxy" });
  });
});
