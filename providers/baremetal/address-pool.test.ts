import { describe, expect, it } from "vitest";
import { describePool, parseAddressPool, poolRanges, validatePools } from "./address-pool.js";
import { InvalidPoolError } from "./baremetal-errors.js";

function problems(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof InvalidPoolError) return err.problems;
    throw err;
  }
  throw new Error("expected InvalidPoolError");
}

describe("parseAddressPool", () => {
  it("applies MetalLB's defaults and trims entries", () => {
    expect(
      parseAddressPool({ name: "lab", addresses: [" 192.0.2.100-192.0.2.120 ", "2001:db8::/120"] }, "test"),
    ).toEqual({
      name: "lab",
      addresses: ["192.0.2.100-192.0.2.120", "2001:db8::/120"],
      autoAssign: true,
      avoidBuggyIPs: false,
    });
  });

  it("names the pool, the field and the problem", () => {
    expect(
      problems(() => parseAddressPool({ name: "lab", addresses: ["192.0.2.0/24", "10.0.0.300/8"] }, "test")),
    ).toEqual(['pool "lab": addresses[1]: "10.0.0.300/8" is not a valid CIDR: "10.0.0.300" is not an IP address']);
    expect(problems(() => parseAddressPool({ name: "lab", addresses: [] }, "test"))).toEqual([
      'pool "lab": addresses: must list at least one CIDR or range',
    ]);
    expect(problems(() => parseAddressPool({ name: "Lab_1", addresses: ["192.0.2.0/24"] }, "test"))[0]).toMatch(
      /^pool "Lab_1": name: must be a DNS-1123 subdomain/,
    );
  });

  it("rejects unknown fields, which are usually typos", () => {
    expect(
      problems(() => parseAddressPool({ name: "lab", addresses: ["192.0.2.0/24"], autoassign: false }, "test")),
    ).toEqual(['pool "lab": Unrecognized key: "autoassign"']);
  });
});

describe("validatePools", () => {
  const lab = { name: "lab", addresses: ["192.0.2.0/25"] };

  it("accepts disjoint and adjacent pools of both families", () => {
    const pools = validatePools(
      [
        lab,
        { name: "next", addresses: ["192.0.2.128/25", "2001:db8::/64"] },
        { name: "v6", addresses: ["2001:db8:1::-2001:db8:1::ff"] },
      ],
      "test",
    );
    expect(pools.map((p) => p.name)).toEqual(["lab", "next", "v6"]);
  });

  it("rejects overlapping pools, naming both pools and entries", () => {
    const err = (() => {
      try {
        validatePools([lab, { name: "dev", addresses: ["192.0.2.100-192.0.2.120"] }], "pools.yaml");
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(InvalidPoolError);
    expect((err as InvalidPoolError).message).toBe(
      'invalid address pools in pools.yaml: pools "lab" (192.0.2.0/25) and "dev" (192.0.2.100-192.0.2.120) overlap',
    );
  });

  it("finds overlaps hidden behind a long earlier range, and within one pool", () => {
    expect(
      problems(() =>
        validatePools(
          [
            { name: "big", addresses: ["10.0.0.0/8"] },
            { name: "a", addresses: ["10.1.0.0/16"] },
            { name: "b", addresses: ["10.2.0.0/16"] },
          ],
          "t",
        ),
      ),
    ).toEqual([
      'pools "big" (10.0.0.0/8) and "a" (10.1.0.0/16) overlap',
      'pools "big" (10.0.0.0/8) and "b" (10.2.0.0/16) overlap',
    ]);
    expect(
      problems(() => validatePools([{ name: "lab", addresses: ["2001:db8::/120", "2001:db8::80-2001:db8::90"] }], "t")),
    ).toEqual(['pool "lab": 2001:db8::/120 and 2001:db8::80-2001:db8::90 overlap']);
  });

  it("rejects duplicate names and labels nameless pools by index", () => {
    expect(problems(() => validatePools([lab, lab], "t"))).toContain('pool "lab" is defined more than once');
    expect(problems(() => validatePools([lab, { addresses: ["198.51.100.0/24"] }], "t"))[0]).toMatch(
      /^pools\[1\]: name: /,
    );
  });
});

describe("helpers", () => {
  it("describes a pool and lists its ranges", () => {
    const pool = { name: "lab", addresses: ["192.0.2.100-192.0.2.120"], autoAssign: true, avoidBuggyIPs: false };
    expect(describePool(pool)).toBe("lab 192.0.2.100-192.0.2.120");
    expect(poolRanges(pool)).toHaveLength(1);
  });
});
