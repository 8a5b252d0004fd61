import { describe, expect, it } from "vitest";
import { canonicalIP, formatIP, isBuggyIP, parseIP } from "./ip-address.js";

describe("parseIP", () => {
  it("parses IPv4 and IPv6 to integers", () => {
    expect(parseIP("192.0.2.1")).toEqual({ family: "IPv4", value: 0xc0000201n });
    expect(parseIP("2001:db8::1")).toEqual({ family: "IPv6", value: (0x20010db8n << 96n) | 1n });
  });

  it.each(["127.1", "0x7f.0.0.1", "01.2.3.4", "192.0.2.256", "fe80::1%eth0", "", "example.com", "192.0.2.1/32"])(
    "rejects %j",
    (text) => {
      expect(parseIP(text)).toBeUndefined();
    },
  );
});

describe("formatIP", () => {
  it("round-trips and canonicalises (RFC 5952 for IPv6)", () => {
    expect(canonicalIP("2001:0DB8:0:0:0:0:0:0001")).toBe("2001:db8::1");
    expect(canonicalIP("192.0.2.10")).toBe("192.0.2.10");
    expect(formatIP({ family: "IPv6", value: 0n })).toBe("::");
    expect(canonicalIP("nope")).toBeUndefined();
  });
});

describe("isBuggyIP", () => {
  it("is true for IPv4 .0 and .255 only", () => {
    const check = (ip: string) => isBuggyIP(parseIP(ip)!);
    expect([check("192.0.2.0"), check("192.0.2.255"), check("192.0.2.1"), check("2001:db8::ff"), check("2001:db8::")]).toEqual([
      true,
      true,
      false,
      false,
      false,
    ]);
  });
});
