/**
 * Signed heartbeats in the lab (issue 15): the speakers run with the lab's key. A datagram forged without the key
 * is dropped and counted in the receiver's /metrics; a correctly signed goodbye of node-2's previous life (what an
 * eavesdropper who captured it before node-2 restarted would replay), sent to node-1 from node-2's own address
 * within the skew window, is dropped as replayed: node-1 keeps node-2 alive and the client keeps reaching the VIP
 * through the node every speaker elects. The replay is built with the lab's key here because capturing a unicast
 * datagram between two node namespaces would need a sniffer on the bridge; the bytes are the same.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { electAnnouncer } from "../../speaker/announcer-election.js";
import { encodeHeartbeat, type Heartbeat } from "../../speaker/membership/datagram.js";
import { eventually } from "../../testing/eventually.js";
import type { ControllerProcess } from "../env/controller-process.js";
import { type Lab, type LabHostHandle, SPEAKER_METRICS_PORT, startLab } from "../env/lab/lab.js";
import { startLabController, waitForAddress } from "../env/lab/lab-controller.js";
import { announcerSeenByClient, reachable } from "../env/lab/speaker-checks.js";

const NODES = ["node-1", "node-2", "node-3"];
const HEARTBEAT_PORT = 7946;
/** The speaker's default --peer-timeout. */
const PEER_TIMEOUT_MS = 500;
let lab: Lab;
let controller: ControllerProcess | undefined;
let vip: string;

beforeAll(async () => {
  lab = await startLab();
  controller = await startLabController(lab);
  await lab.deployService({
    name: "web",
    namespace: "heartbeats",
    ports: [{ name: "http", port: 80, targetPort: 8080 }],
    pods: NODES.map((node, i) => ({ name: `web-${i}`, node })),
  });
  vip = (await waitForAddress(lab, "heartbeats", "web")).ip;
  await reachable(lab, vip, 80);
});

afterAll(async () => {
  await controller?.stop();
  await lab?.teardown();
});

/** One sample of the node's speaker metrics, scraped over HTTP from the node itself. */
async function metric(node: string, name: string, labels = ""): Promise<number> {
  const n = lab.node(node);
  const res = await n.agent.httpGet(`http://${n.ip}:${SPEAKER_METRICS_PORT}/metrics`, { timeoutMs: 2_000 });
  if (res.status !== 200) throw new Error(`${node} /metrics: ${res.status ?? res.error}`);
  const line = res.body.split("\n").find((l) => l.startsWith(`${name}${labels} `));
  if (!line) throw new Error(`${node} /metrics has no ${name}${labels}`);
  return Number(line.slice(line.lastIndexOf(" ") + 1));
}

const dropped = (node: string, reason: string) =>
  metric(node, "lb_operator_speaker_heartbeats_dropped_total", `{reason="${reason}"}`);

/** Sends `datagram` from `host`, bound to `fromIp`, to `toIp`'s heartbeat port. */
async function sendFrom(host: LabHostHandle, fromIp: string, toIp: string, datagram: Buffer): Promise<void> {
  const script =
    'const d = require("node:dgram"); const [hex, src, dst, port] = process.argv.slice(1);' +
    'const s = d.createSocket("udp4"); s.bind(0, src, () => s.send(Buffer.from(hex, "hex"), Number(port), dst,' +
    " (e) => { s.close(); if (e) { console.error(e.message); process.exitCode = 1; } }));";
  await host.exec(process.execPath, ["-e", script, datagram.toString("hex"), fromIp, toIp, String(HEARTBEAT_PORT)]);
}

/** The incarnations a node's speaker logged at each start, oldest first. */
function incarnations(node: string): number[] {
  return lab
    .speakerLog(node)
    .split("\n")
    .flatMap((l) => {
      if (!l.includes('"speaker membership started"')) return [];
      const { incarnation } = JSON.parse(l) as { incarnation?: number };
      return typeof incarnation === "number" ? [incarnation] : [];
    });
}

describe("signed heartbeats in the lab", () => {
  it("a datagram forged without the key is dropped and counted as bad_signature in /metrics", async () => {
    const before = await dropped("node-1", "bad_signature");
    const forged: Heartbeat = {
      node: "node-2",
      incarnation: Date.now(),
      seq: 1,
      leaving: true,
      warming: false,
      sentAt: Date.now(),
      to: "node-1",
    };
    await sendFrom(lab.outsider, lab.outsider.ip, lab.node("node-1").ip, encodeHeartbeat(forged, randomBytes(32)));
    await eventually("the forgery counted", async () => (await dropped("node-1", "bad_signature")) === before + 1, {
      timeoutMs: 5_000,
    });
    expect(await metric("node-1", "lb_operator_speaker_live_speakers")).toBe(3);
  });

  it("a signed goodbye of node-2's previous life, replayed to node-1 from node-2's address, changes nothing", async () => {
    await lab.killSpeaker("node-2");
    await lab.startSpeaker("node-2");
    // Logged when the membership starts, which can be after /metrics answers (startSpeaker's readiness).
    const [previous, current] = await eventually("both lives of node-2 logged", () => {
      const [first, second] = incarnations("node-2");
      return first !== undefined && second !== undefined && ([first, second] as const);
    });
    expect(current).toBeGreaterThan(previous);
    const announcer = electAnnouncer(vip, NODES);
    await eventually(
      "every speaker to see three and the client to reach the elected announcer",
      async () =>
        (await Promise.all(NODES.map((n) => metric(n, "lb_operator_speaker_live_speakers")))).every((v) => v === 3) &&
        (await announcerSeenByClient(lab, vip, 80)) === announcer,
      { timeoutMs: 20_000 },
    );

    const before = await dropped("node-1", "replayed");
    const key = readFileSync(lab.heartbeatKeyFile);
    const goodbye: Heartbeat = {
      node: "node-2",
      incarnation: previous,
      seq: 0x7fff_ffff,
      leaving: true,
      warming: false,
      sentAt: Date.now(),
      to: "node-1",
    };
    const node2 = lab.node("node-2");
    const logBefore = lab.speakerLog("node-1").length;
    await sendFrom(node2, node2.ip, lab.node("node-1").ip, encodeHeartbeat(goodbye, key));
    // Several peer timeouts later node-1 has not dropped node-2, even for a moment, and the address has not moved.
    await new Promise((resolve) => setTimeout(resolve, 4 * PEER_TIMEOUT_MS));
    expect(lab.speakerLog("node-1").slice(logBefore)).not.toMatch(/"node":"node-2","from":"alive","to":"dead"/);
    expect(await metric("node-1", "lb_operator_speaker_live_speakers")).toBe(3);
    expect(await announcerSeenByClient(lab, vip, 80)).toBe(announcer);
    await eventually("the replay counted", async () => (await dropped("node-1", "replayed")) === before + 1, {
      timeoutMs: 5_000,
    });
  });
});
