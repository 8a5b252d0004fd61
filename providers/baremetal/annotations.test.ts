import { describe, expect, it } from "vitest";
import { InvalidSpecError } from "../../src/errors.js";
import { parseBaremetalAnnotations } from "./annotations.js";

function invalid(annotations: Record<string, string>): InvalidSpecError {
  try {
    parseBaremetalAnnotations(annotations);
  } catch (err) {
    if (err instanceof InvalidSpecError) return err;
    throw err;
  }
  throw new Error("expected InvalidSpecError");
}

describe("parseBaremetalAnnotations", () => {
  it("reads nothing from a Service without our annotations", () => {
    expect(parseBaremetalAnnotations({ "example.com/x": "y" })).toEqual({ sharingKey: undefined, pool: undefined });
  });

  it("reads our annotations, trimmed", () => {
    expect(
      parseBaremetalAnnotations({ "lb-operator.io/allow-shared-ip": " web ", "lb-operator.io/address-pool": "lab" }),
    ).toEqual({
      sharingKey: "web",
      pool: "lab",
    });
  });

  it("reads MetalLB's annotations as aliases, and ours wins", () => {
    expect(
      parseBaremetalAnnotations({ "metallb.io/allow-shared-ip": "k", "metallb.universe.tf/address-pool": "old" }),
    ).toEqual({
      sharingKey: "k",
      pool: "old",
    });
    expect(
      parseBaremetalAnnotations({
        "lb-operator.io/address-pool": "ours",
        "metallb.io/address-pool": "Not A Valid Name",
        "metallb.io/allow-shared-ip": "theirs",
        "lb-operator.io/allow-shared-ip": "mine",
      }),
    ).toEqual({ sharingKey: "mine", pool: "ours" });
  });

  it("names the annotation and the bad value", () => {
    const pool = invalid({ "lb-operator.io/address-pool": "Lab Pool" });
    expect(pool.field).toBe("metadata.annotations[lb-operator.io/address-pool]");
    expect(pool.message).toMatch(
      /^metadata\.annotations\[lb-operator\.io\/address-pool\]: invalid pool name "Lab Pool": must be a DNS-1123 subdomain/,
    );

    const alias = invalid({ "metallb.io/address-pool": "UPPER" });
    expect(alias.field).toBe("metadata.annotations[metallb.io/address-pool]");

    expect(invalid({ "lb-operator.io/allow-shared-ip": "" }).message).toBe(
      'metadata.annotations[lb-operator.io/allow-shared-ip]: invalid sharing key "": must be 1-253 characters without spaces or control characters; remove the annotation to not share the address',
    );
    expect(invalid({ "lb-operator.io/allow-shared-ip": "a key" }).message).toContain('invalid sharing key "a key"');
    expect(invalid({ "metallb.io/allow-shared-ip": "x".repeat(254) }).field).toBe(
      "metadata.annotations[metallb.io/allow-shared-ip]",
    );
  });
});

describe("parseBaremetalAnnotations with huge or hostile input", () => {
  it.each(["lb-operator.io/allow-shared-ip", "metallb.io/allow-shared-ip", "lb-operator.io/address-pool"])(
    "refuses a 256 KiB %s before parsing it, quoting only its head",
    (key) => {
      const err = invalid({ [key]: "k".repeat(262_144 - key.length) });
      expect(err.field).toBe(`metadata.annotations[${key}]`);
      expect(err.message).toContain(`(${262_144 - key.length} bytes) is over the 32768-byte limit`);
      expect(err.message.length).toBeLessThan(400);
    },
  );

  it("cuts a long sharing key in the message, with its length", () => {
    const err = invalid({ "lb-operator.io/allow-shared-ip": "s".repeat(1_000) });
    expect(err.message).toContain(`invalid sharing key "${"s".repeat(128)}…" (1000 bytes)`);
  });

  it("escapes a newline in a sharing key, so the message stays one line", () => {
    const err = invalid({ "lb-operator.io/allow-shared-ip": "a\nb" });
    expect(err.message).toContain('invalid sharing key "a\\nb"');
    expect(err.message).not.toContain("\n");
  });
});
