import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ControlPlane, startControlPlane } from "../env/control-plane.js";
import { KubeTestClient } from "../env/controller-harness.js";
import { ControllerProcess } from "../env/controller-process.js";
import { eventually } from "../env/eventually.js";
import { apiService } from "../fixtures/api-services.js";

const ENTRY = fileURLToPath(new URL("../fakes/main-with-test-plugins.ts", import.meta.url));
const CLASS = "lb-operator.io/recording";

let cp: ControlPlane;
let kube: KubeTestClient;
let controller: ControllerProcess | undefined;

beforeAll(async () => {
  cp = await startControlPlane();
  kube = new KubeTestClient(cp.kubeConfig());
});
afterAll(async () => {
  await controller?.stop("SIGKILL");
  await cp?.stop();
});

// The recording provider is registered as a plugin and nothing else: the core's `run` builds it from its own flag.
describe("a provider registered through its plugin alone", () => {
  it("is chosen with --provider, reads its own flag and serves its default class", async () => {
    const args = ["--provider", "recording", "--recording-ip-mode", "Proxy", "--kubeconfig", cp.kubeconfigPath, "--no-leader-elect"];
    controller = await ControllerProcess.start(args, cp.dir, "recording", ENTRY);
    const ns = await kube.createNamespace("plugin");
    await kube.core.createNamespacedService({ namespace: ns, body: apiService(ns, "web", CLASS) });
    const ingress = await eventually("an address", async () => (await kube.service(ns, "web"))?.status?.loadBalancer?.ingress?.[0]);
    expect(ingress).toMatchObject({ ip: "198.51.100.10", ipMode: "Proxy" });
  });
});
