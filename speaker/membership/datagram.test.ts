import { describe, expect, it } from "vitest";
import { decodeHeartbeat, encodeHeartbeat, seqAfter, type Heartbeat } from "./datagram.js";

const hb: Heartbeat = {
  node: "node-a.example",
  incarnation: "0123456789abcdef",
  seq: 42,
  leaving: false,
  warming: false,
};
const secret = new TextEncoder().encode("s3cret");

describe("heartbeat datagram", () => {
  it("round-trips unsigned and signed, with the leaving flag", () => {
    expect(decodeHeartbeat(encodeHeartbeat(hb))).toEqual({ ok: true, heartbeat: hb });
    const leaving = { ...hb, leaving: true, seq: 0xffff_ffff };
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

  it("reads a datagram from a speaker that predates the warming flag as ready, and ignores unknown flags", () => {
    // Bytes as a v1 encoder without the flag wrote them: magic, version 1, flags 0, incarnation, seq, name.
    const name = Buffer.from("old-node");
    const old = Buffer.concat([
      Buffer.from([0x4c, 0x42, 1, 0]),
      Buffer.from("00000000000000aa", "hex"),
      Buffer.from([0, 0, 0, 7, name.length]),
      name,
    ]);
    expect(decodeHeartbeat(old)).toEqual({
      ok: true,
      heartbeat: { node: "old-node", incarnation: "00000000000000aa", seq: 7, leaving: false, warming: false },
    });
    const future = Buffer.from(old);
    future[3] = 0xf8; // bits a later version might add
    expect(decodeHeartbeat(future)).toMatchObject({ ok: true, heartbeat: { leaving: false, warming: false } });
  });

  it("is small", () => {
    expect(encodeHeartbeat(hb).length).toBe(17 + hb.node.length);
    expect(encodeHeartbeat(hb, secret).length).toBe(17 + hb.node.length + 32);
  });

  it("rejects a wrong secret, a missing signature and a tampered body", () => {
    expect(decodeHeartbeat(encodeHeartbeat(hb, secret), new TextEncoder().encode("other"))).toMatchObject({
      ok: false,
      reason: "bad signature",
    });
    expect(decodeHeartbeat(encodeHeartbeat(hb), secret)).toMatchObject({ ok: false });
    const tampered = encodeHeartbeat(hb, secret);
    tampered[15] = 99;
    expect(decodeHeartbeat(tampered, secret)).toMatchObject({ ok: false, reason: "bad signature" });
  });

  it("accepts a signed datagram when no secret is configured", () => {
    expect(decodeHeartbeat(encodeHeartbeat(hb, secret))).toEqual({ ok: true, heartbeat: hb });
  });

  it("rejects garbage, truncation, a bad version and bad UTF-8 without throwing", () => {
    const good = encodeHeartbeat(hb);
    expect(decodeHeartbeat(Buffer.from("hello world, not a heartbeat"))).toMatchObject({ ok: false });
    expect(decodeHeartbeat(good.subarray(0, good.length - 1))).toMatchObject({ ok: false });
    expect(decodeHeartbeat(Buffer.alloc(0))).toMatchObject({ ok: false });
    const v2 = Buffer.from(good);
    v2[2] = 2;
    expect(decodeHeartbeat(v2)).toMatchObject({ ok: false, reason: "unsupported version 2" });
    const badName = Buffer.from(good);
    badName[17] = 0xff;
    expect(decodeHeartbeat(badName)).toMatchObject({ ok: false, reason: "node name is not UTF-8" });
  });

  it("refuses to encode a bad incarnation or name", () => {
    expect(() => encodeHeartbeat({ ...hb, incarnation: "xyz" })).toThrow(RangeError);
    expect(() => encodeHeartbeat({ ...hb, node: "" })).toThrow(RangeError);
  });

  it("compares sequence numbers across the 32-bit wrap", () => {
    expect(seqAfter(2, 1)).toBe(true);
    expect(seqAfter(1, 2)).toBe(false);
    expect(seqAfter(1, 1)).toBe(false);
    expect(seqAfter(0, 0xffff_ffff)).toBe(true);
    expect(seqAfter(0xffff_ffff, 0)).toBe(false);
  });
});
