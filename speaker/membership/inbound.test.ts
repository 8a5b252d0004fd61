import { describe, expect, it } from "vitest";
import { encodeHeartbeat, type Heartbeat } from "./datagram.js";
import { admitDatagram, type InboundContext } from "./inbound.js";
import { newPeerRecord } from "./peer-record.js";

const KEY = new Uint8Array(32).fill(7);
const NOW = 1_790_000_000_000;
const SKEW = 30_000;
const peerB = newPeerRecord("192.0.2.2");
const ctx: InboundContext = {
  nodeName: "a",
  secret: KEY,
  now: NOW,
  maxClockSkewMs: SKEW,
  peers: new Map([["b", peerB]]),
};
const hb: Heartbeat = { node: "b", incarnation: 1, seq: 1, leaving: false, warming: false, sentAt: NOW, to: "a" };
/** `key` null: unsigned. */
const admit = (over: Partial<Heartbeat>, source = "192.0.2.2", key: Uint8Array | null = KEY) =>
  admitDatagram(encodeHeartbeat({ ...hb, ...over }, key ?? undefined), source, ctx);

describe("admitDatagram", () => {
  it("admits a signed heartbeat for us, in time, from a known peer at its address (IPv4-mapped too)", () => {
    expect(admit({})).toEqual({ ok: true, heartbeat: hb, peer: peerB });
    expect(admit({}, "::ffff:192.0.2.2")).toMatchObject({ ok: true });
    expect(admit({ sentAt: NOW - SKEW })).toMatchObject({ ok: true });
    expect(admit({ sentAt: NOW + SKEW })).toMatchObject({ ok: true });
  });

  it("names the reason for each refusal", () => {
    expect(admit({ to: "c" })).toMatchObject({ ok: false, reason: "wrong_destination" });
    expect(admit({ sentAt: NOW - SKEW - 1 })).toMatchObject({ ok: false, reason: "stale_timestamp" });
    expect(admit({ sentAt: NOW + SKEW + 1 })).toMatchObject({ ok: false, reason: "stale_timestamp" });
    expect(admit({ node: "a" })).toMatchObject({ ok: false, reason: "self_name" });
    expect(admit({ node: "z" })).toMatchObject({ ok: false, reason: "unknown_node" });
    expect(admit({}, "192.0.2.9")).toMatchObject({ ok: false, reason: "wrong_source" });
    expect(admit({}, "192.0.2.2", null)).toMatchObject({ ok: false, reason: "unsigned" });
    expect(admit({}, "192.0.2.2", new Uint8Array(32))).toMatchObject({ ok: false, reason: "bad_signature" });
    expect(admitDatagram(Buffer.alloc(600, 0x4c), "192.0.2.2", ctx)).toMatchObject({ reason: "malformed" });
  });

  it("checks the signature before anything the datagram claims", () => {
    // A forgery for another node, out of time, from a stranger: the signature is what is wrong first.
    const forged = encodeHeartbeat({ ...hb, node: "z", to: "c", sentAt: 0 }, new Uint8Array(32));
    expect(admitDatagram(forged, "198.51.100.1", ctx)).toMatchObject({ ok: false, reason: "bad_signature" });
  });

  it("without a key, admits unsigned heartbeats but still checks time and destination", () => {
    const unsigned = { ...ctx, secret: undefined };
    expect(admitDatagram(encodeHeartbeat(hb), "192.0.2.2", unsigned)).toMatchObject({ ok: true });
    const late = encodeHeartbeat({ ...hb, sentAt: 0 });
    expect(admitDatagram(late, "192.0.2.2", unsigned)).toMatchObject({ reason: "stale_timestamp" });
    const elsewhere = encodeHeartbeat({ ...hb, to: "c" });
    expect(admitDatagram(elsewhere, "192.0.2.2", unsigned)).toMatchObject({ reason: "wrong_destination" });
  });
});
