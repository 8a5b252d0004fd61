import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { FakeClock } from "../../test/fakes/fake-clock.js";
import { ARP_REPLY, ARP_REQUEST, type ArpFrame, buildArpFrame, parseArpFrame } from "./arp-packet.js";
import { ArpResponder, type ArpStatsEvent } from "./arp-responder.js";
import type { ArpInterface } from "./network-interfaces.js";
import {
  CaptureError,
  InvalidAnnounceAddressError,
  type PacketHandlers,
  type PacketSession,
} from "./packet-session.js";

const VIP = "192.0.2.100";
const OTHER_VIP = "192.0.2.101";
const ASKER_MAC = "02:00:00:00:00:aa";
const ETH0: ArpInterface = { name: "eth0", ifindex: 2, mac: "02:00:00:00:00:e0", ipv4: ["192.0.2.2"] };
const ETH1: ArpInterface = { name: "eth1", ifindex: 3, mac: "02:00:00:00:00:e1", ipv4: [] };

class FakeSession implements PacketSession {
  readonly sent: ArpFrame[] = [];
  closed = false;
  sendError: Error | undefined;
  constructor(
    readonly iface: string,
    private readonly handlers: PacketHandlers,
  ) {}
  send(frame: Buffer): void {
    if (this.sendError) throw this.sendError;
    expect(frame.length).toBe(42);
    this.sent.push(parseArpFrame(frame)!);
  }
  async close(): Promise<void> {
    this.closed = true;
  }
  receive(frame: Partial<ArpFrame>): void {
    this.handlers.onFrame(buildArpFrame({ ...request(VIP), ...frame }));
  }
  fail(message: string): void {
    this.handlers.onError(new CaptureError(this.iface, message));
  }
}

const request = (targetIp: string): ArpFrame => ({
  ethernetDestination: "ff:ff:ff:ff:ff:ff",
  ethernetSource: ASKER_MAC,
  operation: ARP_REQUEST,
  senderMac: ASKER_MAC,
  senderIp: "192.0.2.10",
  targetMac: "00:00:00:00:00:00",
  targetIp,
});

/** Lets the responder's promise chains (fake listing, rescans) run to completion. */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

async function setup(interfaces: ArpInterface[] = [ETH0, ETH1], opts: { openThrows?: Set<string> } = {}) {
  const clock = new FakeClock();
  type LogLine = { level: number; msg: string; iface?: string };
  const logs: LogLine[] = [];
  const logger = pino({ level: "debug" }, { write: (line: string) => void logs.push(JSON.parse(line) as LogLine) });
  const opened: FakeSession[] = [];
  const stats: string[] = [];
  const world = { interfaces, listError: undefined as Error | undefined };
  const responder = new ArpResponder({
    logger,
    clock,
    listInterfaces: async () => {
      if (world.listError) throw world.listError;
      return world.interfaces;
    },
    openCapture: (iface, handlers) => {
      if (opts.openThrows?.has(iface)) throw new Error(`no such device ${iface}`);
      const s = new FakeSession(iface, handlers);
      opened.push(s);
      return s;
    },
    onStats: (event: ArpStatsEvent, iface) => stats.push(`${event}:${iface}`),
  });
  responder.start();
  await flush();
  const session = (name: string) => opened.filter((s) => s.iface === name).at(-1)!;
  const warnings = () => logs.filter((l) => l.level === 40);
  const tick = async (ms: number) => {
    clock.advance(ms);
    await flush();
  };
  return { clock, responder, opened, session, stats, world, warnings, tick };
}

