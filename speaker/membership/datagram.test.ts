import { describe, expect, it } from "vitest";
import { decodeHeartbeat, encodeHeartbeat, seqAfter, type Heartbeat } from "./datagram.js";

const hb: Heartbeat = {
  node: "node-a.example",
  incarnation: 1_790_000_000_123,
  seq: 42,
  leaving: false,
  warming: false,
  sentAt: 1_790_000_005_000,
  to: "node-b.example",
};
const secret = new TextEncoder().encode("s3cret-s3cret-s3cret-s3cret-s3cret");

describe("heartbeat datagram", () => {
  it("round-trips unsigned and signed, with the leaving flag, the timestamp and the destination", () => {
    expect(decodeHeartbeat(encodeHeartbeat(hb))).toEqual({ ok: true, heartbeat: hb });
    const leaving = { ...hb, leaving: true, seq: 0xffff_ffff, sentAt: Number.MAX_SAFE_INTEGER };
    expect(decodeHeartbeat(encodeHeartbeat(leaving, secret), secret)).toEqual({ ok: true, heartbeat: leaving });
  });

  it("round-trips the warming flag, alone and with the others, signed", () => {
    const warming = { ...hb, warming: true };
    expect(decodeHeartbeat(encodeHeartbeat(warming))).toEqual({ ok: true, heartbeat: warming });
    expect(encodeHeartbeat(warming)[3]).toBe(0x04);
    const all = { ...hb, warming: true, leaving: true };
    expect(decodeHeartbeat(encodeHeartbeat(all, secret), secret)).toEqual({ ok: true, heartbeat: all });
    expect(decodeHeartbeat(encodeHeartbeat(hb))).toMatchObject({ heartbeat: { warming: false } });
  });

  it("ignores flag bits a later release might add", () => {
    const future = encodeHeartbeat(hb);
    future[3] = 0xf8;
    expect(decodeHeartbeat(future)).toMatchObject({ ok: true, heartbeat: { leaving: false, warming: false } });
  });

  it("drops a version-1 datagram (the replayable layout) as unsupported, signed or not", () => {
    // Bytes as the version-1 encoder wrote them: magic, version 1, flags, random incarnation, seq, name.
    const name = Buffer.from("old-node");
    const v1 = Buffer.concat([
      Buffer.from([0x4c, 0x42, 1, 0]),
      Buffer.from("00000000000000aa", "hex"),
      Buffer.from([0, 0, 0, 7, name.length]),
      name,
    ]);
    expect(decodeHeartbeat(v1)).toMatchObject({ ok: false, reason: "unsupported_version" });
    expect(decodeHeartbeat(v1, secret)).toMatchObject({ ok: false, reason: "unsupported_version" });
  });

  it("is small", () => {
    const names = hb.node.length + hb.to.length;
    expect(encodeHeartbeat(hb).length).toBe(26 + names);
    expect(encodeHeartbeat(hb, secret).length).toBe(26 + names + 32);
  });

  it("rejects a wrong key, a missing signature, and a tampered incarnation, timestamp or destination", () => {
    const other = new TextEncoder().encode("other-other-other-other-other-other");
    expect(decodeHeartbeat(encodeHeartbeat(hb, secret), other)).toMatchObject({ ok: false, reason: "bad_signature" });
    expect(decodeHeartbeat(encodeHeartbeat(hb), secret)).toMatchObject({ ok: false, reason: "unsigned" });
    const signed = encodeHeartbeat(hb, secret);
    // Incarnation (4..12), timestamp (16..24) and the destination's last byte: each is inside the MAC.
    for (const offset of [11, 23, signed.length - 33]) {
      const tampered = Buffer.from(signed);
      tampered[offset] = (tampered[offset] ?? 0) ^ 0x01;
      expect(decodeHeartbeat(tampered, secret)).toMatchObject({ ok: false, reason: "bad_signature" });
    }
  });

  it("accepts a signed datagram when no secret is configured", () => {
    expect(decodeHeartbeat(encodeHeartbeat(hb, secret))).toEqual({ ok: true, heartbeat: hb });
  });

  it("rejects garbage, truncation, out-of-range numbers and bad UTF-8 without throwing", () => {
    const good = encodeHeartbeat(hb);
    expect(decodeHeartbeat(Buffer.from("hello world, not a heartbeat"))).toMatchObject({ reason: "malformed" });
    expect(decodeHeartbeat(good.subarray(0, good.length - 1))).toMatchObject({ ok: false, reason: "malformed" });
    expect(decodeHeartbeat(Buffer.alloc(0))).toMatchObject({ ok: false, reason: "malformed" });
    const badName = Buffer.from(good);
    badName[25] = 0xff;
    expect(decodeHeartbeat(badName)).toMatchObject({ ok: false, reason: "malformed" });
    const badTo = Buffer.from(good);
    badTo[badTo.length - 1] = 0xff;
    expect(decodeHeartbeat(badTo)).toMatchObject({ ok: false, detail: "node name is not UTF-8" });
    const huge = Buffer.from(good);
    huge.writeBigUInt64BE(2n ** 63n, 4);
    expect(decodeHeartbeat(huge)).toMatchObject({ ok: false, detail: "incarnation or timestamp out of range" });
  });

  it("refuses to encode a bad incarnation, timestamp, name or destination", () => {
    expect(() => encodeHeartbeat({ ...hb, incarnation: -1 })).toThrow(RangeError);
    expect(() => encodeHeartbeat({ ...hb, sentAt: 1.5 })).toThrow(RangeError);
    expect(() => encodeHeartbeat({ ...hb, node: "" })).toThrow(RangeError);
    expect(() => encodeHeartbeat({ ...hb, to: "x".repeat(254) })).toThrow(RangeError);
  });

  it("compares sequence numbers across the 32-bit wrap", () => {
    expect(seqAfter(2, 1)).toBe(true);
    expect(seqAfter(1, 2)).toBe(false);
    expect(seqAfter(1, 1)).toBe(false);
    expect(seqAfter(0, 0xffff_ffff)).toBe(true);
    expect(seqAfter(0xffff_ffff, 0)).toBe(false);
  });
});
