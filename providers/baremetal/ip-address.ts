/**
 * IP addresses as (family, bigint) pairs: the allocator does integer arithmetic on them (ranges, cursors,
 * counting), and one representation for IPv4 and IPv6 keeps that code family-agnostic.
 */
import ipaddr from "ipaddr.js";
import type { IPFamily } from "../../src/provider.js";

export interface IPAddress {
  readonly family: IPFamily;
  /** The address as an unsigned integer (32 bits for IPv4, 128 for IPv6). */
  readonly value: bigint;
}

export const FAMILY_BITS: Readonly<Record<IPFamily, number>> = { IPv4: 32, IPv6: 128 };

/**
 * Parses one address strictly: IPv4 only in four-part decimal without leading zeros (ipaddr.js would also
 * accept "127.1" and "0x7f.0.0.1", which Kubernetes rejects), IPv6 without a zone id. Returns undefined
 * for anything else, so callers word their own error.
 */
export function parseIP(text: string): IPAddress | undefined {
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) {
    return { family: "IPv4", value: bytesToBigInt(ipaddr.IPv4.parse(text).toByteArray()) };
  }
  if (!text.includes("%") && ipaddr.IPv6.isValid(text)) {
    return { family: "IPv6", value: bytesToBigInt(ipaddr.IPv6.parse(text).toByteArray()) };
  }
  return undefined;
}

/** Canonical text: dotted quad for IPv4, RFC 5952 for IPv6, so equal addresses compare equal as strings. */
export function formatIP(addr: IPAddress): string {
  const bytes = bigIntToBytes(addr.value, FAMILY_BITS[addr.family] / 8);
  if (addr.family === "IPv4") return bytes.join(".");
  const parts: number[] = [];
  for (let i = 0; i < bytes.length; i += 2) parts.push(((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0));
  return new ipaddr.IPv6(parts).toRFC5952String();
}

/** `text` in canonical form, or undefined when it is not a valid address. */
export function canonicalIP(text: string): string | undefined {
  const addr = parseIP(text);
  return addr === undefined ? undefined : formatIP(addr);
}

/**
 * IPv4 addresses ending in .0 or .255, which MetalLB's `avoidBuggyIPs` skips because they "can confuse smurf
 * protection on crappy CPE firmwares" (MLB internal/allocator/allocator.go ipConfusesBuggyFirmwares).
 * Never true for IPv6.
 */
export function isBuggyIP(addr: IPAddress): boolean {
  if (addr.family !== "IPv4") return false;
  const last = addr.value & 0xffn;
  return last === 0n || last === 0xffn;
}

function bytesToBigInt(bytes: readonly number[]): bigint {
  let value = 0n;
  for (const b of bytes) value = (value << 8n) | BigInt(b);
  return value;
}

function bigIntToBytes(value: bigint, length: number): number[] {
  const bytes = new Array<number>(length).fill(0);
  let rest = value;
  for (let i = length - 1; i >= 0; i--) {
    bytes[i] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  return bytes;
}
