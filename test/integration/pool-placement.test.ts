/**
 * A pool tied to some nodes (nodeSelectors, MetalLB's L2Advertisement field on our AddressPool) in the network lab:
 * the node the election would pick for the address is outside the selector, and it never announces the address;
 * once it matches again it takes the address (so the selector, not chance, kept it out). The speakers read the
 * pool from `--address-pool-file` (the lab has no CRD); the controller allocates from its own flag pool, same range.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { CoreV1Api, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { electAnnouncer } from "../../speaker/announcer-election.js";
import { delay, eventually } from "../../testing/eventually.js";
import { type Lab, startLab } from "../env/lab/lab.js";
import { VIP_RANGE } from "../env/lab/lab-addresses.js";
import { waitForAddress } from "../env/lab/lab-controller.js";
import { type LabImplementation, startImplementation } from "../env/lab/lab-implementations.js";
import { announcerSeenByClient, nftTable, reachable } from "../env/lab/speaker-checks.js";

const NODES = ["node-1", "node-2", "node-3"];
const EXCLUDE = "lb-test.example/no-announce";
// The lab's first Service gets the lowest address of the range.
const VIP = VIP_RANGE.first;
const favourite = electAnnouncer(VIP, NODES)!;
const successor = electAnnouncer(
  VIP,
  NODES.filter((n) => n !== favourite),
)!;
let lab: Lab;
let ours: LabImplementation | undefined;

async function label(node: string, value: string | null): Promise<void> {
  await lab
    .kubeConfig()
    .makeApiClient(CoreV1Api)
    .patchNode(
      { name: node, body: { metadata: { labels: { [EXCLUDE]: value } } } },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
}

beforeAll(async () => {
  lab = await startLab({
    startSpeakers: false,
    ...(process.env.LAB_LOG_DIR ? { logDir: process.env.LAB_LOG_DIR, keepLogs: true } : {}),
  });
  const poolFile = join(lab.logDir, "placement-pools.yaml");
  const pool = {
    name: "lab",
    addresses: [`${VIP_RANGE.first}-${VIP_RANGE.last}`],
    nodeSelectors: [{ matchExpressions: [{ key: EXCLUDE, operator: "DoesNotExist" }] }],
    interfaces: ["eth0"],
  };
  writeFileSync(poolFile, JSON.stringify({ pools: [pool] }));
  await label(favourite, "true");
  ours = await startImplementation(lab, "lb-operator", { speakerArgs: ["--address-pool-file", poolFile] });
  await lab.deployService({
    name: "web",
    namespace: "placement",
    ports: [{ name: "http", port: 80, targetPort: 8080 }],
    pods: NODES.map((node, i) => ({ name: `web-${i}`, node })),
  });
});

afterAll(async () => {
  await ours?.stop();
  await lab?.teardown();
});

describe("pool placement in the lab", () => {
  it("a node outside the pool's node selector never announces its address, though the election favours it", async () => {
    expect((await waitForAddress(lab, "placement", "web")).ip).toBe(VIP);
    await reachable(lab, VIP, 80);
    for (let i = 0; i < 5; i++) {
      expect(await announcerSeenByClient(lab, VIP, 80)).toBe(successor);
      expect(await nftTable(lab, favourite)).not.toContain(VIP);
      await delay(300);
    }
    // The selector is what kept it out: once the node matches, the election gives it the address.
    await label(favourite, null);
    await eventually(
      "the favourite to take the address",
      async () => ((await announcerSeenByClient(lab, VIP, 80)) === favourite ? true : undefined),
      { timeoutMs: 15_000 },
    );
    await reachable(lab, VIP, 80);
  });
});
