import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AddressPool, BaremetalProvider, validatePools } from "../../providers/baremetal/index.js";
import { type ControlPlane, startControlPlane } from "../env/control-plane.js";
import { type RunningController, startController } from "../env/controller-harness.js";
import { delay, eventually } from "../../testing/eventually.js";
import { apiService } from "../fixtures/api-services.js";
import { tweakAnnotation, tweakPorts } from "../fixtures/services.js";
import { KubeTestClient } from "../../testing/kube-test-client.js";

const CLASS = "lb-operator.io/baremetal";
const POOLS: AddressPool[] = validatePools(
  [
    { name: "big", addresses: ["203.0.113.0/24"] },
    { name: "tiny", addresses: ["198.51.100.0/30"], autoAssign: false },
    { name: "shared", addresses: ["198.51.100.64/28"], autoAssign: false },
  ],
  "test",
);

let cp: ControlPlane;
let kube: KubeTestClient;
let controller: RunningController;

const startBaremetal = () =>
  startController(cp.kubeConfig(), new BaremetalProvider({ pools: POOLS, retryAfterMs: 1_000 }), {
    classOptions: { loadBalancerClass: CLASS, isDefaultClass: false },
    workers: 5,
  });

beforeAll(async () => {
  cp = await startControlPlane();
  kube = new KubeTestClient(cp.kubeConfig());
  controller = await startBaremetal();
});
afterAll(async () => {
  await controller?.stop();
  await cp?.stop();
});

const ipOf = async (ns: string, name: string) => (await kube.service(ns, name))?.status?.loadBalancer?.ingress?.[0]?.ip;
const warnings = async (ns: string, name: string) =>
  (await kube.events(ns, name)).filter((e) => e.type === "Warning").map((e) => e.message ?? "");