describe("ArpResponder answering requests", () => {
  it("answers a broadcast request for an announced address from the receiving interface's MAC only", async () => {
    const { responder, session, stats } = await setup();
    responder.setAnnounced([VIP]);
    const [eth0, eth1] = [session("eth0"), session("eth1")];
    eth0.sent.length = eth1.sent.length = 0;
    stats.length = 0;

    eth1.receive({});

    expect(eth0.sent).toEqual([]);
    expect(eth1.sent).toEqual([
      {
        ethernetDestination: ASKER_MAC,
        ethernetSource: ETH1.mac,
        operation: ARP_REPLY,
        senderMac: ETH1.mac,
        senderIp: VIP,
        targetMac: ASKER_MAC,
        targetIp: "192.0.2.10",
      },
    ]);
    expect(stats).toEqual(["request:eth1", "response:eth1"]);
  });

  it("answers and spams an address limited to its pool's interfaces on those only (L2Advertisement interfaces)", async () => {
    const { responder, session } = await setup();
    responder.setAnnounced([VIP, OTHER_VIP], new Map([[VIP, ["eth1"]]]));
    const [eth0, eth1] = [session("eth0"), session("eth1")];
    // The first gratuitous round: VIP on eth1 only, OTHER_VIP (no limit) on both.
    expect(eth0.sent.map((f) => f.senderIp)).toEqual([OTHER_VIP, OTHER_VIP]);
    expect(eth1.sent.map((f) => f.senderIp).sort()).toEqual([VIP, VIP, OTHER_VIP, OTHER_VIP].sort());
    eth0.sent.length = eth1.sent.length = 0;
    eth0.receive({});
    eth1.receive({});
    expect(eth0.sent).toEqual([]);
    expect(eth1.sent.map((f) => [f.operation, f.senderIp])).toEqual([[ARP_REPLY, VIP]]);
  });

  it("answers a request unicast to the interface's own MAC (a cache refresh)", async () => {
    const { responder, session } = await setup();
    responder.setAnnounced([VIP]);
    const eth0 = session("eth0");
    eth0.sent.length = 0;
    eth0.receive({ ethernetDestination: ETH0.mac });
    expect(eth0.sent.map((f) => f.operation)).toEqual([ARP_REPLY]);
  });

  it.each<[string, Partial<ArpFrame>]>([
    ["an address that is not announced", { targetIp: "192.0.2.99" }],
    ["an ARP reply", { operation: ARP_REPLY }],
    ["a request unicast to another host's MAC", { ethernetDestination: "02:00:00:00:00:bb" }],
    [
      "our own gratuitous request seen on the way out",
      { ethernetSource: ETH0.mac, senderMac: ETH0.mac, senderIp: VIP },
    ],
  ])("ignores %s", async (_name, frame) => {
    const { responder, session, stats } = await setup();
    responder.setAnnounced([VIP]);
    const eth0 = session("eth0");
    eth0.sent.length = 0;
    stats.length = 0;
    eth0.receive(frame);
    expect(eth0.sent).toEqual([]);
    expect(stats).toEqual([]);
  });

  it("ignores frames that are not ARP", async () => {
    const { responder, session, opened } = await setup();
    responder.setAnnounced([VIP]);
    const eth0 = session("eth0");
    eth0.sent.length = 0;
    const ipv4 = buildArpFrame(request(VIP));
    ipv4.writeUInt16BE(0x0800, 12);
    (eth0 as unknown as { handlers: PacketHandlers }).handlers.onFrame(ipv4);
    (eth0 as unknown as { handlers: PacketHandlers }).handlers.onFrame(Buffer.alloc(20));
    expect(eth0.sent).toEqual([]);
    expect(opened.every((s) => !s.closed)).toBe(true);
  });

  it("stops answering a withdrawn address at once and answers the remaining one", async () => {
    const { responder, session } = await setup();
    responder.setAnnounced([VIP, OTHER_VIP]);
    responder.setAnnounced([OTHER_VIP]);
    expect(responder.announced()).toEqual([OTHER_VIP]);
    const eth0 = session("eth0");
    eth0.sent.length = 0;
    eth0.receive({ targetIp: VIP });
    eth0.receive({ targetIp: OTHER_VIP });
    expect(eth0.sent.map((f) => f.senderIp)).toEqual([OTHER_VIP]);
  });

  it("rejects a non-IPv4 address without changing the set", async () => {
    const { responder } = await setup();
    responder.setAnnounced([VIP]);
    expect(() => responder.setAnnounced([OTHER_VIP, "2001:db8::1", "nope"])).toThrow(InvalidAnnounceAddressError);
    expect(responder.announced()).toEqual([VIP]);
  });
});

describe("ArpResponder gratuitous ARP", () => {
  const garps = (s: FakeSession, ip: string) => s.sent.filter((f) => f.senderIp === ip && f.targetIp === ip);

  it("sends a request and a reply on every interface at once, then every 1100 ms for 5 s (MetalLB spamLoop)", async () => {
    const { responder, session, clock } = await setup();
    responder.setAnnounced([VIP]);
    for (const name of ["eth0", "eth1"]) {
      const mac = name === "eth0" ? ETH0.mac : ETH1.mac;
      expect(garps(session(name), VIP)).toEqual([
        expect.objectContaining({ operation: ARP_REQUEST, ethernetDestination: "ff:ff:ff:ff:ff:ff", senderMac: mac }),
        expect.objectContaining({ operation: ARP_REPLY, ethernetDestination: "ff:ff:ff:ff:ff:ff", senderMac: mac }),
      ]);
    }
    const rounds: number[] = [];
    for (let t = 100; t <= 8_000; t += 100) {
      clock.advance(100);
      rounds.push(garps(session("eth0"), VIP).length / 2);
    }
    // Rounds at 0, 1100, 2200, 3300 and 4400 ms; none from 5500 on.
    expect(rounds[1_000 / 100 - 1]).toBe(1);
    expect(rounds[1_100 / 100 - 1]).toBe(2);
    expect(rounds[4_400 / 100 - 1]).toBe(5);
    expect(rounds.at(-1)).toBe(5);
  });

  it("spams only addresses new to the set", async () => {
    const { responder, session, clock } = await setup();
    responder.setAnnounced([VIP]);
    clock.advance(10_000);
    const eth0 = session("eth0");
    eth0.sent.length = 0;
    responder.setAnnounced([OTHER_VIP, VIP]);
    expect(new Set(eth0.sent.map((f) => f.senderIp))).toEqual(new Set([OTHER_VIP]));
  });

  it("stops the loop of a withdrawn address", async () => {
    const { responder, session, clock, tick } = await setup();
    responder.setAnnounced([VIP]);
    clock.advance(1_100);
    responder.setAnnounced([]);
    const eth0 = session("eth0");
    eth0.sent.length = 0;
    await tick(10_000);
    expect(eth0.sent).toEqual([]);
    expect(clock.pendingTimers).toBe(1); // only the rescan
  });
});

