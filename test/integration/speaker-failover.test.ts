/**
 * Failover in the lab: the announcing node dies (speaker SIGKILLed, link down) and another node takes the address
 * over with gratuitous ARP, detected through direct speaker heartbeats rather than a Kubernetes Lease. Measured over
 * 20 trials; the figures are printed (timing goals are checked by bench/failover, never asserted here).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { electAnnouncer } from "../../speaker/announcer-election.js";
import { eventually } from "../../testing/eventually.js";
import { failoverTrial, percentile } from "../env/lab/failover-trial.js";
import { type Lab, SPEAKER_METRICS_PORT, startLab } from "../env/lab/lab.js";
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

/** A speaker's gauge lines for `failover/web` scraped from its /metrics: `metric{labels}` -> value. */
async function speakerGauges(node: string): Promise<Map<string, number>> {
  const n = lab.node(node);
  const res = await n.agent.httpGet(`http://${n.ip}:${SPEAKER_METRICS_PORT}/metrics`, { timeoutMs: 2_000 });
  expect(res.status).toBe(200);
  const out = new Map<string, number>();
  for (const line of res.body.split("\n")) {
    const m = /^(lb_operator_speaker_(?:announced|service_\w+))\{(.*service="failover\/web".*)\} (\S+)$/.exec(line);
    if (m) out.set(`${m[1]}{${m[2]}}`, Number(m[3]));
  }
  return out;
}

/** Whether `node`'s speaker reports announcing the VIP for failover/web (lb_operator_speaker_announced = 1). */
async function announces(node: string): Promise<boolean> {
  const series = `lb_operator_speaker_announced{service="failover/web",address="${vip}",node="${node}"}`;
  return (await speakerGauges(node)).get(series) === 1;
}

afterAll(async () => {
  await ours?.stop();
  await lab?.teardown();
});

describe("speaker failover", () => {
  it("a stopped speaker withdraws at once (rules removed, leaving heartbeat) and a restarted one rebuilds from the cluster", async () => {
    const announcer = electAnnouncer(vip, NODES)!;
    expect(await announcerSeenByClient(lab, vip, 80)).toBe(announcer);
    expect(await nftTable(lab, announcer)).toContain(vip);
    const successor = electAnnouncer(
      vip,
      NODES.filter((n) => n !== announcer),
    )!;
    // The announce gauge is on the announcer only, with its backends healthy.
    await eventually("the announcer's gauge", () => announces(announcer), { timeoutMs: 10_000 });
    expect(await announces(successor)).toBe(false);
    const before = await speakerGauges(announcer);
    expect(before.get('lb_operator_speaker_service_healthy_backends{service="failover/web"}')).toBeGreaterThan(0);
    expect(before.get('lb_operator_speaker_service_no_healthy_backend{service="failover/web"}')).toBe(0);

    await ours!.stopSpeaker(announcer);
    expect(await nftTable(lab, announcer)).toBe("");
    await eventually("the successor to answer", async () => (await announcerSeenByClient(lab, vip, 80)) === successor, {
      timeoutMs: 10_000,
    });
    await reachable(lab, vip, 80);
    // The gauge moved with the address.
    expect(await announces(successor)).toBe(true);

    await ours!.startSpeaker(announcer);
    await eventually(
      "the restarted speaker to take its address back",
      async () => (await announcerSeenByClient(lab, vip, 80)) === announcer,
      { timeoutMs: 15_000 },
    );
    expect(await nftTable(lab, announcer)).toContain(vip);
    await eventually(
      "the successor to withdraw its rules",
      async () => !(await nftTable(lab, successor)).includes(vip),
      { timeoutMs: 10_000 },
    );
    // And back: the restarted announcer reports it, the successor no longer does.
    await eventually("the restarted announcer's gauge", () => announces(announcer), { timeoutMs: 10_000 });
    expect(await announces(successor)).toBe(false);
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
