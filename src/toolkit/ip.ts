/**
 * The one IP module: strict IP and CIDR parsing on top of ipaddr.js, for the model, every provider and the speaker.
 * ipaddr.js on its own accepts inet_aton forms ("10.1", "0x0a.0.0.1", "010.0.0.1" read as octal) that Go's
 * net.ParseIP rejects or reads as decimal; kube-proxy, the apiserver and nft are not fooled the same way, so an
 * address that means something else to them must be refused here, not guessed at.
 *
 * Two forms: an `IPAddress` (ipaddr.js object) for parsing, matching and formatting, and an `IPValue` (family and
 * unsigned bigint) for arithmetic (ranges, cursors, counting in the bare-metal allocator), converted by
 * toBigInt/fromBigInt. SDK-free and pure, so the model imports this file directly.
 */
import ipaddr from "ipaddr.js";
import type { IPFamily } from "../provider.js";

export type IPAddress = ipaddr.IPv4 | ipaddr.IPv6;

/** An address as an unsigned integer (32 bits for IPv4, 128 for IPv6) with its family, for arithmetic. */
export interface IPValue {
  readonly family: IPFamily;
  readonly value: bigint;
}

export const FAMILY_BITS: Readonly<Record<IPFamily, number>> = { IPv4: 32, IPv6: 128 };

export interface CIDR {
  /** The network address: host bits cleared. */
  readonly address: IPAddress;
  readonly prefixLength: number;
}

const DECIMAL = /^(0|[1-9]\d*)$/;

/**
 * Parses one address. IPv4 must be four decimal parts without leading zeros (the apiserver's StrictIPCIDRValidation
 * rejects "010.0.0.1": Kubernetes' sloppy Go parser reads it as decimal, libc and ipaddr.js as octal). IPv6 must not carry a zone
 * ("fe80::1%eth0"), which Go's ParseIP rejects. Returns undefined for anything else.
 */
export function parseIP(text: string): IPAddress | undefined {
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) return ipaddr.IPv4.parse(text);
  if (text.includes(":") && !text.includes("%") && ipaddr.IPv6.isValid(text)) return ipaddr.IPv6.parse(text);
  return undefined;
}

/**
 * Parses "address/prefix" and clears the host bits, as Go's net.ParseCIDR does for the IPNet kube-proxy uses
 * (so "10.0.0.1/8" and "10.0.0.0/8" filter the same sources). Same strictness as parseIP; the prefix must be
 * decimal without leading zeros and within the family's width.
 */
export function parseCIDR(text: string): CIDR | undefined {
  const slash = text.lastIndexOf("/");
  if (slash < 0) return undefined;
  const host = parseIP(text.slice(0, slash));
  const prefixText = text.slice(slash + 1);
  if (host === undefined || !DECIMAL.test(prefixText)) return undefined;
  const prefixLength = Number(prefixText);
  const normalised = `${host.toNormalizedString()}/${prefixLength}`;
  if (host instanceof ipaddr.IPv4) {
    if (prefixLength > 32) return undefined;
    return { address: ipaddr.IPv4.networkAddressFromCIDR(normalised), prefixLength };
  }
  if (prefixLength > 128) return undefined;
  return { address: ipaddr.IPv6.networkAddressFromCIDR(normalised), prefixLength };
}

/** parseIP limited to IPv4: four decimal parts without leading zeros. */
export function parseIPv4(text: string): ipaddr.IPv4 | undefined {
  return ipaddr.IPv4.isValidFourPartDecimal(text) ? ipaddr.IPv4.parse(text) : undefined;
}

/**
 * The 32-bit value of an IPv4 address as a plain number, cheap enough for sort comparators. `text` must already
 * have passed parseIPv4; anything else gives NaN or a meaningless number.
 */
export function ipv4ToNumber(text: string): number {
  let value = 0;
  for (const part of text.split(".")) value = value * 256 + Number(part);
  return value;
}

/** Canonical text: dotted decimal for IPv4, RFC 5952 (lowercase, longest zero run compressed) for IPv6. */
export function formatIP(address: IPAddress): string {
  return address instanceof ipaddr.IPv4 ? address.toString() : address.toRFC5952String();
}

export function formatCIDR(cidr: CIDR): string {
  return `${formatIP(cidr.address)}/${cidr.prefixLength}`;
}

export function ipFamilyOf(address: IPAddress): IPFamily {
  return address instanceof ipaddr.IPv4 ? "IPv4" : "IPv6";
}

/** Total order: IPv4 before IPv6, then numerically by bytes. */
export function compareIPs(a: IPAddress, b: IPAddress): number {
  const ab = a.toByteArray();
  const bb = b.toByteArray();
  if (ab.length !== bb.length) return ab.length - bb.length;
  for (let i = 0; i < ab.length; i++) {
    const diff = (ab[i] ?? 0) - (bb[i] ?? 0);
    if (diff !== 0) return diff;
  }
  return 0;
}

/** Total order on CIDRs: by network address (compareIPs), then shorter prefix first. */
export function compareCIDRs(a: CIDR, b: CIDR): number {
  return compareIPs(a.address, b.address) || a.prefixLength - b.prefixLength;
}

/** An IPv4-mapped IPv6 address (::ffff:a.b.c.d, what a dual-stack socket reports) as plain IPv4; others unchanged. */
export function unmapIPv4(address: IPAddress): IPAddress {
  return address instanceof ipaddr.IPv6 && address.isIPv4MappedAddress() ? address.toIPv4Address() : address;
}

/** `text` in canonical form (formatIP), or undefined when it is not a valid address. */
export function canonicalIP(text: string): string | undefined {
  const address = parseIP(text);
  return address === undefined ? undefined : formatIP(address);
}

export function toBigInt(address: IPAddress): bigint {
  let value = 0n;
  for (const b of address.toByteArray()) value = (value << 8n) | BigInt(b);
  return value;
}

/** The address `value` of `family`; `value` must fit the family's width (FAMILY_BITS). */
export function fromBigInt(value: bigint, family: IPFamily): IPAddress {
  if (family === "IPv4") return new ipaddr.IPv4(toBytes(value, 4));
  const bytes = toBytes(value, 16);
  const parts: number[] = [];
  for (let i = 0; i < bytes.length; i += 2) parts.push(((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0));
  return new ipaddr.IPv6(parts);
}

/** parseIP, as an IPValue. */
export function parseIPValue(text: string): IPValue | undefined {
  const address = parseIP(text);
  return address === undefined ? undefined : { family: ipFamilyOf(address), value: toBigInt(address) };
}

/** formatIP of an IPValue: equal addresses give equal strings. */
export function formatIPValue(ip: IPValue): string {
  return formatIP(fromBigInt(ip.value, ip.family));
}

function toBytes(value: bigint, length: number): number[] {
  const bytes = new Array<number>(length).fill(0);
  let rest = value;
  for (let i = length - 1; i >= 0; i--) {
    bytes[i] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  return bytes;
}
