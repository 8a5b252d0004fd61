/**
 * The GCE provider under the real controller: a real kube-apiserver, the fake Compute API with the real
 * @google-cloud/compute client. Bad input ends in one clear Warning with nothing created; faults (an operation
 * that ends in error, a 503, a 429) and a controller stopped between two creates converge with nothing leaked.
 */
import type { V1Service } from "@kubernetes/client-node";
import pino from "pino";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { gceProviderFor } from "../../providers/gce/create-gce-provider.js";
import { gceLocation } from "../fixtures/gce.js";
import { type ControlPlane, startControlPlane } from "../env/control-plane.js";
import { type RunningController, startController } from "../env/controller-harness.js";
import { delay, eventually } from "../../testing/eventually.js";
import { type FakeCompute, gceClientsFor, startFakeCompute } from "../env/fake-compute/index.js";
import { apiService } from "../fixtures/api-services.js";
import { KubeTestClient } from "../../testing/kube-test-client.js";

const CLASS = "lb-operator.io/gce";
const CLUSTER = "gce-it";
const TAGS = ["gke-node"];
const NODES = [
  { name: "node-a1", zone: "us-central1-a" },
  { name: "node-b1", zone: "us-central1-b" },
];

let cp: ControlPlane;
let fake: FakeCompute;
let kube: KubeTestClient;
let controller: RunningController | undefined;
let ns: string;

async function startOurController(): Promise<RunningController> {
  const provider = gceProviderFor(
    gceClientsFor(fake),
    gceLocation({ project: fake.project, nodeTags: TAGS }),
    pino({ level: "silent" }),
    { minPollIntervalMs: 0, minRetryDelayMs: 10 },
  );
  return startController(cp.kubeConfig(), provider, {
    clusterId: CLUSTER,
    classOptions: { loadBalancerClass: CLASS, isDefaultClass: false },
  });
}

beforeAll(async () => {
  [cp, fake] = await Promise.all([
    startControlPlane(),
    startFakeCompute({ instances: NODES.map((n) => ({ ...n, tags: TAGS })) }),
  ]);
  kube = new KubeTestClient(cp.kubeConfig());
  for (const n of NODES) {
    const created = await kube.core.createNode({
      body: {
        metadata: { name: n.name, labels: { "topology.kubernetes.io/zone": n.zone } },
        spec: { providerID: `gce://${fake.project}/${n.zone}/${n.name}` },
      },
    });
    await kube.core.replaceNodeStatus({
      name: n.name,
      body: { ...created, status: { addresses: [{ type: "InternalIP", address: "10.128.0.2" }] } },
    });
  }
  controller = await startOurController();
});

afterAll(async () => {
  await controller?.stop();
  await fake?.stop();
  await cp?.stop();
});

beforeEach(async () => {
  ns = await kube.createNamespace("gce");
});

const service = (name: string, ...tweaks: ((s: V1Service) => void)[]): V1Service =>
  apiService(ns, name, CLASS, ...tweaks);

/** Every resource whose description names this Service (by namespace/name), per collection. */
function ownedBy(name: string): Record<string, string[]> {
  const mine = (d: string | null | undefined): boolean =>
    (d ?? "").includes(`"kubernetes.io/service-name":"${ns}/${name}"`);
  const out: Record<string, string[]> = {};
  for (const c of ["forwardingRules", "backendServices", "healthChecks", "firewalls", "addresses"] as const) {
    const names = fake
      .resources(c)
      .filter((r) => mine(r.description))
      .map((r) => r.name ?? "");
    if (names.length > 0) out[c] = names.sort();
  }
  return out;
}

async function ipOf(name: string, timeoutMs = 30_000): Promise<string> {
  return eventually(
    `an address for ${ns}/${name}`,
    async () => (await kube.service(ns, name))?.status?.loadBalancer?.ingress?.[0]?.ip,
    { timeoutMs },
  );
}

async function warnings(name: string): Promise<string[]> {
  return (await kube.events(ns, name)).filter((e) => e.type === "Warning").map((e) => e.message ?? "");
}

describe("gce provider under the controller", () => {
  it("bad input gives one clear Warning and creates nothing", async () => {
    const cases: [string, (s: V1Service) => void, RegExp][] = [
      [
        "badsubnet",
        (s) => void (s.metadata!.annotations = { "networking.gke.io/internal-load-balancer-subnet": "no-such-subnet" }),
        /no-such-subnet/,
      ],
      ["badip", (s) => void (s.spec!.loadBalancerIP = "192.0.2.10"), /192\.0\.2\.10/],
      [
        "mixed",
        (s) =>
          void (s.spec!.ports = [
            { name: "t", port: 53, targetPort: 53, protocol: "TCP" },
            { name: "u", port: 53, targetPort: 53, protocol: "UDP" },
          ]),
        /TCP.*UDP|UDP.*TCP|mixed/i,
      ],
      [
        "badtype",
        (s) => void (s.metadata!.annotations = { "networking.gke.io/load-balancer-type": "External" }),
        /External/,
      ],
    ];
    for (const [name, tweak] of cases)
      await kube.core.createNamespacedService({ namespace: ns, body: service(name, tweak) });
    for (const [name, , pattern] of cases) {
      const w = await eventually(`a Warning for ${name}`, async () => (await warnings(name))[0]);
      expect(w).toMatch(pattern);
      expect(ownedBy(name)).toEqual({});
    }
  });

  it("an operation ending in error, a 503 and a 429: converges, one of each resource", async () => {
    fake.faults.failNextOperation("regionBackendServices.insert", { status: 400, reason: "resourceNotReady" });
    fake.faults.failNext("forwardingRules.insert", 503);
    fake.faults.failNext("firewalls.insert", 429);
    await kube.core.createNamespacedService({ namespace: ns, body: service("faulty") });
    const ip = await ipOf("faulty", 90_000);
    expect(ip).toMatch(/^10\.128\./);
    const owned = ownedBy("faulty");
    expect(owned.forwardingRules).toHaveLength(1);
    expect(owned.backendServices).toHaveLength(1);
    expect(owned.firewalls).toHaveLength(1);
    expect((await warnings("faulty")).length).toBeGreaterThan(0);
  }, 120_000);

  it("a controller stopped between two creates: the next one converges and nothing is duplicated or leaked", async () => {
    fake.faults.delayNext("regionBackendServices.insert", 3_000);
    await kube.core.createNamespacedService({ namespace: ns, body: service("interrupted") });
    await eventually(
      "the backend service insert to start",
      () => fake.calls({ method: "regionBackendServices.insert" }).length > 0,
    );
    await controller!.stop();
    controller = undefined;
    await delay(3_500);
    controller = await startOurController();
    await ipOf("interrupted", 60_000);
    const owned = ownedBy("interrupted");
    expect(owned.forwardingRules).toHaveLength(1);
    expect(owned.backendServices).toHaveLength(1);

    await kube.core.deleteNamespacedService({ namespace: ns, name: "interrupted" });
    await eventually("the Service to be gone", async () => (await kube.service(ns, "interrupted")) === undefined);
    expect(ownedBy("interrupted")).toEqual({});
  }, 120_000);
});
