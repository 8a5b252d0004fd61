/**
 * Strict IP and CIDR parsing on top of ipaddr.js. ipaddr.js on its own accepts inet_aton forms ("10.1",
 * "0x0a.0.0.1", "010.0.0.1" read as octal) that Go's net.ParseIP rejects or reads as decimal; kube-proxy and the
 * apiserver are Go, so an address that means something else to them must be refused here, not guessed at.
 */
import ipaddr from "ipaddr.js";
import type { IPFamily } from "../provider.js";

export type IPAddress = ipaddr.IPv4 | ipaddr.IPv6;

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
