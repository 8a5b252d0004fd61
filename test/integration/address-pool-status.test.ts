/**
 * AddressPool status, allocation scope and per-pool metrics with the real controller process (`lb-operator run
 * --provider baremetal`) on a real apiserver with the chart's CRD: what `kubectl get addresspools` shows, that a
 * namespace-limited pool never serves another namespace, and the in-use gauge scraped over HTTP.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { CustomObjectsApi } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAddressPool, installAddressPoolCrd } from "../env/address-pool-crd.js";
import { ControllerProcess } from "../env/controller-process.js";
import { useTestCluster } from "../env/controller-harness.js";
import { delay, eventually } from "../../testing/eventually.js";
import { apiService } from "../fixtures/api-services.js";
import { tweakAnnotation } from "../fixtures/services.js";

const CLASS = "lb-operator.io/baremetal";
const cluster = useTestCluster();
let controller: ControllerProcess | undefined;
let teamA = "";
let teamB = "";

beforeAll(async () => {
  const kc = cluster.cp.kubeConfig();
  await installAddressPoolCrd(kc);
  teamA = await cluster.kube.createNamespace("team-a");
  teamB = await cluster.kube.createNamespace("team-b");
  await createAddressPool(kc, "team-a", {
    addresses: ["192.0.2.0/29"],
    serviceAllocation: { namespaces: [teamA] },
  });
  await createAddressPool(kc, "open", { addresses: ["198.51.100.0/29"] });
  await createAddressPool(kc, "bad", { addresses: ["203.0.113.1/24"] });
  // Created after team-a and inside it: the newer of two overlapping pools is the one refused. Timestamps have
  // whole seconds (ties go by name, and "late-overlap" sorts first), so wait for the next second.
  await delay(1_100);
  await createAddressPool(kc, "late-overlap", { addresses: ["192.0.2.4/30"] });
  controller = await ControllerProcess.start(
    ["--provider", "baremetal", "--kubeconfig", cluster.cp.kubeconfigPath, "--load-balancer-class", CLASS],
    cluster.cp.dir,
    "pool-status",
  );
});

afterAll(async () => {
  await controller?.stop("SIGKILL");
});

/** `kubectl get addresspools` as a user sees it: header and rows split on runs of spaces. */
async function kubectlPools(): Promise<Record<string, Record<string, string>>> {
  const { stdout } = await promisify(execFile)("kubectl", [
    "--kubeconfig",
    cluster.cp.kubeconfigPath,
    "get",
    "addresspools",
  ]);
  const [header, ...rows] = stdout.trim().split("\n");
  const columns = (header ?? "").split(/\s{2,}/);
  const out: Record<string, Record<string, string>> = {};
  for (const row of rows) {
    const cells = row.split(/\s{2,}/);
    const entry = Object.fromEntries(columns.map((c, i) => [c, cells[i] ?? ""]));
    out[entry.NAME ?? ""] = entry;
  }
  return out;
}

async function poolVersions(): Promise<Record<string, string | undefined>> {
  const list = (await cluster.cp
    .kubeConfig()
    .makeApiClient(CustomObjectsApi)
    .listClusterCustomObject({ group: "lb-operator.io", version: "v1alpha1", plural: "addresspools" })) as {
    items: { metadata: { name: string; resourceVersion?: string } }[];
  };
  return Object.fromEntries(list.items.map((o) => [o.metadata.name, o.metadata.resourceVersion]));
}

const ipOf = async (ns: string, name: string): Promise<string | undefined> =>
  (await cluster.kube.service(ns, name))?.status?.loadBalancer?.ingress?.[0]?.ip;

function inUse(metrics: string, pool: string): number | undefined {
  const line = metrics
    .split("\n")
    .find((l) => l.startsWith(`lb_operator_address_pool_addresses_in_use{pool="${pool}"}`));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(" ") + 1));
}

