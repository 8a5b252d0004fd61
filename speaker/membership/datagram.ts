/**
 * The heartbeat datagram speakers exchange. Binary and small (about 30 bytes plus the node name, 32 more when
 * signed) so a round to every peer every 100 ms costs nothing. Layout, big-endian:
 *
 *   0  2  magic "LB"
 *   2  1  version (1)
 *   3  1  flags: bit 0 leaving, bit 1 signed, bit 2 warming; other bits are ignored so a later version can add
 *          flags. Warming (added after v1 shipped, same version number): the sender has not yet settled and
 *          programmed its data path once, so peers that were running before it appeared should not elect it yet
 *          (membership.ts candidates()). A speaker that predates the bit never sets it and is read as ready,
 *          which is what it was before: a rolling upgrade from it behaves as it always did.
 *   4  8  incarnation: random per process start, so a restarted speaker is told apart from its previous life
 *  12  4  sequence number, serial arithmetic (RFC 1982) so wrapping after 2^32 rounds is harmless
 *  16  1  node name length n (1..253, a DNS subdomain)
 *  17  n  node name, UTF-8
 *  17+n 32 HMAC-SHA256 of bytes [0, 17+n) under the shared secret, present iff the signed flag is set
 */
import { createHmac, timingSafeEqual } from "node:crypto";

export const DATAGRAM_VERSION = 1;
const MAGIC_0 = 0x4c;
const MAGIC_1 = 0x42;
const HEADER_BYTES = 17;
const MAC_BYTES = 32;
const FLAG_LEAVING = 0x01;
const FLAG_SIGNED = 0x02;
const FLAG_WARMING = 0x04;
export const INCARNATION_BYTES = 8;
export const MAX_NODE_NAME_BYTES = 253;
export const MAX_DATAGRAM_BYTES = HEADER_BYTES + MAX_NODE_NAME_BYTES + MAC_BYTES;

export interface Heartbeat {
  readonly node: string;
  /** Hex, 16 characters. */
  readonly incarnation: string;
  readonly seq: number;
  readonly leaving: boolean;
  /** Not ready to announce yet (flags bit 2); false from a speaker that predates the bit. */
  readonly warming: boolean;
}

export type DecodeResult =
  { readonly ok: true; readonly heartbeat: Heartbeat } | { readonly ok: false; readonly reason: string };

/** Encodes a heartbeat, signed when `secret` is given. Throws RangeError on a caller bug (bad name or incarnation). */
export function encodeHeartbeat(hb: Heartbeat, secret?: Uint8Array): Buffer {
  const name = Buffer.from(hb.node, "utf8");
  if (name.length < 1 || name.length > MAX_NODE_NAME_BYTES) {
    throw new RangeError(`node name must be 1..${MAX_NODE_NAME_BYTES} bytes, got ${name.length}`);
  }
  const incarnation = Buffer.from(hb.incarnation, "hex");
  if (incarnation.length !== INCARNATION_BYTES || incarnation.toString("hex") !== hb.incarnation.toLowerCase()) {
    throw new RangeError(
      `incarnation must be ${INCARNATION_BYTES * 2} hex digits, got ${JSON.stringify(hb.incarnation)}`,
    );
  }
  const bodyLength = HEADER_BYTES + name.length;
  const out = Buffer.alloc(bodyLength + (secret ? MAC_BYTES : 0));
  out[0] = MAGIC_0;
  out[1] = MAGIC_1;
  out[2] = DATAGRAM_VERSION;
  out[3] = (hb.leaving ? FLAG_LEAVING : 0) | (secret ? FLAG_SIGNED : 0) | (hb.warming ? FLAG_WARMING : 0);
  incarnation.copy(out, 4);
  out.writeUInt32BE(hb.seq >>> 0, 12);
  out[16] = name.length;
  name.copy(out, HEADER_BYTES);
  if (secret) mac(secret, out.subarray(0, bodyLength)).copy(out, bodyLength);
  return out;
}

/**
 * Decodes and, when `secret` is given, verifies a datagram. With a secret, unsigned datagrams are rejected.
 * Without one a signature cannot be checked and is skipped, so signing can be enabled on the senders first.
 */
export function decodeHeartbeat(buf: Uint8Array, secret?: Uint8Array): DecodeResult {
  if (buf.length < HEADER_BYTES + 1) return { ok: false, reason: `too short (${buf.length} bytes)` };
  if (buf[0] !== MAGIC_0 || buf[1] !== MAGIC_1) return { ok: false, reason: "bad magic" };
  if (buf[2] !== DATAGRAM_VERSION) return { ok: false, reason: `unsupported version ${buf[2]}` };
  const flags = buf[3] ?? 0;
  const nameLength = buf[16] ?? 0;
  const bodyLength = HEADER_BYTES + nameLength;
  const signed = (flags & FLAG_SIGNED) !== 0;
  const expectedLength = bodyLength + (signed ? MAC_BYTES : 0);
  if (nameLength < 1 || buf.length !== expectedLength) {
    return { ok: false, reason: `length ${buf.length} does not match header (expected ${expectedLength})` };
  }
  const view = Buffer.from(buf.buffer, buf.byteOffset, buf.length);
  if (secret) {
    if (!signed) return { ok: false, reason: "unsigned, but a secret is configured" };
    const expected = mac(secret, view.subarray(0, bodyLength));
    if (!timingSafeEqual(expected, view.subarray(bodyLength))) return { ok: false, reason: "bad signature" };
  }
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let name: string;
  try {
    name = decoder.decode(view.subarray(HEADER_BYTES, bodyLength));
  } catch {
    return { ok: false, reason: "node name is not UTF-8" };
  }
  return {
    ok: true,
    heartbeat: {
      node: name,
      incarnation: view.subarray(4, 4 + INCARNATION_BYTES).toString("hex"),
      seq: view.readUInt32BE(12),
      leaving: (flags & FLAG_LEAVING) !== 0,
      warming: (flags & FLAG_WARMING) !== 0,
    },
  };
}

/** True when `seq` comes after `last` in 32-bit serial-number arithmetic (RFC 1982). */
export function seqAfter(seq: number, last: number): boolean {
  const diff = (seq - last) >>> 0;
  return diff !== 0 && diff < 0x8000_0000;
}

function mac(secret: Uint8Array, body: Uint8Array): Buffer {
  return createHmac("sha256", secret).update(body).digest();
}
