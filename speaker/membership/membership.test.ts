import { randomBytes } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import {
  INTERVAL,
  MembershipHarness,
  PEERS,
  TIMEOUT,
  captureLog as capture,
  freeUdpPort,
  realDelay,
  waitFor,
} from "../../test/env/membership-harness.js";
import { FakeClock } from "../../test/fakes/fake-clock.js";
import { encodeHeartbeat } from "./datagram.js";

const h = new MembershipHarness();
afterEach(() => h.stopAll());
const make = h.make.bind(h);
const rawFrom = h.rawFrom.bind(h);

describe("SpeakerMembership (fake clock, real loopback sockets)", () => {
  const setup = async () => {
    const clock = new FakeClock();
    const port = await freeUdpPort();
    /** Advances fake time and then lets datagrams sent by the fired timers arrive for real. */
    const step = async (ms: number) => {
      clock.advance(ms);
      await realDelay(5);
    };
    return { clock, port, step };
  };

  it("three speakers see each other alive; self is always alive", async () => {
    const { clock, port, step } = await setup();
    const a = await make(port, "a", { clock });
    const b = await make(port, "b", { clock });
    const c = await make(port, "c", { clock });
    expect(a.m.state("b")).not.toBe("dead");
    await step(INTERVAL);
    await waitFor(() => [a, b, c].every((x) => x.m.alive().size === 3), "all alive");
    for (const x of [a, b, c]) expect([...x.m.alive()].sort()).toEqual(["a", "b", "c"]);
    expect(a.m.state("a")).toBe("alive");
    expect(a.m.state("nobody")).toBe("unknown");
    expect(a.changes()).toBeGreaterThan(0);
  });

  it("is settled only after timeoutMs, and says so through onChange", async () => {
    const { clock, port, step } = await setup();
    const a = await make(port, "a", { clock, peers: [] });
    await step(TIMEOUT - 1);
    expect(a.m.settled()).toBe(false);
    expect(a.changes()).toBe(0);
    await step(1);
    expect(a.m.settled()).toBe(true);
    expect(a.changes()).toBe(1);
  });

  it("detects a silently dead peer within timeoutMs + one interval, and not much earlier", async () => {
    const { clock, port, step } = await setup();
    const a = await make(port, "a", { clock });
    const b = await make(port, "b", { clock });
    const c = await make(port, "c", { clock });
    await step(INTERVAL);
    await step(INTERVAL / 2);
    await waitFor(() => a.m.state("b") === "alive" && a.m.state("c") === "alive", "b and c alive");
    const killedAt = clock.now();
    await b.m.stop({ leave: false });
    let deadAt: number | undefined;
    while (deadAt === undefined && clock.now() - killedAt <= 2 * TIMEOUT) {
      await step(10);
      if (a.m.state("b") === "dead") deadAt = clock.now();
    }
    expect(deadAt).toBeDefined();
    expect(deadAt! - killedAt).toBeLessThanOrEqual(TIMEOUT + INTERVAL);
    expect(deadAt! - killedAt).toBeGreaterThanOrEqual(TIMEOUT - INTERVAL);
    expect(c.m.state("b")).toBe("dead");
    expect([...a.m.alive()].sort()).toEqual(["a", "c"]);
  });

  it("sees a leaving peer dead at once, without any time passing", async () => {
    const { clock, port, step } = await setup();
    const a = await make(port, "a", { clock });
    const b = await make(port, "b", { clock });
    await step(INTERVAL);
    await waitFor(() => a.m.state("b") === "alive", "b alive");
    const before = a.changes();
    const t = clock.now();
    await b.m.stop();
    await waitFor(() => a.m.state("b") === "dead", "leaving to be seen");
    expect(clock.now()).toBe(t);
    expect(a.changes()).toBeGreaterThan(before);
  });

  it("drops datagrams signed with a wrong secret", async () => {
    const { clock, port, step } = await setup();
    const key = randomBytes(32);
    const a = await make(port, "a", { clock, secret: key });
    const b = await make(port, "b", { clock, secret: randomBytes(32) });
    const c = await make(port, "c", { clock, secret: key });
    await step(INTERVAL);
    await step(INTERVAL);
    await waitFor(() => a.m.state("c") === "alive" && c.m.state("a") === "alive", "a and c alive");
    expect(a.m.state("b")).toBe("unknown");
    expect(b.m.state("a")).toBe("unknown");
    expect(a.m.state("c")).toBe("alive");
    expect(c.m.state("a")).toBe("alive");
  });

  it("ignores a heartbeat from an address that is not the peer's", async () => {
    const { clock, port, step } = await setup();
    const a = await make(port, "a", { clock });
    const hb = (seq: number) =>
      encodeHeartbeat({ node: "b", incarnation: 7, seq, leaving: false, warming: false, sentAt: clock.now(), to: "a" });
    const spoofer = await rawFrom("127.0.0.9");
    await spoofer(hb(1), port);
    await step(1);
    expect(a.m.state("b")).toBe("unknown");
    const genuine = await rawFrom("127.0.0.2");
    await genuine(hb(2), port);
    await waitFor(() => a.m.state("b") === "alive", "genuine heartbeat accepted");
  });

  it("reports a restarted peer (new incarnation) and ignores its previous life", async () => {
    const { clock, port, step } = await setup();
    const a = await make(port, "a", { clock });
    const b1 = await make(port, "b", { clock });
    await step(INTERVAL);
    await waitFor(() => a.m.state("b") === "alive", "b alive");
    const first = a.m.incarnationOf("b");
    expect(first).toBe(b1.m.incarnation);
    await b1.m.stop({ leave: false });
    const before = a.changes();
    const b2 = await make(port, "b", { clock });
    await step(INTERVAL);
    await waitFor(() => a.m.incarnationOf("b") === b2.m.incarnation, "new incarnation seen");
    expect(a.m.state("b")).toBe("alive");
    expect(a.m.incarnationOf("b")).toBe(b2.m.incarnation);
    expect(b2.m.incarnation).not.toBe(first);
    expect(a.changes()).toBeGreaterThan(before);

    const replay = await rawFrom("127.0.0.2");
    await replay(
      encodeHeartbeat({
        node: "b",
        incarnation: first!,
        seq: 1_000_000,
        leaving: true,
        warming: false,
        sentAt: clock.now(),
        to: "a",
      }),
      port,
    );
    await step(1);
    expect(a.m.state("b")).toBe("alive");
    expect(a.m.incarnationOf("b")).toBe(b2.m.incarnation);
  });

  it("does not offer a peer that restarted after we settled as a candidate until it says it is ready", async () => {
    const { clock, port, step } = await setup();
    const a = await make(port, "a", { clock });
    const b1 = await make(port, "b", { clock });
    b1.m.setReady();
    await step(TIMEOUT);
    await waitFor(() => a.m.candidates().has("b"), "ready b a candidate");
    expect(a.m.settled()).toBe(true);
    await b1.m.stop();
    await waitFor(() => a.m.state("b") === "dead", "b left");
    const b2 = await make(port, "b", { clock });
    await waitFor(() => a.m.incarnationOf("b") === b2.m.incarnation, "restarted b heard");
    expect(a.m.state("b")).toBe("alive");
    expect(a.m.alive()).toEqual(new Set(["a", "b"]));
    expect(a.m.candidates()).toEqual(new Set(["a"]));
    await step(INTERVAL);
    await step(INTERVAL);
    expect(a.m.candidates()).toEqual(new Set(["a"]));
    const before = a.changes();
    const t = clock.now();
    b2.m.setReady();
    // The ready heartbeat goes out at once, not at the next interval.
    await waitFor(() => a.m.candidates().has("b"), "b a candidate once ready");
    expect(clock.now()).toBe(t);
    expect(a.changes()).toBeGreaterThan(before);
  });

  it("offers a warming peer heard while we were settling (a cold start) as a candidate", async () => {
    const { clock, port, step } = await setup();
    const a = await make(port, "a", { clock });
    const b = await make(port, "b", { clock });
    await step(INTERVAL);
    await waitFor(() => a.m.state("b") === "alive", "b alive");
    expect(a.m.settled()).toBe(false);
    await step(TIMEOUT);
    expect(a.m.settled()).toBe(true);
    await waitFor(() => a.m.state("b") === "alive", "b still alive");
    expect(a.m.candidates()).toEqual(new Set(["a", "b"]));
    expect(b.m.candidates()).toEqual(new Set(["a", "b"]));
  });

  it("takes a late joiner's candidacy from its latest heartbeat, and a pre-flag speaker as ready", async () => {
    const { clock, port, step } = await setup();
    const a = await make(port, "a", { clock, peers: PEERS.slice(0, 3) });
    await step(TIMEOUT);
    const fromB = await rawFrom("127.0.0.2");
    const fromC = await rawFrom("127.0.0.3");
    const hb = (node: string, seq: number, warming: boolean) =>
      encodeHeartbeat({ node, incarnation: 7, seq, leaving: false, warming, sentAt: clock.now(), to: "a" });
    await fromB(hb("b", 1, true), port);
    // A speaker that predates the flag never sets it: ready from its first heartbeat.
    await fromC(hb("c", 1, false), port);
    await waitFor(() => a.m.alive().size === 3, "b and c alive");
    expect(a.m.candidates()).toEqual(new Set(["a", "c"]));
    await fromB(hb("b", 2, false), port);
    await waitFor(() => a.m.candidates().has("b"), "b ready");
    // Warming again (not something a speaker does, but the flag is honoured as sent).
    await fromB(hb("b", 3, true), port);
    await waitFor(() => !a.m.candidates().has("b"), "b warming again");
    expect(a.m.state("b")).toBe("alive");
  });

  it("logs malformed datagrams at a limited rate and ignores its own name", async () => {
    const { clock, port, step } = await setup();
    const { logger, lines } = capture();
    const a = await make(port, "a", { clock, logger });
    const junk = await rawFrom("127.0.0.2");
    for (let i = 0; i < 5; i++) await junk(Buffer.from(`garbage ${i}`), port);
    await junk(
      encodeHeartbeat({ node: "a", incarnation: 7, seq: 1, leaving: false, warming: false, sentAt: 0, to: "a" }),
      port,
    );
    await step(1);
    await waitFor(() => lines.some((l) => l.msg.includes("under our node name")), "own-name datagram seen");
    expect(lines.filter((l) => l.msg === "dropped invalid heartbeat datagram")).toHaveLength(1);
    expect(lines.filter((l) => l.msg.includes("under our node name"))).toHaveLength(1);
    expect(a.m.alive()).toEqual(new Set(["a"]));
  });

  it("forgets a removed peer and reports it", async () => {
    const { clock, port, step } = await setup();
    const a = await make(port, "a", { clock });
    await make(port, "b", { clock });
    await step(INTERVAL);
    await waitFor(() => a.m.state("b") === "alive", "b alive");
    const before = a.changes();
    a.m.setPeers(PEERS.filter((p) => p.node !== "b"));
    await step(0);
    expect(a.m.state("b")).toBe("unknown");
    expect(a.changes()).toBe(before + 1);
  });
});

describe("SpeakerMembership (real time)", () => {
  it("detects an abruptly closed peer with real sockets and timers", async () => {
    const port = await freeUdpPort();
    const interval = 50;
    const timeout = 250;
    let deadSeen: number | undefined;
    const a = await make(port, "a", { interval, timeout, peers: PEERS.slice(0, 2) });
    const b = await make(port, "b", { interval, timeout, peers: PEERS.slice(0, 2) });
    await waitFor(() => a.m.state("b") === "alive" && b.m.state("a") === "alive", "both alive");
    await realDelay(3 * interval);
    expect(a.m.state("b")).toBe("alive");
    const killedAt = Date.now();
    await b.m.stop({ leave: false });
    await waitFor(
      () => {
        if (a.m.state("b") === "dead") deadSeen ??= Date.now();
        return deadSeen !== undefined;
      },
      "b dead",
      3000,
    );
    const elapsed = deadSeen! - killedAt;
    // Real timers on a shared machine: only a lower bound is safe (a peer is not declared dead early); the exact
    // bounds are checked with the fake clock above, and the end-to-end figure by bench/failover.
    expect(elapsed).toBeGreaterThanOrEqual(timeout / 2);
  });
});
