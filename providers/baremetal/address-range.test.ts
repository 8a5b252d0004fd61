import { describe, expect, it } from "vitest";
import { buggyCount, parseAddressRange, rangeSize, type AddressRange } from "./address-range.js";

function range(entry: string): AddressRange {
  const parsed = parseAddressRange(entry);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.range;
}

function error(entry: string): string {
  const parsed = parseAddressRange(entry);
  if (parsed.ok) throw new Error(`${entry} parsed`);
  return parsed.error;
}

describe("parseAddressRange", () => {
  it("parses CIDRs and dash ranges of both families", () => {
    expect(range("192.0.2.0/24")).toMatchObject({ family: "IPv4", first: 0xc0000200n, last: 0xc00002ffn });
    expect(range(" 192.0.2.100 - 192.0.2.120 ")).toMatchObject({
      first: 0xc0000264n,
      last: 0xc0000278n,
      text: "192.0.2.100 - 192.0.2.120",
    });
    expect(rangeSize(range("2001:db8::/120"))).toBe(256n);
    expect(rangeSize(range("2001:db8::10-2001:db8::1f"))).toBe(16n);
    expect(rangeSize(range("198.51.100.7/32"))).toBe(1n);
  });

  it("rejects malformed CIDRs with the reason", () => {
    expect(error("192.0.2.300/24")).toBe('"192.0.2.300/24" is not a valid CIDR: "192.0.2.300" is not an IP address');
    expect(error("192.0.2.0/33")).toBe('"192.0.2.0/33" is not a valid CIDR: prefix length must be 0-32');
    expect(error("192.0.2.0/")).toContain("prefix length must be 0-32");
    expect(error("192.0.2.0/24/8")).toContain('expected one "/"');
    expect(error("2001:db8::/129")).toContain("prefix length must be 0-128");
  });

  it("refuses host bits instead of guessing", () => {
    expect(error("192.0.2.5/24")).toBe('"192.0.2.5/24" has host bits set; the network is 192.0.2.0/24');
  });

  it("rejects reversed and mixed-family ranges", () => {
    expect(error("192.0.2.120-192.0.2.100")).toBe(
      '"192.0.2.120-192.0.2.100" is reversed: 192.0.2.120 comes after 192.0.2.100',
    );
    expect(error("192.0.2.1-2001:db8::1")).toBe('"192.0.2.1-2001:db8::1" mixes IPv4 and IPv6');
    expect(error("192.0.2.1-192.0.2.x")).toContain('"192.0.2.x" is not an IP address');
    expect(error("192.0.2.1-192.0.2.2-192.0.2.3")).toContain('expected one "-"');
  });

  it("explains single addresses and garbage", () => {
    expect(error("192.0.2.9")).toBe('"192.0.2.9" is a single address; write it as 192.0.2.9/32');
    expect(error("lab")).toContain("is neither a CIDR");
  });
});

describe("buggyCount", () => {
  it("counts .0 and .255 in IPv4 ranges only", () => {
    expect(buggyCount(range("10.0.0.0/16"))).toBe(512n);
    expect(buggyCount(range("192.0.2.0/24"))).toBe(2n);
    expect(buggyCount(range("192.0.2.1-192.0.2.254"))).toBe(0n);
    expect(buggyCount(range("192.0.2.200-192.0.3.10"))).toBe(2n);
    expect(buggyCount(range("0.0.0.0/30"))).toBe(1n);
    expect(buggyCount(range("2001:db8::/120"))).toBe(0n);
  });
});
