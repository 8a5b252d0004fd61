/**
 * Issue 15's attack on signed heartbeats, over real loopback UDP with a fake clock: an eavesdropper captures node
 * a's signed datagrams (its leaving one included), a restarts, and the capture is replayed to b (and the datagrams
 * meant for c too) while a's new life runs, after b restarts, and once the clock-skew window has passed. With
 * version 1 this made b retire a's live incarnation and drop its real heartbeats, so b and c disagreed on who
 * announces. Also: a forged datagram is dropped and counted in the speaker's metric.
 */
import { randomBytes } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import {
  INTERVAL,
  MembershipHarness,
  TIMEOUT,
  freeUdpPort,
  waitFor,
  type Made,
} from "../../test/env/membership-harness.js";
import { FakeClock } from "../../test/fakes/fake-clock.js";
import { electAnnouncer } from "../announcer-election.js";
import { SpeakerMetrics } from "../speaker-metrics.js";
import { encodeHeartbeat } from "./datagram.js";
import type { SpeakerMembership } from "./membership.js";

const KEY = randomBytes(32);
/** Short, so the test can outlast it with a few fake-clock steps. */
const SKEW = 5_000;
const ADDRESSES = Array.from({ length: 16 }, (_, i) => `192.0.2.${10 + i}`);

const h = new MembershipHarness();
afterEach(() => h.stopAll());

async function setup() {
  const clock = new FakeClock();
  const port = await freeUdpPort();
  /** Advances fake time one interval at a time, letting the datagrams of each round arrive for real. */
  const step = async (ms: number) => {
    for (let left = ms; left > 0; left -= INTERVAL) {
      clock.advance(Math.min(INTERVAL, left));
      await new Promise<void>((resolve) => setTimeout(resolve, 5));
    }
  };
  const make = (node: string) => h.make(port, node, { clock, secret: KEY, maxClockSkewMs: SKEW });
  return { clock, port, step, make };
}

/**
 * Sends `bufs` from a's address to b's, then a junk datagram, and waits until `receiver` has dropped the junk: it
 * has then handled every replayed one (one socket, loopback: in order), whatever it made of them.
 */
async function replayToB(bufs: readonly Buffer[], port: number, receiver: Made): Promise<void> {
  const fromA = await h.rawFrom("127.0.0.1");
  const before = receiver.drops.get("malformed") ?? 0;
  for (const buf of bufs) await fromA(buf, port, "127.0.0.2");
  await fromA(Buffer.from("end of replay"), port, "127.0.0.2");
  await waitFor(() => receiver.drops.get("malformed") === before + 1, "the replay handled");
}

/** Who announces each address, as this membership's owner would elect it. */
const elected = (m: SpeakerMembership): string[] => ADDRESSES.map((a) => electAnnouncer(a, m.candidates()) ?? "");

