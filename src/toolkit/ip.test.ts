import { describe, expect, it } from "vitest";
import {
  FAMILY_BITS,
  canonicalIP,
  compareCIDRs,
  compareIPs,
  formatCIDR,
  formatIP,
  formatIPValue,
  fromBigInt,
  ipFamilyOf,
  ipv4ToNumber,
  parseCIDR,
  parseIP,
  parseIPValue,
  parseIPv4,
  toBigInt,
  unmapIPv4,
} from "./ip.js";
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
    const sorted = ["2001:db8::1", "10.0.0.10", "10.0.0.9", "::1", "9.255.255.255"]
      .map(ip)
      .sort(compareIPs)
      .map(formatIP);
    expect(sorted).toEqual(["9.255.255.255", "10.0.0.9", "10.0.0.10", "::1", "2001:db8::1"]);
  });

  it("sorts CIDRs by network, then shorter prefix first", () => {
    const cidrs = ["10.0.0.0/16", "10.0.0.0/8", "2001:db8::/32", "9.0.0.0/8"].map((t) => parseCIDR(t)!);
    expect(cidrs.sort(compareCIDRs).map(formatCIDR)).toEqual([
      "9.0.0.0/8",
      "10.0.0.0/8",
      "10.0.0.0/16",
      "2001:db8::/32",
    ]);
  });
});

describe("parseIPValue", () => {
  it("parses IPv4 and IPv6 to integers", () => {
    expect(parseIPValue("192.0.2.1")).toEqual({ family: "IPv4", value: 0xc0000201n });
    expect(parseIPValue("2001:db8::1")).toEqual({ family: "IPv6", value: (0x20010db8n << 96n) | 1n });
  });

  it.each(["127.1", "0x7f.0.0.1", "01.2.3.4", "192.0.2.256", "fe80::1%eth0", "", "example.com", "192.0.2.1/32"])(
    "rejects %j",
    (text) => {
      expect(parseIPValue(text)).toBeUndefined();
    },
  );
});

describe("formatIPValue and canonicalIP", () => {
  it("round-trips and canonicalises (RFC 5952 for IPv6)", () => {
    expect(canonicalIP("2001:0DB8:0:0:0:0:0:0001")).toBe("2001:db8::1");
    expect(canonicalIP("192.0.2.10")).toBe("192.0.2.10");
    expect(formatIPValue({ family: "IPv6", value: 0n })).toBe("::");
    expect(canonicalIP("nope")).toBeUndefined();
  });

  it("formats the extremes of each family", () => {
    expect(formatIPValue({ family: "IPv4", value: 0n })).toBe("0.0.0.0");
    expect(formatIPValue({ family: "IPv4", value: (1n << BigInt(FAMILY_BITS.IPv4)) - 1n })).toBe("255.255.255.255");
    expect(formatIPValue({ family: "IPv6", value: (1n << BigInt(FAMILY_BITS.IPv6)) - 1n })).toBe(
      "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
    );
  });
});

describe("toBigInt and fromBigInt", () => {
  it.each(["0.0.0.0", "192.0.2.1", "255.255.255.255", "::", "2001:db8::1", "::ffff:c000:201"])(
    "round-trip %s",
    (text) => {
      const address = ip(text);
      expect(formatIP(fromBigInt(toBigInt(address), ipFamilyOf(address)))).toBe(formatIP(address));
    },
  );

  it("keeps the family: 1 is 0.0.0.1 in IPv4 and ::1 in IPv6", () => {
    expect(formatIP(fromBigInt(1n, "IPv4"))).toBe("0.0.0.1");
    expect(formatIP(fromBigInt(1n, "IPv6"))).toBe("::1");
  });
});

describe("parseIPv4 and ipv4ToNumber", () => {
  it("accepts dotted quads only", () => {
    expect(parseIPv4("192.0.2.1")?.toString()).toBe("192.0.2.1");
    expect(parseIPv4("2001:db8::1")).toBeUndefined();
    expect(parseIPv4("010.0.0.1")).toBeUndefined();
  });

  it("orders addresses numerically, not as text", () => {
    const sorted = ["10.0.0.10", "9.255.255.255", "10.0.0.9"].sort((a, b) => ipv4ToNumber(a) - ipv4ToNumber(b));
    expect(sorted).toEqual(["9.255.255.255", "10.0.0.9", "10.0.0.10"]);
    expect(ipv4ToNumber("255.255.255.255")).toBe(2 ** 32 - 1);
  });
});

describe("unmapIPv4", () => {
  it("turns an IPv4-mapped IPv6 address into IPv4 and leaves others alone", () => {
    expect(formatIP(unmapIPv4(ip("::ffff:192.0.2.1")))).toBe("192.0.2.1");
    expect(formatIP(unmapIPv4(ip("2001:db8::1")))).toBe("2001:db8::1");
    expect(formatIP(unmapIPv4(ip("192.0.2.1")))).toBe("192.0.2.1");
  });
});
