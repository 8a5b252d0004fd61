import { describe, expect, it } from "vitest";
import type { Heartbeat } from "./datagram.js";
import { isCandidate, newPeerRecord, observeHeartbeat, type ObserveContext } from "./peer-record.js";

const hb = (incarnation: number, seq: number, warming = false): Heartbeat => ({
  node: "b",
  incarnation,
  seq,
  leaving: false,
  warming,
  sentAt: 0,
  to: "a",
});
const FIRST = 1_000;
const SECOND = 2_000;
const RECLAIM = 60_000;
const at = (now: number, settled = false): ObserveContext => ({ now, settled, reclaimAfterMs: RECLAIM });

describe("peer record", () => {
  it("takes a first heartbeat as news, and a replay or a reordered one as not", () => {
    const rec = newPeerRecord("192.0.2.2");
    expect(observeHeartbeat(rec, hb(FIRST, 5), at(0))).toEqual({ news: true, restarted: false, flipped: false });
    expect(observeHeartbeat(rec, hb(FIRST, 5), at(1))).toEqual({ news: false });
    expect(observeHeartbeat(rec, hb(FIRST, 4), at(2))).toEqual({ news: false });
    expect(rec.seq).toBe(5);
    expect(rec.lastHeard).toBe(0);
  });

  it("reports a restart (a higher incarnation), then ignores every earlier life, however often replayed", () => {
    const rec = newPeerRecord("192.0.2.2");
    observeHeartbeat(rec, hb(FIRST, 5), at(0));
    expect(observeHeartbeat(rec, hb(SECOND, 1), at(10, true))).toEqual({
      news: true,
      restarted: true,
      flipped: false,
    });
    for (const seq of [6, 1_000_000, 0xffff_ffff]) {
      expect(observeHeartbeat(rec, hb(FIRST, seq), at(20, true))).toEqual({ news: false });
    }
    expect(observeHeartbeat(rec, hb(SECOND - 1, 9), at(30, true))).toEqual({ news: false });
    expect(rec.incarnation).toBe(SECOND);
    expect(observeHeartbeat(rec, hb(SECOND, 2), at(40, true))).toMatchObject({ news: true, restarted: false });
  });

  it("takes a lower incarnation only after the current one has been silent longer than reclaimAfterMs", () => {
    // A node whose clock stepped back between two lives: its new incarnation is lower than the old one.
    const rec = newPeerRecord("192.0.2.2");
    observeHeartbeat(rec, hb(SECOND, 1), at(1_000));
    expect(observeHeartbeat(rec, hb(FIRST, 1), at(1_000 + RECLAIM))).toEqual({ news: false });
    expect(observeHeartbeat(rec, hb(FIRST, 2), at(1_001 + RECLAIM, true))).toEqual({
      news: true,
      restarted: true,
      flipped: false,
    });
    expect(rec.incarnation).toBe(FIRST);
    expect(observeHeartbeat(rec, hb(SECOND, 2), at(1_002 + RECLAIM, true))).toMatchObject({ restarted: true });
  });

  it("makes an incarnation first heard after we settled a late joiner, not a candidate while it warms", () => {
    const rec = newPeerRecord("192.0.2.2");
    rec.state = "alive";
    observeHeartbeat(rec, hb(FIRST, 1, true), at(0));
    expect(rec.joinedLate).toBe(false);
    expect(isCandidate(rec)).toBe(true);
    observeHeartbeat(rec, hb(SECOND, 1, true), at(1, true));
    expect(rec.joinedLate).toBe(true);
    expect(isCandidate(rec)).toBe(false);
    expect(observeHeartbeat(rec, hb(SECOND, 2, false), at(2, true))).toEqual({
      news: true,
      restarted: false,
      flipped: true,
    });
    expect(isCandidate(rec)).toBe(true);
    rec.state = "dead";
    expect(isCandidate(rec)).toBe(false);
  });
});