describe("ArpResponder interfaces", () => {
  it("survives a failing session: warns naming it, closes it, keeps the others, reopens it on rescan", async () => {
    const { responder, session, tick, warnings, opened } = await setup();
    responder.setAnnounced([VIP]);
    const dead = session("eth1");
    dead.fail("capture process exited with signal SIGABRT");

    expect(dead.closed).toBe(true);
    expect(responder.interfacesInUse()).toEqual(["eth0"]);
    expect(warnings()).toHaveLength(1);
    expect(warnings()[0]).toMatchObject({ iface: "eth1" });
    expect(warnings()[0]?.msg).toContain("interface eth1");
    const eth0 = session("eth0");
    eth0.sent.length = 0;
    eth0.receive({});
    expect(eth0.sent.map((f) => f.operation)).toEqual([ARP_REPLY]);

    dead.receive({}); // a late frame from the dead session is ignored
    expect(dead.sent.filter((f) => f.operation === ARP_REPLY && f.targetIp === "192.0.2.10")).toEqual([]);

    await tick(10_000);
    expect(responder.interfacesInUse()).toEqual(["eth0", "eth1"]);
    const reopened = session("eth1");
    expect(reopened).not.toBe(dead);
    expect(opened.length).toBe(3);
    // The reopened interface gets a gratuitous round for what is announced.
    expect(reopened.sent.map((f) => [f.operation, f.senderIp, f.targetIp])).toEqual([
      [ARP_REQUEST, VIP, VIP],
      [ARP_REPLY, VIP, VIP],
    ]);
  });

  it("treats a send that throws like a failed session", async () => {
    const { responder, session, warnings } = await setup();
    const eth0 = session("eth0");
    eth0.sendError = new Error("send failed: No such device");
    expect(() => responder.setAnnounced([VIP])).not.toThrow();
    expect(eth0.closed).toBe(true);
    expect(responder.interfacesInUse()).toEqual(["eth1"]);
    expect(warnings().map((w) => w.iface)).toEqual(["eth0"]);
    expect(session("eth1").sent.length).toBe(2);
  });

  it("picks up a new interface on rescan with a gratuitous round, and drops one that went away", async () => {
    const { responder, session, tick, world } = await setup([ETH0]);
    responder.setAnnounced([VIP]);
    const eth0 = session("eth0");
    world.interfaces = [ETH1];
    await tick(10_000);
    expect(responder.interfacesInUse()).toEqual(["eth1"]);
    expect(eth0.closed).toBe(true);
    expect(session("eth1").sent.map((f) => f.operation)).toEqual([ARP_REQUEST, ARP_REPLY]);
  });

  it("reopens an interface that was re-created under the same name", async () => {
    const { session, tick, world } = await setup([ETH0]);
    const first = session("eth0");
    world.interfaces = [{ ...ETH0, ifindex: 42 }];
    await tick(10_000);
    expect(first.closed).toBe(true);
    expect(session("eth0")).not.toBe(first);
    expect(session("eth0").closed).toBe(false);
  });

  it("keeps its sessions when listing interfaces fails, and retries later", async () => {
    const { responder, tick, world, warnings } = await setup();
    world.listError = new Error("EMFILE");
    await tick(10_000);
    expect(responder.interfacesInUse()).toEqual(["eth0", "eth1"]);
    expect(warnings()).toHaveLength(1);
    world.listError = undefined;
    world.interfaces = [ETH0];
    await tick(10_000);
    expect(responder.interfacesInUse()).toEqual(["eth0"]);
  });

  it("warns and retries when a session cannot be opened", async () => {
    const openThrows = new Set(["eth1"]);
    const { responder, tick, warnings } = await setup([ETH0, ETH1], { openThrows });
    expect(responder.interfacesInUse()).toEqual(["eth0"]);
    expect(warnings()).toEqual([expect.objectContaining({ iface: "eth1" })]);
    openThrows.clear();
    await tick(10_000);
    expect(responder.interfacesInUse()).toEqual(["eth0", "eth1"]);
  });

  it("stop() closes every session, clears every timer and answers nothing afterwards", async () => {
    const { responder, opened, clock, session } = await setup();
    responder.setAnnounced([VIP]);
    await responder.stop();
    expect(opened.every((s) => s.closed)).toBe(true);
    expect(responder.interfacesInUse()).toEqual([]);
    expect(clock.pendingTimers).toBe(0);
    const eth0 = session("eth0");
    eth0.sent.length = 0;
    eth0.receive({});
    responder.setAnnounced([OTHER_VIP]);
    clock.advance(20_000);
    expect(eth0.sent).toEqual([]);
    expect(opened).toHaveLength(2);
  });
});