describe("AddressPool status and scope on the real apiserver", () => {
  it("shows refused pools as Ready=False with the reason in kubectl's columns, and an Event", async () => {
    const pools = await eventually(
      "every pool's Ready column filled",
      async () => {
        const p = await kubectlPools();
        return ["team-a", "open", "bad", "late-overlap"].every((n) => ["True", "False"].includes(p[n]?.READY ?? ""))
          ? p
          : undefined;
      },
      { timeoutMs: 30_000 },
    );
    expect(pools.bad).toMatchObject({ READY: "False", REASON: "InvalidSpec" });
    expect(pools["late-overlap"]).toMatchObject({ READY: "False", REASON: "Overlap" });
    expect(pools.open).toMatchObject({
      READY: "True",
      REASON: "Accepted",
      "ASSIGNED IPV4": "0",
      "AVAILABLE IPV4": "8",
    });
    const events = await eventually("a Warning on the bad pool", async () => {
      const list = await cluster.kube.core.listNamespacedEvent({ namespace: "default" });
      const found = list.items.filter(
        (e) => e.involvedObject.kind === "AddressPool" && e.involvedObject.name === "bad",
      );
      return found.length > 0 ? found : undefined;
    });
    expect(events[0]).toMatchObject({ type: "Warning", reason: "PoolInvalidSpec" });
    expect(events[0]?.message).toContain("host bits");
    // Written once, not on every event (our own status writes come back through the watch): no write storm.
    const before = await poolVersions();
    await delay(2_000);
    expect(await poolVersions()).toEqual(before);
  });

  it("never gives a namespace-limited pool's address to another namespace, and counts in-use addresses", async () => {
    await cluster.kube.core.createNamespacedService({ namespace: teamA, body: apiService(teamA, "a1", CLASS) });
    expect(await eventually("team-a's address", () => ipOf(teamA, "a1"))).toBe("192.0.2.0");
    await cluster.kube.core.createNamespacedService({ namespace: teamB, body: apiService(teamB, "b1", CLASS) });
    expect(await eventually("team-b's address", () => ipOf(teamB, "b1"))).toBe("198.51.100.0");

    // Asking for the pool's address, or for the pool by name, is refused with the pool and the reason.
    const asks = apiService(teamB, "b-ip", CLASS);
    asks.spec!.loadBalancerIP = "192.0.2.1";
    await cluster.kube.core.createNamespacedService({ namespace: teamB, body: asks });
    await cluster.kube.core.createNamespacedService({
      namespace: teamB,
      body: apiService(teamB, "b-pool", CLASS, tweakAnnotation("lb-operator.io/address-pool", "team-a")),
    });
    for (const name of ["b-ip", "b-pool"]) {
      const warning = await eventually(`a Warning on ${name}`, async () =>
        (await cluster.kube.events(teamB, name)).find((e) => e.type === "Warning"),
      );
      expect(warning.message).toContain(`pool team-a serves only namespaces ${teamA}, not namespace ${teamB}`);
      expect(await ipOf(teamB, name)).toBeUndefined();
    }

    const proc = controller!;
    expect(
      await eventually("in-use 1", async () => ((inUse(await proc.metrics(), "team-a") ?? 0) === 1 ? 1 : undefined)),
    ).toBe(1);
    expect(await proc.metrics()).toContain('lb_operator_address_pool_addresses_total{pool="team-a"} 8');
    expect(
      await eventually("the Assigned column", async () =>
        (await kubectlPools())["team-a"]?.["ASSIGNED IPV4"] === "1" ? true : undefined,
      ),
    ).toBe(true);

    await cluster.kube.core.deleteNamespacedService({ namespace: teamA, name: "a1" });
    expect(
      await eventually("in-use 0 after delete", async () =>
        inUse(await proc.metrics(), "team-a") === 0 ? true : undefined,
      ),
    ).toBe(true);
    expect(
      await eventually("the Assigned column back to 0", async () =>
        (await kubectlPools())["team-a"]?.["ASSIGNED IPV4"] === "0" ? true : undefined,
      ),
    ).toBe(true);
  });
});
