import { describe, expect, it } from "vitest";
import { validatePools } from "./address-pool.js";
import { formatIPValue, parseIPValue } from "../../src/toolkit/index.js";
import { PoolIndex, isBuggyIP } from "./pool-index.js";

const ip = (text: string) => parseIPValue(text)!;

function index(
  ...pools: { name: string; addresses: string[]; autoAssign?: boolean; avoidBuggyIPs?: boolean }[]
): PoolIndex {
  return new PoolIndex(validatePools(pools, "test"));
}

describe("PoolIndex", () => {
  it("locates the pool of an address and flags avoidBuggyIPs exclusions", () => {
    const idx = index(
      { name: "b", addresses: ["192.0.2.0/24"], avoidBuggyIPs: true },
      { name: "a", addresses: ["198.51.100.10-198.51.100.20", "2001:db8::/126"] },
    );
    expect(idx.names).toEqual(["a", "b"]);
    expect(idx.locate(ip("198.51.100.15"))?.pool.name).toBe("a");
    expect(idx.locate(ip("2001:db8::3"))?.pool.name).toBe("a");
    expect(idx.locate(ip("2001:db8::4"))).toBeUndefined();
    expect(idx.locate(ip("198.51.100.21"))).toBeUndefined();
    expect(idx.locate(ip("192.0.2.0"))).toMatchObject({ excluded: true });
    expect(idx.locate(ip("192.0.2.1"))).toMatchObject({ excluded: false });
  });

  it("finds the lowest free address, skipping .0/.255 under avoidBuggyIPs", () => {
    const idx = index({ name: "lab", addresses: ["192.0.3.0/24", "192.0.2.254-192.0.2.255"], avoidBuggyIPs: true });
    const next = () => {
      const addr = idx.lowestFree("lab", "IPv4");
      if (addr !== undefined) idx.markUsed(addr);
      return addr === undefined ? undefined : formatIPValue(addr);
    };
    expect([next(), next(), next()]).toEqual(["192.0.2.254", "192.0.3.1", "192.0.3.2"]);
    idx.markFree(ip("192.0.2.254"));
    expect(next()).toBe("192.0.2.254");
    expect(idx.lowestFree("lab", "IPv6")).toBeUndefined();
    expect(idx.lowestFree("missing", "IPv4")).toBeUndefined();
  });

  it("counts capacity and use per family", () => {
    const idx = index({ name: "lab", addresses: ["192.0.2.0/24", "2001:db8::/120"], avoidBuggyIPs: true });
    expect(idx.capacity("lab", "IPv4")).toBe(254n);
    expect(idx.capacity("lab", "IPv6")).toBe(256n);
    idx.markUsed(ip("192.0.2.7"));
    idx.markUsed(ip("203.0.113.1"));
    expect(idx.usedCount("lab", "IPv4")).toBe(1);
    expect(idx.describe()).toBe("lab 192.0.2.0/24, 2001:db8::/120");
    expect(index().describe()).toBe("none configured");
  });
});

describe("isBuggyIP", () => {
  it("is true for IPv4 .0 and .255 only", () => {
    const check = (text: string) => isBuggyIP(ip(text));
    expect([
      check("192.0.2.0"),
      check("192.0.2.255"),
      check("192.0.2.1"),
      check("2001:db8::ff"),
      check("2001:db8::"),
    ]).toEqual([true, true, false, false, false]);
  });
});
