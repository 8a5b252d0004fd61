/**
 * MetalLB in the lab (issue 13's CI smoke test; the long races live in the benches): its controller gives a
 * Service of its loadBalancerClass an address from the lab's pool, one of its speakers answers ARP for it, and a
 * request from the lab's client through the VIP is answered by a pod, forwarded by the node's real kube-proxy.
 * Neither our controller nor our speakers run.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readlinkSync } from "node:fs";
import { CustomObjectsApi } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../../testing/eventually.js";
import { parseIpv4 } from "../env/lab/lab-addresses.js";
import { waitForAddress } from "../env/lab/lab-controller.js";
import { type Lab, startLab, VIP_RANGE } from "../env/lab/lab.js";
import {
  type LabMetalLb,
  METALLB_LOAD_BALANCER_CLASS,
  METALLB_NAMESPACE,
  resolveMetalLbBinaries,
  startLabMetalLb,
} from "../env/lab/metallb.js";
import { announcerSeenByClient, nftTable, reachable } from "../env/lab/speaker-checks.js";

/** The nodes MetalLB's ServiceL2Status objects for the Service name (each written by a speaker announcing it). */
async function l2StatusNodes(lab: Lab, service: string): Promise<string[]> {
  const list = (await lab
    .kubeConfig()
    .makeApiClient(CustomObjectsApi)
    .listNamespacedCustomObject({
      group: "metallb.io",
      version: "v1beta1",
      namespace: METALLB_NAMESPACE,
      plural: "servicel2statuses",
      labelSelector: `metallb.io/service-name=${service}`,
    })) as { items?: { status?: { node?: string } }[] };
  return (list.items ?? []).map((i) => i.status?.node ?? "?");
}

/** Live processes running a binary from MetalLB's bin dir (the scan reads /proc; it kills nothing). */
function metalLbPids(binDir: string): number[] {
  return readdirSync("/proc")
    .filter((e) => /^\d+$/.test(e))
    .filter((pid) => {
      try {
        return readlinkSync(`/proc/${pid}/exe`).startsWith(binDir);
      } catch {
        return false;
      }
    })
    .map(Number);
}

const labNamespaces = (): string[] =>
  execFileSync("ip", ["netns", "list"], { encoding: "utf8" })
    .split("\n")
    .map((l) => l.split(" ")[0] ?? "")
    .filter((n) => n.startsWith(`lbo${process.pid}-`));

describe("MetalLB in the lab", () => {
  let lab: Lab;
  let metallb: LabMetalLb | undefined;

  beforeAll(async () => {
    lab = await startLab({ startSpeakers: false });
    metallb = await startLabMetalLb(lab);
  });

  afterAll(async () => {
    await metallb?.stop();
    await lab?.teardown();
  });

  it("gives a Service of its class an address from the pool, announces it, and kube-proxy forwards a request to a pod", async () => {
    await lab.deployService({
      name: "web",
      namespace: "metallb-smoke",
      loadBalancerClass: METALLB_LOAD_BALANCER_CLASS,
      ports: [{ name: "tcp", port: 80, targetPort: 8080 }],
      pods: lab.nodes.map((n, i) => ({ name: `web-${i}`, node: n.name })),
    });
    const { ip: vip, service } = await waitForAddress(lab, "metallb-smoke", "web", 60_000);
    const last = (ip: string): number => parseIpv4(ip)[3];
    expect(vip.split(".").slice(0, 3)).toEqual(VIP_RANGE.first.split(".").slice(0, 3));
    expect(last(vip)).toBeGreaterThanOrEqual(last(VIP_RANGE.first));
    expect(last(vip)).toBeLessThanOrEqual(last(VIP_RANGE.last));
    expect(service.metadata?.annotations?.["metallb.io/ip-allocated-from-pool"]).toBe("lab");

    const answer = await reachable(lab, vip, 80);
    expect(answer.backend).toMatch(/^web-\d$/);
    // The node the client's ARP resolved to is the one MetalLB's speakers elected and recorded, and no table of
    // ours exists anywhere: MetalLB announced, kube-proxy forwarded.
    const announcer = await announcerSeenByClient(lab, vip, 80);
    expect(lab.nodes.map((n) => n.name)).toContain(announcer);
    const statuses = await eventually("MetalLB's ServiceL2Status for web", async () => {
      const nodes = await l2StatusNodes(lab, "web");
      return nodes.length > 0 && nodes;
    });
    expect(statuses).toEqual([announcer]);
    for (const n of lab.nodes) expect(await nftTable(lab, n.name)).toBe("");
  });

  it("stop() and the lab's teardown leave no MetalLB process and no lab namespace", async () => {
    const binDir = metallb!.binDir;
    expect(metalLbPids(binDir)).toHaveLength(1 + lab.nodes.length);
    await metallb!.stop();
    await lab.teardown();
    expect(metalLbPids(binDir)).toEqual([]);
    expect(labNamespaces()).toEqual([]);
  });
});

describe("MetalLB in the lab, failing to start", () => {
  let lab: Lab;

  beforeAll(async () => {
    lab = await startLab({ startSpeakers: false });
  });

  afterAll(async () => {
    await lab?.teardown();
  });

  it("names the part that failed and its log, and leaves no MetalLB process behind", async () => {
    const binDir = await resolveMetalLbBinaries();
    // MetalLB's logging refuses an unknown level, so the controller exits at once.
    await expect(startLabMetalLb(lab, { logLevel: "chatty" })).rejects.toThrow(
      /MetalLB controller .* exited before .*metallb-controller\.log/s,
    );
    expect(metalLbPids(binDir)).toEqual([]);
  });
});
