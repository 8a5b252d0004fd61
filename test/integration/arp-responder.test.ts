/**
 * The ARP responder on the real kernel: libpcap in capture child processes, veth pairs into network
 * namespaces, and arping (Debian's Thomas Habets arping 2.x; its interface flag is -i) as the client.
 *
 *   root namespace (this process)              namespace lboarp<pid>a / lboarp<pid>b
 *   lboarp<pid>a (no IP)  <--- veth --->  lboarp<pid>A  192.0.2.201/28
 *   lboarp<pid>b (no IP)  <--- veth --->  lboarp<pid>B  192.0.2.209/28
 *
 * The VIPs (192.0.2.200, .202, .203) are on no interface anywhere: only the responder can answer for them.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ArpResponder } from "../../speaker/arp/index.js";
import { eventually } from "../../testing/eventually.js";

const run = promisify(execFile);
const PID = process.pid;
const ROOT_A = `lboarp${PID}a`;
const ROOT_B = `lboarp${PID}b`;
const NS_A = `lboarp${PID}a`;
const NS_B = `lboarp${PID}b`;
const PEER_A = `lboarp${PID}A`;
const PEER_B = `lboarp${PID}B`;
const VIP = "192.0.2.200";
const GARP_VIP = "192.0.2.202";
const UNANNOUNCED = "192.0.2.203";
const STALE_MAC = "02:00:00:00:00:01";

type LogLine = { level: number; msg: string; iface?: string };
const logs: LogLine[] = [];
const logger = pino({ level: "info" }, { write: (line: string) => void logs.push(JSON.parse(line) as LogLine) });
let responder: ArpResponder | undefined;
const macs = new Map<string, string>();

async function sh(...argv: string[]): Promise<string> {
  const [cmd, ...args] = argv;
  const { stdout } = await run(cmd!, args, { timeout: 10_000 });
  return stdout;
}

async function tryCleanup(...argv: string[]): Promise<void> {
  await sh(...argv).catch(() => undefined);
}

async function linkMac(name: string): Promise<string> {
  return (await sh("cat", `/sys/class/net/${name}/address`)).trim();
}

/** One arping request from the namespace; the MAC that answered, or undefined when nobody did within 2 s. */
async function arping(ns: string, iface: string, ip: string): Promise<string | undefined> {
  try {
    const out = await sh("ip", "netns", "exec", ns, "arping", "-c", "1", "-w", "2", "-i", iface, ip);
    return /bytes from ([0-9a-f:]{17}) /i.exec(out)?.[1]?.toLowerCase();
  } catch (err) {
    // arping exits 1 when it got no reply; anything else (bad flags, missing namespace) is a test bug.
    if ((err as { code?: unknown }).code === 1) return undefined;
    throw err;
  }
}

async function neighbourMac(ns: string, iface: string, ip: string): Promise<string | undefined> {
  const out = await sh("ip", "netns", "exec", ns, "ip", "neigh", "show", ip, "dev", iface);
  return /lladdr ([0-9a-f:]{17})/.exec(out)?.[1];
}

async function addPeer(rootEnd: string, ns: string, peer: string, cidr: string): Promise<void> {
  await sh("ip", "netns", "add", ns);
  await sh("ip", "link", "add", rootEnd, "type", "veth", "peer", "name", peer, "netns", ns);
  await sh("ip", "netns", "exec", ns, "ip", "addr", "add", cidr, "dev", peer);
  await sh("ip", "netns", "exec", ns, "ip", "link", "set", peer, "up");
  await sh("ip", "link", "set", rootEnd, "up");
  macs.set(rootEnd, await linkMac(rootEnd));
}

beforeAll(async () => {
  await addPeer(ROOT_A, NS_A, PEER_A, "192.0.2.201/28");
  await addPeer(ROOT_B, NS_B, PEER_B, "192.0.2.209/28");
  responder = new ArpResponder({ logger, interfaces: [ROOT_A, ROOT_B], rescanIntervalMs: 1_000 });
  responder.start();
  await eventually("sessions on both veths", () => responder!.interfacesInUse().length === 2, { timeoutMs: 10_000 });
});

afterAll(async () => {
  await responder?.stop();
  await tryCleanup("ip", "link", "del", ROOT_A);
  await tryCleanup("ip", "link", "del", ROOT_B);
  await tryCleanup("ip", "netns", "del", NS_A);
  await tryCleanup("ip", "netns", "del", NS_B);
});

describe("ArpResponder on veth pairs", () => {
  it("(a) answers for an announced VIP with the receiving interface's MAC; the VIP is on no interface", async () => {
    responder!.setAnnounced([VIP]);
    // The capture child may still be starting: retry until the first answer, then everything is warm.
    const mac = await eventually("an ARP answer for the VIP", () => arping(NS_A, PEER_A, VIP), { timeoutMs: 15_000 });
    expect(mac).toBe(macs.get(ROOT_A));
    expect(await arping(NS_B, PEER_B, VIP)).toBe(macs.get(ROOT_B));
    expect(await sh("ip", "-4", "addr", "show", "to", VIP)).toBe("");
  });

  it("(b) leaves an address that is not announced unanswered", async () => {
    expect(await arping(NS_A, PEER_A, UNANNOUNCED)).toBeUndefined();
    expect(await arping(NS_A, PEER_A, VIP)).toBe(macs.get(ROOT_A)); // the session is alive: the silence is a choice
  });

  it("(d) gratuitous ARP on announce moves the namespace's stale neighbour entry to our MAC", async () => {
    await sh(
      "ip",
      "netns",
      "exec",
      NS_A,
      "ip",
      "neigh",
      "replace",
      GARP_VIP,
      "lladdr",
      STALE_MAC,
      "dev",
      PEER_A,
      "nud",
      "stale",
    );
    expect(await neighbourMac(NS_A, PEER_A, GARP_VIP)).toBe(STALE_MAC);
    responder!.setAnnounced([VIP, GARP_VIP]);
    await eventually(
      "the neighbour entry to switch to the responder's MAC",
      async () => (await neighbourMac(NS_A, PEER_A, GARP_VIP)) === macs.get(ROOT_A),
      { timeoutMs: 3_000, intervalMs: 50 },
    );
  });

  it("(c) stops answering after setAnnounced([])", async () => {
    responder!.setAnnounced([]);
    expect(await arping(NS_A, PEER_A, VIP)).toBeUndefined();
    expect(await arping(NS_A, PEER_A, GARP_VIP)).toBeUndefined();
  });

  it("(e) survives the deletion of an interface while announcing and keeps answering on the other", async () => {
    responder!.setAnnounced([VIP]); // starts a 5 s gratuitous ARP loop on both interfaces
    await sh("ip", "link", "del", ROOT_A);
    await eventually(
      "a warning naming the deleted interface",
      () => logs.some((l) => l.level === 40 && l.iface === ROOT_A && l.msg.includes(ROOT_A)),
      { timeoutMs: 5_000 },
    );
    await eventually("the deleted interface to leave the set in use", () =>
      responder!.interfacesInUse().join() === ROOT_B ? true : undefined,
    );
    expect(await arping(NS_B, PEER_B, VIP)).toBe(macs.get(ROOT_B));
    // Past the end of the gratuitous loop and a few rescans: still alive and still answering.
    await new Promise((r) => setTimeout(r, 5_500));
    expect(responder!.interfacesInUse()).toEqual([ROOT_B]);
    expect(await arping(NS_B, PEER_B, VIP)).toBe(macs.get(ROOT_B));
  });
});
