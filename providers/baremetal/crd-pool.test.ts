import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { z } from "zod";
import { InvalidPoolError } from "./baremetal-errors.js";
import {
  ADDRESS_POOL_GROUP,
  ADDRESS_POOL_KIND,
  ADDRESS_POOL_PLURAL,
  ADDRESS_POOL_VERSION,
  poolFromCustomObject,
  poolsFromCustomObjects,
} from "./crd-pool.js";

function object(name: string, spec: Record<string, unknown>, creationTimestamp?: string): unknown {
  return {
    apiVersion: "lb-operator.io/v1alpha1",
    kind: "AddressPool",
    metadata: { name, uid: `uid-${name}`, creationTimestamp },
    spec,
  };
}

describe("poolFromCustomObject", () => {
  it("converts an object, with defaults", () => {
    expect(poolFromCustomObject(object("lab", { addresses: ["192.0.2.100-192.0.2.120"] }))).toEqual({
      name: "lab",
      addresses: ["192.0.2.100-192.0.2.120"],
      autoAssign: true,
      avoidBuggyIPs: false,
    });
    expect(
      poolFromCustomObject({
        ...(object("x", { addresses: ["2001:db8::/64"], autoAssign: false }) as object),
        status: {},
      }),
    ).toMatchObject({ autoAssign: false });
  });

  it("names the object and field of a bad value", () => {
    expect(() => poolFromCustomObject(object("lab", { addresses: ["192.0.2.1/24"] }))).toThrow(
      'invalid address pools in AddressPool lab: object: spec.addresses[0]: "192.0.2.1/24" has host bits set; the network is 192.0.2.0/24',
    );
    expect(() => poolFromCustomObject(object("lab", { addresses: ["192.0.2.0/25", "192.0.2.64/26"] }))).toThrow(
      "overlap",
    );
    expect(() =>
      poolFromCustomObject({ ...(object("lab", { addresses: ["192.0.2.0/24"] }) as object), kind: "IPAddressPool" }),
    ).toThrow(InvalidPoolError);
    expect(() => poolFromCustomObject(null)).toThrow("AddressPool (unnamed)");
  });
});

describe("poolsFromCustomObjects", () => {
  it("rejects bad objects one by one, and the newer of two overlapping pools", () => {
    const result = poolsFromCustomObjects([
      object("newer", { addresses: ["192.0.2.64/26"] }, "2026-02-01T00:00:00Z"),
      object("broken", { addresses: [] }),
      object("older", { addresses: ["192.0.2.0/24"] }, "2026-01-01T00:00:00Z"),
      object("other", { addresses: ["198.51.100.0/24"] }),
    ]);
    expect(result.pools.map((p) => p.name)).toEqual(["older", "other"]);
    expect(result.rejected.map((r) => r.name)).toEqual(["broken", "newer"]);
    expect(result.rejected[1]?.error.message).toContain(
      'pools "older" (192.0.2.0/24) and "newer" (192.0.2.64/26) overlap',
    );
    expect(result.rejected.map((r) => r.reason)).toEqual(["InvalidSpec", "Overlap"]);
  });

  it("refuses objects clashing with a flag or file pool (addresses or name), and returns only object pools", () => {
    const flag = { name: "flags", addresses: ["192.0.2.0/28"], autoAssign: true, avoidBuggyIPs: false };
    const result = poolsFromCustomObjects(
      [
        object("inside", { addresses: ["192.0.2.8/29"] }),
        object("flags", { addresses: ["198.51.100.0/28"] }),
        object("fine", { addresses: ["203.0.113.0/28"] }),
      ],
      [flag],
    );
    expect(result.pools.map((p) => p.name)).toEqual(["fine"]);
    expect(result.rejected.map((r) => [r.name, r.reason])).toEqual([
      ["flags", "Overlap"],
      ["inside", "Overlap"],
    ]);
  });
});

describe("the AddressPool CRD", () => {
  const schemaNode = z.looseObject({
    type: z.string().optional(),
    properties: z.record(z.string(), z.unknown()).optional(),
  });
  const crdSchema = z.looseObject({
    apiVersion: z.literal("apiextensions.k8s.io/v1"),
    kind: z.literal("CustomResourceDefinition"),
    metadata: z.looseObject({ name: z.string() }),
    spec: z.looseObject({
      group: z.string(),
      scope: z.literal("Cluster"),
      names: z.looseObject({ kind: z.string(), plural: z.string(), singular: z.string(), listKind: z.string() }),
      versions: z
        .array(
          z.looseObject({
            name: z.string(),
            served: z.boolean(),
            storage: z.boolean(),
            additionalPrinterColumns: z.array(
              z.looseObject({ name: z.string(), type: z.string(), jsonPath: z.string() }),
            ),
            schema: z.looseObject({ openAPIV3Schema: schemaNode }),
          }),
        )
        .length(1),
    }),
  });

  it("is a v1 CRD that matches the constants and the pool model's defaults", async () => {
    const path = fileURLToPath(
      new URL("../../charts/lb-operator/crds/addresspools.lb-operator.io.yaml", import.meta.url),
    );
    const crd = crdSchema.parse(parse(await readFile(path, "utf8")));
    expect(crd.metadata.name).toBe(`${ADDRESS_POOL_PLURAL}.${ADDRESS_POOL_GROUP}`);
    expect(crd.spec.group).toBe(ADDRESS_POOL_GROUP);
    expect(crd.spec.names).toMatchObject({
      kind: ADDRESS_POOL_KIND,
      plural: ADDRESS_POOL_PLURAL,
      listKind: `${ADDRESS_POOL_KIND}List`,
    });
    const [version] = crd.spec.versions;
    expect(version).toMatchObject({ name: ADDRESS_POOL_VERSION, served: true, storage: true });
    expect(version?.additionalPrinterColumns.map((c) => c.jsonPath)).toEqual([
      '.status.conditions[?(@.type=="Ready")].status',
      '.status.conditions[?(@.type=="Ready")].reason',
      ".status.assignedIPv4",
      ".status.availableIPv4",
      ".status.assignedIPv6",
      ".status.availableIPv6",
      ".spec.addresses",
      ".spec.autoAssign",
      ".spec.avoidBuggyIPs",
      ".metadata.creationTimestamp",
    ]);
    expect(version?.schema.openAPIV3Schema.properties?.spec).toMatchObject({
      type: "object",
      required: ["addresses"],
      properties: {
        addresses: { type: "array", minItems: 1, items: { type: "string" } },
        autoAssign: { type: "boolean", default: true },
        avoidBuggyIPs: { type: "boolean", default: false },
      },
    });
  });
});
