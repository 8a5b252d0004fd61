import { describe, expect, it } from "vitest";
import type { Heartbeat } from "./datagram.js";
import { isCandidate, newPeerRecord, observeHeartbeat } from "./peer-record.js";

const hb = (incarnation: string, seq: number, warming = false): Heartbeat => ({
  node: "b",
  incarnation,
  seq,
  leaving: false,
  warming,
});
const FIRST = "00000000000000b1";
const SECOND = "00000000000000b2";

describe("peer record", () => {
  it("takes a first heartbeat as news, and a replay or a reordered one as not", () => {
    const rec = newPeerRecord("192.0.2.2");
    expect(observeHeartbeat(rec, hb(FIRST, 5), false)).toEqual({ news: true, restarted: false, flipped: false });
    expect(observeHeartbeat(rec, hb(FIRST, 5), false)).toEqual({ news: false });
    expect(observeHeartbeat(rec, hb(FIRST, 4), false)).toEqual({ news: false });
    expect(rec.seq).toBe(5);
  });

  it("reports a restart, then ignores the previous life", () => {
    const rec = newPeerRecord("192.0.2.2");
    observeHeartbeat(rec, hb(FIRST, 5), false);
    expect(observeHeartbeat(rec, hb(SECOND, 1), true)).toEqual({ news: true, restarted: true, flipped: false });
    expect(observeHeartbeat(rec, hb(FIRST, 6), true)).toEqual({ news: false });
    expect(rec.incarnation).toBe(SECOND);
  });

  it("makes an incarnation first heard after we settled a late joiner, not a candidate while it warms", () => {
    const rec = newPeerRecord("192.0.2.2");
    rec.state = "alive";
    observeHeartbeat(rec, hb(FIRST, 1, true), false);
    expect(rec.joinedLate).toBe(false);
    expect(isCandidate(rec)).toBe(true);
    observeHeartbeat(rec, hb(SECOND, 1, true), true);
    expect(rec.joinedLate).toBe(true);
    expect(isCandidate(rec)).toBe(false);
    expect(observeHeartbeat(rec, hb(SECOND, 2, false), true)).toEqual({ news: true, restarted: false, flipped: true });
    expect(isCandidate(rec)).toBe(true);
    rec.state = "dead";
    expect(isCandidate(rec)).toBe(false);
  });
});
