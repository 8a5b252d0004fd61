/**
 * Encoding and decoding of Ethernet II frames carrying ARP for IPv4 (RFC 826), the only kind the responder
 * reads or writes. Pure: no I/O, no allocation beyond the returned frames.
 *
 * Layout (offsets in bytes): 0 Ethernet destination, 6 Ethernet source, 12 EtherType 0x0806,
 * 14 hardware type 1, 16 protocol type 0x0800, 18 hardware length 6, 19 protocol length 4, 20 operation,
 * 22 sender MAC, 28 sender IPv4, 32 target MAC, 38 target IPv4; 42 bytes in all. Frames read from the wire
 * may carry padding up to the 60-byte Ethernet minimum, which is ignored.
 */

export const ARP_FRAME_LENGTH = 42;
export const BROADCAST_MAC = "ff:ff:ff:ff:ff:ff";
export const ARP_REQUEST = 1;
export const ARP_REPLY = 2;

const ETHERTYPE_ARP = 0x0806;
const ETHERTYPE_IPV4 = 0x0800;
const HTYPE_ETHERNET = 1;

export type ArpOperation = typeof ARP_REQUEST | typeof ARP_REPLY;

/** A decoded ARP frame. MACs are lowercase "aa:bb:cc:dd:ee:ff", addresses dotted quads. */
export interface ArpFrame {
  readonly ethernetDestination: string;
  readonly ethernetSource: string;
  readonly operation: ArpOperation;
  readonly senderMac: string;
  readonly senderIp: string;
  readonly targetMac: string;
  readonly targetIp: string;
}

const MAC_PATTERN = /^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/i;
const IPV4_PATTERN = /^(?:0|[1-9]\d{0,2})(?:\.(?:0|[1-9]\d{0,2})){3}$/;

/** The canonical lowercase form of a MAC written with colons, or undefined when it is not one. */
export function normalizeMac(text: string): string | undefined {
  return MAC_PATTERN.test(text) ? text.toLowerCase() : undefined;
}

/** True for a dotted-quad IPv4 address without leading zeros ("192.0.2.1"). */
export function isIPv4(text: string): boolean {
  return IPV4_PATTERN.test(text) && text.split(".").every((part) => Number(part) <= 255);
}

/** Decodes an Ethernet+ARP frame; undefined for any other protocol, a malformed header or a short frame. */
export function parseArpFrame(frame: Uint8Array): ArpFrame | undefined {
  if (frame.length < ARP_FRAME_LENGTH) return undefined;
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  if (view.getUint16(12) !== ETHERTYPE_ARP) return undefined;
  if (view.getUint16(14) !== HTYPE_ETHERNET || view.getUint16(16) !== ETHERTYPE_IPV4) return undefined;
  if (frame[18] !== 6 || frame[19] !== 4) return undefined;
  const operation = view.getUint16(20);
  if (operation !== ARP_REQUEST && operation !== ARP_REPLY) return undefined;
  return {
    ethernetDestination: readMac(frame, 0),
    ethernetSource: readMac(frame, 6),
    operation,
    senderMac: readMac(frame, 22),
    senderIp: readIPv4(frame, 28),
    targetMac: readMac(frame, 32),
    targetIp: readIPv4(frame, 38),
  };
}

interface ArpFields {
  readonly ethernetDestination: string;
  readonly ethernetSource: string;
  readonly operation: ArpOperation;
  readonly senderMac: string;
  readonly senderIp: string;
  readonly targetMac: string;
  readonly targetIp: string;
}

/** Encodes a 42-byte frame; throws RangeError on a malformed MAC or IPv4 address (a programming error). */
export function buildArpFrame(fields: ArpFields): Buffer {
  const frame = Buffer.alloc(ARP_FRAME_LENGTH);
  writeMac(frame, 0, fields.ethernetDestination);
  writeMac(frame, 6, fields.ethernetSource);
  frame.writeUInt16BE(ETHERTYPE_ARP, 12);
  frame.writeUInt16BE(HTYPE_ETHERNET, 14);
  frame.writeUInt16BE(ETHERTYPE_IPV4, 16);
  frame[18] = 6;
  frame[19] = 4;
  frame.writeUInt16BE(fields.operation, 20);
  writeMac(frame, 22, fields.senderMac);
  writeIPv4(frame, 28, fields.senderIp);
  writeMac(frame, 32, fields.targetMac);
  writeIPv4(frame, 38, fields.targetIp);
  return frame;
}

/**
 * The answer to `request` saying `ip` is at `ourMac`. Addressed to the asker's ARP sender MAC, as
 * mdlayher/arp Client.Reply does for MetalLB (MLB internal/layer2/arp.go).
 */
export function buildArpReply(request: ArpFrame, ourMac: string, ip: string = request.targetIp): Buffer {
  return buildArpFrame({
    ethernetDestination: request.senderMac,
    ethernetSource: ourMac,
    operation: ARP_REPLY,
    senderMac: ourMac,
    senderIp: ip,
    targetMac: request.senderMac,
    targetIp: request.senderIp,
  });
}

/**
 * The two gratuitous ARP frames MetalLB sends per round for an address (MLB internal/layer2/arp.go
 * Gratuitous): a request and a reply, both broadcast, sender = target = `ip`, target MAC broadcast.
 * Sending both covers hosts that update their cache only from one kind.
 */
export function buildGratuitousArp(ourMac: string, ip: string): readonly [request: Buffer, reply: Buffer] {
  const frame = (operation: ArpOperation): Buffer =>
    buildArpFrame({
      ethernetDestination: BROADCAST_MAC,
      ethernetSource: ourMac,
      operation,
      senderMac: ourMac,
      senderIp: ip,
      targetMac: BROADCAST_MAC,
      targetIp: ip,
    });
  return [frame(ARP_REQUEST), frame(ARP_REPLY)];
}

function readMac(frame: Uint8Array, offset: number): string {
  const parts: string[] = [];
  for (let i = 0; i < 6; i++) parts.push((frame[offset + i] ?? 0).toString(16).padStart(2, "0"));
  return parts.join(":");
}

function readIPv4(frame: Uint8Array, offset: number): string {
  return `${frame[offset] ?? 0}.${frame[offset + 1] ?? 0}.${frame[offset + 2] ?? 0}.${frame[offset + 3] ?? 0}`;
}

function writeMac(frame: Buffer, offset: number, mac: string): void {
  if (normalizeMac(mac) === undefined) throw new RangeError(`not a MAC address: ${JSON.stringify(mac)}`);
  mac.split(":").forEach((part, i) => {
    frame[offset + i] = Number.parseInt(part, 16);
  });
}

function writeIPv4(frame: Buffer, offset: number, ip: string): void {
  if (!isIPv4(ip)) throw new RangeError(`not an IPv4 address: ${JSON.stringify(ip)}`);
  ip.split(".").forEach((part, i) => {
    frame[offset + i] = Number(part);
  });
}