describe("replayed and forged heartbeats", () => {
  it("neither kill the live speaker nor split the election: later, after the receiver restarts, and too late", async () => {
    const { clock, port, step, make } = await setup();
    // a's first life heartbeats b and c, where only eavesdroppers listen; then it stops and says it is leaving.
    const atB = await h.listenAt("127.0.0.2", port);
    const atC = await h.listenAt("127.0.0.3", port);
    const a1 = await make("a");
    await step(INTERVAL);
    await a1.m.stop();
    await waitFor(() => atB.captured.length === 3 && atC.captured.length === 3, "three datagrams each captured");
    await Promise.all([atB.close(), atC.close()]);

    await step(INTERVAL);
    const a2 = await make("a");
    const b = await make("b");
    const c = await make("c");
    expect(a2.m.incarnation).toBeGreaterThan(a1.m.incarnation);
    for (const x of [a2, b, c]) x.m.setReady();
    await step(TIMEOUT);
    await waitFor(() => [b, c].every((x) => x.m.candidates().size === 3), "b and c see all three");

    // Replayed within the skew window, from a's own address: to b as captured, and the ones meant for c to b.
    await replayToB([...atB.captured, ...atC.captured], port, b);
    expect(b.m.state("a")).toBe("alive");
    expect(b.m.incarnationOf("a")).toBe(a2.m.incarnation);
    expect(b.drops.get("replayed")).toBe(3);
    expect(b.drops.get("wrong_destination")).toBe(3);
    // a's real heartbeats are still taken: it stays alive through several timeouts.
    await step(3 * TIMEOUT);
    expect(b.m.state("a")).toBe("alive");
    expect(b.m.candidates()).toEqual(new Set(["a", "b", "c"]));
    expect(elected(b.m)).toEqual(elected(c.m));
    expect(new Set(elected(b.m)).has("a")).toBe(true);

    // b restarts (a crash: no goodbye) and the capture reaches it before a's next heartbeat does.
    await b.m.stop({ leave: false });
    const b2 = await make("b");
    await replayToB(atB.captured, port, b2);
    expect(b2.m.state("a")).toBe("dead");
    // That can only happen inside b2's settle window, in which it elects nobody (speaker.ts); a's live
    // incarnation replaces the replayed one at its next heartbeat.
    expect(b2.m.settled()).toBe(false);
    await step(INTERVAL);
    await waitFor(() => b2.m.state("a") === "alive", "a alive again at b2");
    expect(b2.m.incarnationOf("a")).toBe(a2.m.incarnation);
    await replayToB(atB.captured, port, b2);
    expect(b2.m.state("a")).toBe("alive");
    expect(b2.drops.get("replayed")).toBe(3);
    b2.m.setReady();
    await step(TIMEOUT);
    expect(b2.m.settled()).toBe(true);
    expect(b2.m.state("a")).toBe("alive");
    expect(b2.m.candidates()).toEqual(new Set(["a", "b", "c"]));
    await waitFor(() => c.m.candidates().has("b"), "c takes b's new life as a candidate once it is ready");
    expect(elected(b2.m)).toEqual(elected(c.m));

    // Past the skew window the capture is refused on its timestamp alone.
    await step(SKEW);
    expect(clock.now()).toBeGreaterThan(a1.m.incarnation + SKEW);
    await replayToB(atB.captured, port, b2);
    expect(b2.m.state("a")).toBe("alive");
    expect(b2.drops.get("stale_timestamp")).toBe(3);
    expect(elected(b2.m)).toEqual(elected(c.m));
  });

  it("drops a forged, a tampered and an unsigned datagram, counts each by reason in the speaker's metric", async () => {
    const { clock, port, step, make } = await setup();
    const metrics = new SpeakerMetrics();
    const a = await make("a");
    const b = await h.make(port, "b", {
      clock,
      secret: KEY,
      maxClockSkewMs: SKEW,
      onDrop: (reason) => metrics.heartbeatsDroppedTotal.inc({ reason }),
    });
    await step(INTERVAL);
    await waitFor(() => b.m.state("a") === "alive", "a alive");
    const goodbye = { node: "a", incarnation: a.m.incarnation + 1, seq: 1, leaving: true, warming: false, to: "b" };
    const fromA = await h.rawFrom("127.0.0.1");
    // Signed under another key: a newer incarnation saying goodbye, which b would otherwise believe.
    await fromA(encodeHeartbeat({ ...goodbye, sentAt: clock.now() }, randomBytes(32)), port, "127.0.0.2");
    // Signed under the right key, then one bit of the destination flipped ("b" -> "c").
    const tampered = encodeHeartbeat({ ...goodbye, sentAt: clock.now() }, KEY);
    tampered[tampered.length - 33] = "c".charCodeAt(0);
    await fromA(tampered, port, "127.0.0.2");
    await fromA(encodeHeartbeat({ ...goodbye, sentAt: clock.now() }), port, "127.0.0.2");
    await waitFor(() => b.drops.get("bad_signature") === 2 && b.drops.get("unsigned") === 1, "forgeries dropped");

    const scraped = await metrics.registry.metrics();
    const sample = (reason: string) =>
      scraped.match(
        new RegExp(`^lb_operator_speaker_heartbeats_dropped_total\\{reason="${reason}"\\} (\\d+)$`, "m"),
      )?.[1];
    expect(sample("bad_signature")).toBe("2");
    expect(sample("unsigned")).toBe("1");
    expect(sample("replayed")).toBe("0");
    expect(b.m.state("a")).toBe("alive");
    expect(b.m.incarnationOf("a")).toBe(a.m.incarnation);
  });
});
