/**
 * Failover in the lab: the announcing node dies (speaker SIGKILLed, link down) and another node takes the address
 * over with gratuitous ARP, detected through direct speaker heartbeats rather than a Kubernetes Lease. Measured over
 * 20 trials; the figures are printed (timing goals are checked by bench/failover, never asserted here).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { electAnnouncer } from "../../speaker/announcer-election.js";
import { eventually } from "../../testing/eventually.js";
import { failoverTrial, percentile } from "../env/lab/failover-trial.js";
import { type Lab, startLab } from "../env/lab/lab.js";
import { waitForAddress } from "../env/lab/lab-controller.js";
import { type LabImplementation, startImplementation } from "../env/lab/lab-implementations.js";
import { announcerSeenByClient, nftTable, reachable } from "../env/lab/speaker-checks.js";

const NODES = ["node-1", "node-2", "node-3"];
const TRIALS = 20;
let lab: Lab;
let ours: LabImplementation | undefined;
let vip: string;

beforeAll(async () => {
  lab = await startLab({
    startSpeakers: false,
    ...(process.env.LAB_LOG_DIR ? { logDir: process.env.LAB_LOG_DIR, keepLogs: true } : {}),
  });
  ours = await startImplementation(lab, "lb-operator");
  await lab.deployService({
    name: "web",
    namespace: "failover",
    ports: [{ name: "http", port: 80, targetPort: 8080 }],
    pods: NODES.map((node, i) => ({ name: `web-${i}`, node })),
  });
  vip = (await waitForAddress(lab, "failover", "web")).ip;
  await reachable(lab, vip, 80);
});

afterAll(async () => {
  await ours?.stop();
  await lab?.teardown();
});

describe("speaker failover", () => {
  it("a stopped speaker withdraws at once (rules removed, leaving heartbeat) and a restarted one rebuilds from the cluster", async () => {
    const announcer = electAnnouncer(vip, NODES)!;
    expect(await announcerSeenByClient(lab, vip, 80)).toBe(announcer);
    expect(await nftTable(lab, announcer)).toContain(vip);
    await ours!.stopSpeaker(announcer);
    expect(await nftTable(lab, announcer)).toBe("");
    const successor = electAnnouncer(
      vip,
      NODES.filter((n) => n !== announcer),
    );
    await eventually("the successor to answer", async () => (await announcerSeenByClient(lab, vip, 80)) === successor, {
      timeoutMs: 10_000,
    });
    await reachable(lab, vip, 80);

    await ours!.startSpeaker(announcer);
    await eventually(
      "the restarted speaker to take its address back",
      async () => (await announcerSeenByClient(lab, vip, 80)) === announcer,
      { timeoutMs: 15_000 },
    );
    expect(await nftTable(lab, announcer)).toContain(vip);
    await eventually(
      "the successor to withdraw its rules",
      async () => !(await nftTable(lab, successor!)).includes(vip),
      { timeoutMs: 10_000 },
    );
  });

  it(`the client reaches the VIP through another node after the announcer dies (${TRIALS} trials)`, async () => {
    const trials = [];
    for (let i = 0; i < TRIALS; i++) {
      const t = await failoverTrial(lab, ours!, vip, 80);
      expect(t.failoverMs).toBeDefined();
      expect(t.successor).toBeDefined();
      expect(t.successor).not.toBe(t.victim);
      trials.push(t);
      console.log(`trial ${i + 1}: ${t.victim} -> ${t.successor} in ${t.failoverMs} ms`);
    }
    const ms = trials.flatMap((t) => t.failoverMs ?? []).sort((a, b) => a - b);
    console.log(
      `failover over ${ms.length} trials: p50 ${percentile(ms, 50)} ms, p99 ${percentile(ms, 99)} ms, max ${ms.at(-1)} ms; ` +
        `victims ${trials.map((t) => `${t.victim}->${t.successor}`).join(" ")}`,
    );
  }, 600_000);
});
