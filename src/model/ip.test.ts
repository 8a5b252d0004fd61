import { describe, expect, it } from "vitest";
import { compareCIDRs, compareIPs, formatCIDR, formatIP, ipFamilyOf, parseCIDR, parseIP } from "./ip.js";
import type { IPAddress } from "./ip.js";

function ip(text: string): IPAddress {
  const parsed = parseIP(text);
  if (parsed === undefined) throw new Error(`bad test address ${text}`);
  return parsed;
}

describe("parseIP", () => {
  it.each([
    ["192.0.2.1", "192.0.2.1", "IPv4"],
    ["0.0.0.0", "0.0.0.0", "IPv4"],
    ["2001:DB8::1", "2001:db8::1", "IPv6"],
    ["2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1", "IPv6"],
    ["::ffff:192.0.2.1", "::ffff:c000:201", "IPv6"],
  ])("accepts %s as %s (%s)", (text, canonical, family) => {
    const parsed = ip(text);
    expect(formatIP(parsed)).toBe(canonical);
    expect(ipFamilyOf(parsed)).toBe(family);
  });

  it.each([
    ["", "empty"],
    ["10.1", "inet_aton short form"],
    ["0x0a.0.0.1", "hex octet"],
    ["010.0.0.1", "leading zero (octal to libc, decimal to Go)"],
    ["256.0.0.1", "octet out of range"],
    ["192.0.2.1/32", "a CIDR"],
    ["fe80::1%eth0", "IPv6 zone"],
    ["2001:db8::g", "bad hex"],
    [" 192.0.2.1", "untrimmed"],
  ])("rejects %j (%s)", (text) => {
    expect(parseIP(text)).toBeUndefined();
  });
});

describe("parseCIDR", () => {
  it.each([
    ["10.0.0.1/8", "10.0.0.0/8"],
    ["10.0.0.0/8", "10.0.0.0/8"],
    ["0.0.0.0/0", "0.0.0.0/0"],
    ["192.0.2.77/32", "192.0.2.77/32"],
    ["2001:DB8::1/32", "2001:db8::/32"],
    ["::/0", "::/0"],
    ["2001:db8::1/128", "2001:db8::1/128"],
  ])("%s -> %s", (text, canonical) => {
    const cidr = parseCIDR(text);
    expect(cidr && formatCIDR(cidr)).toBe(canonical);
  });

  it.each([
    "10.0.0.0",
    "10.0.0.0/33",
    "2001:db8::/129",
    "10.0.0.0/-1",
    "10.0.0.0/08",
    "10.0.0.0/",
    "/8",
    "10.0.0/8",
    "010.0.0.0/8",
    "fe80::%eth0/64",
    "10.0.0.0/8/8",
  ])("rejects %j", (text) => {
    expect(parseCIDR(text)).toBeUndefined();
  });
});

describe("ordering", () => {
  it("sorts IPv4 before IPv6, then numerically (not lexically)", () => {
    const sorted = ["2001:db8::1", "10.0.0.10", "10.0.0.9", "::1", "9.255.255.255"].map(ip).sort(compareIPs).map(formatIP);
    expect(sorted).toEqual(["9.255.255.255", "10.0.0.9", "10.0.0.10", "::1", "2001:db8::1"]);
  });

  it("sorts CIDRs by network, then shorter prefix first", () => {
    const cidrs = ["10.0.0.0/16", "10.0.0.0/8", "2001:db8::/32", "9.0.0.0/8"].map((t) => parseCIDR(t)!);
    expect(cidrs.sort(compareCIDRs).map(formatCIDR)).toEqual(["9.0.0.0/8", "10.0.0.0/8", "10.0.0.0/16", "2001:db8::/32"]);
  });
});
