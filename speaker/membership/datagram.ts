/**
 * The heartbeat datagram speakers exchange. Binary and small (about 60 bytes plus two node names, 32 more when
 * signed) so a round to every peer every 100 ms costs nothing. Layout of version 2, big-endian:
 *
 *   0  2  magic "LB"
 *   2  1  version (2)
 *   3  1  flags: bit 0 leaving, bit 1 signed, bit 2 warming (the sender has not yet settled and programmed its data
 *          path once: membership.ts candidates()); other bits are ignored so a later release can add flags
 *   4  8  incarnation: the sender's wall-clock ms when its membership started. Monotonic across the lives of one
 *          node (a process start takes far more than a millisecond), so a receiver can tell a newer life from a
 *          replayed older one by comparing numbers (peer-record.ts)
 *  12  4  sequence number, serial arithmetic (RFC 1982) so wrapping after 2^32 rounds is harmless
 *  16  8  sent at: the sender's wall-clock ms; receivers drop a datagram too far from their own clock
 *  24  1  node name length n (1..253, a DNS subdomain)
 *  25  n  node name (the sender), UTF-8
 *  25+n 1 destination length m (1..253)
 *  26+n m destination: the receiver's node name, so a datagram sent to B is no heartbeat for C
 *  26+n+m 32  HMAC-SHA256 of every byte before it under the shared key, present iff the signed flag is set
 *
 * Why version 2: version 1's MAC covered neither time nor destination, and its incarnations were random, so a
 * captured datagram could be replayed for ever, to any node, and made a receiver retire the live incarnation (issue
 * 15). The fields moved, so version 1 and 2 cannot read each other and a receiver drops the other version
 * (reason unsupported_version). During a rolling upgrade from a release that sent version 1, old and new speakers
 * therefore do not hear each other: each side elects among its own, so an address can be announced by one old and
 * one new speaker at once until the rollout ends (both forward it, clients may see ARP flap). Accepting version 1
 * would keep the replay open, and the upgrade changes the key anyway (the chart now always generates one), so an
 * unsigned version-1 fleet could not be heard either way.
 *
 * Signing follows memberlist's model (hashicorp/memberlist security.go encryptPayload: AES-GCM under a shared
 * keyring key, the packet label as associated data), reduced to authentication: heartbeats carry nothing secret.
 * memberlist leaves replays to its protocol (state.go aliveNode ignores an incarnation not above the known one);
 * here the incarnation, the timestamp and the destination inside the MAC play that part.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import type { DropReason } from "./drop-reasons.js";

export const DATAGRAM_VERSION = 2;
const MAGIC_0 = 0x4c;
const MAGIC_1 = 0x42;
const FIXED_BYTES = 25;
const MAC_BYTES = 32;
const FLAG_LEAVING = 0x01;
const FLAG_SIGNED = 0x02;
const FLAG_WARMING = 0x04;
export const MAX_NODE_NAME_BYTES = 253;
export const MAX_DATAGRAM_BYTES = FIXED_BYTES + 1 + 2 * MAX_NODE_NAME_BYTES + MAC_BYTES;

export interface Heartbeat {
  /** The sender's node name. */
  readonly node: string;
  /** The sender's wall-clock ms at its start: a later life of a node has a larger one. */
  readonly incarnation: number;
  readonly seq: number;
  readonly leaving: boolean;
  /** Not ready to announce yet (flags bit 2). */
  readonly warming: boolean;
  /** The sender's wall-clock ms when it sent this. */
  readonly sentAt: number;
  /** The receiver's node name. */
  readonly to: string;
}

export type DecodeResult =
  | { readonly ok: true; readonly heartbeat: Heartbeat }
  | { readonly ok: false; readonly reason: DropReason; readonly detail: string };