describe("bare-metal address allocation against a real apiserver", () => {
  let ns200: string;

  it("gives 200 Services from a /24 pool 200 distinct addresses", async () => {
    ns200 = await kube.createNamespace("alloc");
    for (let i = 0; i < 200; i += 20) {
      await Promise.all(
        Array.from({ length: 20 }, (_, j) =>
          kube.core.createNamespacedService({ namespace: ns200, body: apiService(ns200, `svc-${i + j}`, CLASS) }),
        ),
      );
    }
    const ips = await eventually(
      "200 addresses",
      async () => {
        const list = await kube.core.listNamespacedService({ namespace: ns200 });
        const got = list.items.map((s) => s.status?.loadBalancer?.ingress?.[0]?.ip).filter((ip) => ip !== undefined);
        return got.length === 200 ? got : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    expect(new Set(ips).size).toBe(200);
    for (const ip of ips) expect(ip).toMatch(/^203\.0\.113\.\d+$/);
  });

  it("honours a requested address, and warns when it is taken or outside every pool", async () => {
    const ns = await kube.createNamespace("req");
    await kube.core.createNamespacedService({
      namespace: ns,
      body: apiService(ns, "asks", CLASS, (s) => (s.spec!.loadBalancerIP = "198.51.100.66")),
    });
    await eventually("requested address", async () => (await ipOf(ns, "asks")) === "198.51.100.66");
    await kube.core.createNamespacedService({
      namespace: ns,
      body: apiService(ns, "taken", CLASS, tweakAnnotation("lb-operator.io/load-balancer-ips", "198.51.100.66")),
    });
    await kube.core.createNamespacedService({
      namespace: ns,
      body: apiService(ns, "outside", CLASS, (s) => (s.spec!.loadBalancerIP = "192.0.2.77")),
    });
    const taken = await eventually("taken warning", async () => (await warnings(ns, "taken"))[0]);
    expect(taken).toMatch(/198\.51\.100\.66/);
    expect(taken).toMatch(new RegExp(`${ns}/asks`));
    const outside = await eventually("outside warning", async () => (await warnings(ns, "outside"))[0]);
    expect(outside).toMatch(/192\.0\.2\.77.*no address pool/);
    expect(await ipOf(ns, "taken")).toBeUndefined();
    expect(await ipOf(ns, "outside")).toBeUndefined();
  });

  it("shares one address between Services with the same sharing key and disjoint ports, never with colliding ports", async () => {
    const ns = await kube.createNamespace("share");
    const shared = (name: string, port: number, protocol = "TCP") =>
      apiService(
        ns,
        name,
        CLASS,
        tweakAnnotation("lb-operator.io/allow-shared-ip", "dns"),
        tweakAnnotation("lb-operator.io/address-pool", "shared"),
        tweakPorts({ name: "p", port, protocol, targetPort: port }),
      );
    await kube.core.createNamespacedService({ namespace: ns, body: shared("dns-tcp", 53, "TCP") });
    const ip = await eventually("first shared address", () => ipOf(ns, "dns-tcp"));
    await kube.core.createNamespacedService({ namespace: ns, body: shared("dns-udp", 53, "UDP") });
    await eventually("second Service on the same address", async () => (await ipOf(ns, "dns-udp")) === ip);
    const collider = shared("dns-tcp-again", 53, "TCP");
    collider.spec!.loadBalancerIP = ip;
    await kube.core.createNamespacedService({ namespace: ns, body: collider });
    const message = await eventually("collision warning", async () => (await warnings(ns, "dns-tcp-again"))[0]);
    expect(message).toMatch(/TCP\/53/);
    expect(message).toMatch(new RegExp(`${ns}/dns-tcp\\b`));
    expect(await ipOf(ns, "dns-tcp-again")).toBeUndefined();
  });

  it("warns when a pool is exhausted, and hands the address out once it is freed", async () => {
    const ns = await kube.createNamespace("full");
    const inTiny = (name: string) =>
      apiService(ns, name, CLASS, tweakAnnotation("lb-operator.io/address-pool", "tiny"));
    for (const name of ["t0", "t1", "t2", "t3"])
      await kube.core.createNamespacedService({ namespace: ns, body: inTiny(name) });
    await eventually("four addresses", async () =>
      (await Promise.all(["t0", "t1", "t2", "t3"].map((n) => ipOf(ns, n)))).every(Boolean),
    );
    await kube.core.createNamespacedService({ namespace: ns, body: inTiny("t4") });
    const message = await eventually("exhausted warning", async () => (await warnings(ns, "t4"))[0]);
    expect(message).toMatch(/tiny/);
    expect(message).toMatch(/exhausted|no free/i);
    expect(await ipOf(ns, "t4")).toBeUndefined();
    const freed = await ipOf(ns, "t0");
    await kube.core.deleteNamespacedService({ namespace: ns, name: "t0" });
    await eventually("t4 to get the freed address", async () => (await ipOf(ns, "t4")) === freed, {
      timeoutMs: 15_000,
    });
  });

  it("keeps every address across a controller restart and never hands a held one out again", async () => {
    const before = await kube.core.listServiceForAllNamespaces();
    const held = new Map(
      before.items
        .filter((s) => s.status?.loadBalancer?.ingress?.[0]?.ip)
        .map((s) => [`${s.metadata!.namespace}/${s.metadata!.name}`, s.status!.loadBalancer!.ingress![0]!.ip!]),
    );
    expect(held.size).toBeGreaterThanOrEqual(206);
    await controller.stop();
    controller = await startBaremetal();
    // A newcomer after the restart must get a free address, not one restored from status.
    await kube.core.createNamespacedService({ namespace: ns200, body: apiService(ns200, "newcomer", CLASS) });
    const fresh = await eventually("newcomer address", () => ipOf(ns200, "newcomer"));
    expect([...held.values()]).not.toContain(fresh);
    await delay(1_000);
    const after = await kube.core.listServiceForAllNamespaces();
    for (const s of after.items) {
      const key = `${s.metadata!.namespace}/${s.metadata!.name}`;
      if (held.has(key)) expect(s.status?.loadBalancer?.ingress?.[0]?.ip, key).toBe(held.get(key));
    }
  });
});
