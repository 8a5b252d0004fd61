/**
 * The wire checks an inbound datagram passes before it may touch a peer's record (membership.ts states the
 * contract): size, version and signature (datagram.ts), then the destination, the timestamp, the sender's name and
 * its source address. Pure, so each refusal is tested without sockets; the incarnation and sequence checks that
 * need the peer's history are peer-record.ts's.
 *
 * Clock-skew assumption: the nodes' wall clocks agree within `maxClockSkewMs` (NTP keeps them within milliseconds;
 * the default allows 30 s). A datagram whose timestamp is further than that from ours, either way, is dropped
 * (stale_timestamp), which bounds how long a captured datagram can be replayed. The check runs signed or not; an
 * unsigned timestamp proves nothing, but one rule for both modes is easier to reason about.
 */
import { MAX_DATAGRAM_BYTES, decodeHeartbeat, type Heartbeat } from "./datagram.js";
import type { DropReason } from "./drop-reasons.js";
import type { PeerRecord } from "./peer-record.js";
import { formatIP, parseIP, unmapIPv4 } from "../../src/toolkit/index.js";

export interface InboundContext {
  readonly nodeName: string;
  readonly secret: Uint8Array | undefined;
  readonly now: number;
  readonly maxClockSkewMs: number;
  readonly peers: ReadonlyMap<string, PeerRecord>;
}

export type Admission =
  | { readonly ok: true; readonly heartbeat: Heartbeat; readonly peer: PeerRecord }
  | { readonly ok: false; readonly reason: DropReason; readonly fields: Record<string, unknown> };

export function admitDatagram(msg: Uint8Array, source: string, ctx: InboundContext): Admission {
  if (msg.length > MAX_DATAGRAM_BYTES) return refuse("malformed", { from: source, bytes: msg.length });
  const decoded = decodeHeartbeat(msg, ctx.secret);
  if (!decoded.ok) return refuse(decoded.reason, { from: source, detail: decoded.detail });
  const hb = decoded.heartbeat;
  if (hb.to !== ctx.nodeName) return refuse("wrong_destination", { from: source, node: hb.node, to: hb.to });
  const skew = hb.sentAt - ctx.now;
  if (Math.abs(skew) > ctx.maxClockSkewMs) {
    return refuse("stale_timestamp", { from: source, node: hb.node, skewMs: skew, maxClockSkewMs: ctx.maxClockSkewMs });
  }
  if (hb.node === ctx.nodeName) return refuse("self_name", { from: source });
  const peer = ctx.peers.get(hb.node);
  if (!peer) return refuse("unknown_node", { from: source, node: hb.node });
  if (sourceIP(source) !== peer.ip) return refuse("wrong_source", { from: source, node: hb.node, expected: peer.ip });
  return { ok: true, heartbeat: hb, peer };
}

/** One log message per reason, so the rate-limited log says what happened in words. */
export const DROP_MESSAGES: Readonly<Record<DropReason, string>> = {
  malformed: "dropped invalid heartbeat datagram",
  unsupported_version: "dropped heartbeat of another datagram version (a speaker of another release?)",
  unsigned: "dropped unsigned heartbeat: this speaker requires signed heartbeats",
  bad_signature: "dropped heartbeat with a bad signature (forged, or a peer with another key)",
  stale_timestamp: "dropped heartbeat whose timestamp is outside the allowed clock skew (replay, or clocks apart)",
  wrong_destination: "dropped heartbeat addressed to another node",
  replayed: "dropped heartbeat of an earlier incarnation or sequence number (replay or reordering)",
  unknown_node: "dropped heartbeat from a node not in the peer list",
  wrong_source: "dropped heartbeat from a wrong address",
  self_name: "another speaker sends heartbeats under our node name",
};

function refuse(reason: DropReason, fields: Record<string, unknown>): Admission {
  return { ok: false, reason, fields };
}

/** The datagram's source in canonical form; IPv4-mapped IPv6 (a dual-stack socket) becomes plain IPv4. */
function sourceIP(address: string): string | undefined {
  const ip = parseIP(address);
  return ip === undefined ? undefined : formatIP(unmapIPv4(ip));
}
