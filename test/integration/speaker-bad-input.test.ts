/**
 * Bad input in the lab: an address in no pool, a port collision on a shared address, an interface that vanishes
 * under the ARP responder. Each gives a clear event or log line, nothing crashes, and other Services keep working.
 */
import { CoreV1Api } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ANNOTATION_ALLOW_SHARED_IP } from "../../providers/baremetal/annotations.js";
import { REQUESTED_IPS_ANNOTATION } from "../../src/model/annotations.js";
import { electAnnouncer } from "../../speaker/announcer-election.js";
import type { ControllerProcess } from "../env/controller-process.js";
import { eventually } from "../../testing/eventually.js";
import { type Lab, startLab } from "../env/lab/lab.js";
import { startLabController, waitForAddress } from "../env/lab/lab-controller.js";
import { reachable } from "../env/lab/speaker-checks.js";

const NODES = ["node-1", "node-2", "node-3"];
const NS = "bad";
let lab: Lab;
let controller: ControllerProcess;
let core: CoreV1Api;
let healthyVip: string;

beforeAll(async () => {
  lab = await startLab();
  controller = await startLabController(lab);
  core = lab.kubeConfig().makeApiClient(CoreV1Api);
  await lab.deployService({
    name: "healthy",
    namespace: NS,
    ports: [{ name: "http", port: 80, targetPort: 8080 }],
    pods: [{ name: "healthy-a", node: "node-1" }],
  });
  healthyVip = (await waitForAddress(lab, NS, "healthy")).ip;
  await reachable(lab, healthyVip, 80);
});

afterAll(async () => {
  await controller?.stop();
  await lab?.teardown();
});

async function warnings(name: string): Promise<string[]> {
  const events = await core.listNamespacedEvent({ namespace: NS });
  return events.items
    .filter((e) => e.involvedObject.name === name && e.type === "Warning")
    .map((e) => `${e.reason}: ${e.message}`);
}

describe("speaker: bad input", () => {
  it("an address in no pool gets a Warning event and no address; other Services are unaffected", async () => {
    const svc = await lab.deployService({
      name: "nopool",
      namespace: NS,
      annotations: { [REQUESTED_IPS_ANNOTATION]: "198.51.100.250" },
      ports: [{ name: "http", port: 80, targetPort: 8080 }],
      pods: [{ name: "nopool-a", node: "node-2" }],
    });
    const w = await eventually("a Warning for the address", async () =>
      (await warnings("nopool")).find((m) => m.includes("198.51.100.250")),
    );
    expect(w).toMatch(/is in no address pool/);
    expect((await svc.read()).status?.loadBalancer?.ingress ?? []).toEqual([]);
    await reachable(lab, healthyVip, 80);
  });

  it("a port collision on a shared address: the second Service waits with a Warning, the first keeps serving, a disjoint port shares", async () => {
    const annotations = { [ANNOTATION_ALLOW_SHARED_IP]: "team-a" };
    await lab.deployService({
      name: "share-1",
      namespace: NS,
      annotations,
      ports: [{ name: "http", port: 80, targetPort: 8080 }],
      pods: [{ name: "share-1-a", node: "node-1" }],
    });
    const first = await waitForAddress(lab, NS, "share-1");
    await lab.deployService({
      name: "share-2",
      namespace: NS,
      annotations,
      ports: [{ name: "http", port: 81, targetPort: 8081 }],
      pods: [{ name: "share-2-a", node: "node-2" }],
    });
    const second = await waitForAddress(lab, NS, "share-2");
    expect(second.ip).toBe(first.ip);
    expect((await reachable(lab, first.ip, 80)).backend).toBe("share-1-a");
    expect((await reachable(lab, first.ip, 81)).backend).toBe("share-2-a");

    // Asking for the taken address and port: MetalLB-style allocation would otherwise just pick another address.
    await lab.deployService({
      name: "share-3",
      namespace: NS,
      annotations: { ...annotations, [REQUESTED_IPS_ANNOTATION]: first.ip },
      ports: [{ name: "http", port: 80, targetPort: 8080 }],
      pods: [{ name: "share-3-a", node: "node-3" }],
    });
    const w = await eventually("a Warning about the port", async () =>
      (await warnings("share-3")).find((m) => /port/i.test(m)),
    );
    expect(w).toContain("80");
    const share3 = await core.readNamespacedService({ namespace: NS, name: "share-3" });
    expect(share3.status?.loadBalancer?.ingress ?? []).toEqual([]);
    await reachable(lab, first.ip, 80);
    await reachable(lab, healthyVip, 80);
  });

  it("an interface that vanishes under the ARP responder: a warning naming it, no crash, addresses still answered", async () => {
    const announcer = electAnnouncer(healthyVip, NODES)!;
    const node = lab.node(announcer);
    await node.exec("ip", ["link", "add", "lab0", "type", "veth", "peer", "name", "lab1"]);
    await node.exec("ip", ["link", "set", "lab1", "up"]);
    await node.exec("ip", ["link", "set", "lab0", "up"]);
    // The responder rescans interfaces every 10 s (as MetalLB does).
    const logLines = (): string[] => lab.speakerLog(announcer).split("\n");
    await eventually(
      "the speaker to answer ARP on lab0",
      () => logLines().some((l) => l.includes("answering ARP on interface") && l.includes('"lab0"')),
      { timeoutMs: 25_000 },
    );
    await node.exec("ip", ["link", "del", "lab0"]);
    await eventually(
      "a warning naming lab0",
      () => logLines().some((l) => l.includes('"level":40') && l.includes("lab0")),
      { timeoutMs: 15_000 },
    );
    expect(lab.speakerRunning(announcer)).toBe(true);
    await reachable(lab, healthyVip, 80);
  });
});