/** Encodes a heartbeat, signed when `secret` is given. Throws RangeError on a caller bug (a bad name or number). */
export function encodeHeartbeat(hb: Heartbeat, secret?: Uint8Array): Buffer {
  const name = nameBytes(hb.node, "node name");
  const to = nameBytes(hb.to, "destination");
  for (const [what, value] of [
    ["incarnation", hb.incarnation],
    ["sentAt", hb.sentAt],
  ] as const) {
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${what} must be a safe integer >= 0`);
  }
  const bodyLength = FIXED_BYTES + name.length + 1 + to.length;
  const out = Buffer.alloc(bodyLength + (secret ? MAC_BYTES : 0));
  out[0] = MAGIC_0;
  out[1] = MAGIC_1;
  out[2] = DATAGRAM_VERSION;
  out[3] = (hb.leaving ? FLAG_LEAVING : 0) | (secret ? FLAG_SIGNED : 0) | (hb.warming ? FLAG_WARMING : 0);
  out.writeBigUInt64BE(BigInt(hb.incarnation), 4);
  out.writeUInt32BE(hb.seq >>> 0, 12);
  out.writeBigUInt64BE(BigInt(hb.sentAt), 16);
  out[24] = name.length;
  name.copy(out, FIXED_BYTES);
  out[FIXED_BYTES + name.length] = to.length;
  to.copy(out, FIXED_BYTES + name.length + 1);
  if (secret) mac(secret, out.subarray(0, bodyLength)).copy(out, bodyLength);
  return out;
}

/**
 * Decodes and, when `secret` is given, verifies a datagram; nothing is read from a signed body before its MAC
 * is checked. With a secret, unsigned datagrams are rejected. Without one (the insecure mode) a signature cannot
 * be checked and is skipped. Time, destination and incarnation are the receiver's checks (membership.ts).
 */
export function decodeHeartbeat(buf: Uint8Array, secret?: Uint8Array): DecodeResult {
  const framed = frame(buf);
  if ("reason" in framed) return framed;
  const { view, bodyLength, signed } = framed;
  if (secret) {
    if (!signed) return drop("unsigned", "unsigned, but a key is configured");
    const expected = mac(secret, view.subarray(0, bodyLength));
    if (!timingSafeEqual(expected, view.subarray(bodyLength))) return drop("bad_signature", "bad signature");
  }
  return readBody(view, bodyLength);
}

interface Frame {
  readonly view: Buffer;
  /** Bytes before the MAC. */
  readonly bodyLength: number;
  readonly signed: boolean;
}

/** Magic, version, and lengths that agree with the header; nothing else is trusted yet. */
function frame(buf: Uint8Array): Frame | Extract<DecodeResult, { ok: false }> {
  if (buf[0] !== MAGIC_0 || buf[1] !== MAGIC_1 || buf.length < 3) return drop("malformed", "bad magic");
  if (buf[2] !== DATAGRAM_VERSION) return drop("unsupported_version", `unsupported version ${buf[2]}`);
  if (buf.length < FIXED_BYTES + 2) return drop("malformed", `too short (${buf.length} bytes)`);
  const view = Buffer.from(buf.buffer, buf.byteOffset, buf.length);
  const nameLength = view[24] ?? 0;
  const toLength = view[FIXED_BYTES + nameLength] ?? 0;
  const bodyLength = FIXED_BYTES + nameLength + 1 + toLength;
  const signed = ((view[3] ?? 0) & FLAG_SIGNED) !== 0;
  const expectedLength = bodyLength + (signed ? MAC_BYTES : 0);
  if (nameLength < 1 || toLength < 1 || view.length !== expectedLength) {
    return drop("malformed", `length ${view.length} does not match header (expected ${expectedLength})`);
  }
  return { view, bodyLength, signed };
}

/** The fields of a framed (and, with a key, verified) datagram. */
function readBody(view: Buffer, bodyLength: number): DecodeResult {
  const incarnation = view.readBigUInt64BE(4);
  const sentAt = view.readBigUInt64BE(16);
  if (incarnation > BigInt(Number.MAX_SAFE_INTEGER) || sentAt > BigInt(Number.MAX_SAFE_INTEGER)) {
    return drop("malformed", "incarnation or timestamp out of range");
  }
  const nameLength = view[24] ?? 0;
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let node: string;
  let to: string;
  try {
    node = decoder.decode(view.subarray(FIXED_BYTES, FIXED_BYTES + nameLength));
    to = decoder.decode(view.subarray(FIXED_BYTES + nameLength + 1, bodyLength));
  } catch {
    return drop("malformed", "node name is not UTF-8");
  }
  const flags = view[3] ?? 0;
  return {
    ok: true,
    heartbeat: {
      node,
      incarnation: Number(incarnation),
      seq: view.readUInt32BE(12),
      leaving: (flags & FLAG_LEAVING) !== 0,
      warming: (flags & FLAG_WARMING) !== 0,
      sentAt: Number(sentAt),
      to,
    },
  };
}

/** True when `seq` comes after `last` in 32-bit serial-number arithmetic (RFC 1982). */
export function seqAfter(seq: number, last: number): boolean {
  const diff = (seq - last) >>> 0;
  return diff !== 0 && diff < 0x8000_0000;
}

function nameBytes(name: string, what: string): Buffer {
  const bytes = Buffer.from(name, "utf8");
  if (bytes.length < 1 || bytes.length > MAX_NODE_NAME_BYTES) {
    throw new RangeError(`${what} must be 1..${MAX_NODE_NAME_BYTES} bytes, got ${bytes.length}`);
  }
  return bytes;
}

function drop(reason: DropReason, detail: string): Extract<DecodeResult, { ok: false }> {
  return { ok: false, reason, detail };
}

function mac(secret: Uint8Array, body: Uint8Array): Buffer {
  return createHmac("sha256", secret).update(body).digest();
}
