import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InvalidPoolError } from "./baremetal-errors.js";
import { loadPoolFile, loadPools, parsePoolDocument, parsePoolFlags } from "./pool-config.js";

describe("parsePoolDocument", () => {
  it("reads YAML with defaults", () => {
    const yaml = [
      "pools:",
      "  - name: lab",
      "    addresses: [192.0.2.100-192.0.2.120, 2001:db8::/120]",
      "  - name: manual",
      "    addresses: [198.51.100.0/24]",
      "    autoAssign: false",
      "    avoidBuggyIPs: true",
    ].join("\n");
    expect(parsePoolDocument(yaml, "pools.yaml")).toEqual([
      { name: "lab", addresses: ["192.0.2.100-192.0.2.120", "2001:db8::/120"], autoAssign: true, avoidBuggyIPs: false },
      { name: "manual", addresses: ["198.51.100.0/24"], autoAssign: false, avoidBuggyIPs: true },
    ]);
  });

  it("reads JSON", () => {
    expect(parsePoolDocument('{"pools":[{"name":"lab","addresses":["192.0.2.0/24"]}]}', "pools.json")).toHaveLength(1);
    expect(parsePoolDocument("pools: []", "empty.yaml")).toEqual([]);
  });

  it("explains bad documents", () => {
    expect(() => parsePoolDocument("pools: [", "bad.yaml")).toThrow(
      /^invalid address pools in bad\.yaml: not valid YAML or JSON: /,
    );
    expect(() => parsePoolDocument("- name: lab", "list.yaml")).toThrow(InvalidPoolError);
    expect(() => parsePoolDocument("pool: []", "typo.yaml")).toThrow('Unrecognized key: "pool"');
    expect(() =>
      parsePoolDocument("pools:\n  - name: lab\n    addresses: [192.0.2.20-192.0.2.10]", "rev.yaml"),
    ).toThrow(
      'invalid address pools in rev.yaml: pool "lab": addresses[0]: "192.0.2.20-192.0.2.10" is reversed: 192.0.2.20 comes after 192.0.2.10',
    );
  });
});

describe("parsePoolFlags", () => {
  it("parses name=range values and merges repeated names", () => {
    expect(
      parsePoolFlags(["lab=192.0.2.100-192.0.2.120", "web=198.51.100.0/24", "lab=2001:db8::/120, 2001:db8:1::/120"]),
    ).toEqual([
      {
        name: "lab",
        addresses: ["192.0.2.100-192.0.2.120", "2001:db8::/120", "2001:db8:1::/120"],
        autoAssign: true,
        avoidBuggyIPs: false,
      },
      { name: "web", addresses: ["198.51.100.0/24"], autoAssign: true, avoidBuggyIPs: false },
    ]);
  });

  it("rejects malformed values, naming the flag", () => {
    const err = (() => {
      try {
        parsePoolFlags(["192.0.2.0/24", "lab=", "=192.0.2.0/24"], "--address-pool");
      } catch (e) {
        return e as InvalidPoolError;
      }
      throw new Error("expected InvalidPoolError");
    })();
    expect(err.source).toBe("--address-pool");
    expect(err.problems).toHaveLength(3);
    expect(err.problems[0]).toBe(
      '"192.0.2.0/24": expected NAME=CIDR|RANGE[,CIDR|RANGE...], e.g. lab=192.0.2.100-192.0.2.120',
    );
    expect(() => parsePoolFlags(["lab=192.0.2.0/24", "dev=192.0.2.128/25"])).toThrow(
      'pools "lab" (192.0.2.0/24) and "dev" (192.0.2.128/25) overlap',
    );
  });
});

describe("loading files", () => {
  let dir = "";
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "lb-pools-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("loads a file, and validates file and flag pools together", async () => {
    const file = join(dir, "pools.yaml");
    await writeFile(file, "pools:\n  - name: lab\n    addresses: [192.0.2.0/25]\n");
    expect(await loadPoolFile(file)).toHaveLength(1);
    expect(await loadPools({ file, flags: ["web=198.51.100.0/24"] })).toHaveLength(2);
    await expect(loadPools({ file, flags: ["lab=198.51.100.0/24"] })).rejects.toThrow(
      'pool "lab" is defined more than once',
    );
    await expect(loadPools({ file, flags: ["web=192.0.2.64/26"] })).rejects.toThrow(
      `invalid address pools in ${file} and --pool: pools "lab"`,
    );
    expect(await loadPools({})).toEqual([]);
  });

  it("reports an unreadable file as a pool error", async () => {
    await expect(loadPoolFile(join(dir, "missing.yaml"))).rejects.toThrow(/cannot read the file: ENOENT/);
  });
});
