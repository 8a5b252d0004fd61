import { describe, expect, it } from "vitest";
import { InvalidSpecError } from "../errors.js";
import { newService, tweakAnnotation, tweakSourceRanges } from "../../test/fixtures/services.js";
import type { ServiceTweak } from "../../test/fixtures/services.js";
import { SOURCE_RANGES_ANNOTATION } from "./annotations.js";
import { deepFreeze } from "./freeze.js";
import { parseSourceRanges } from "./source-ranges.js";

const ANNOTATION_FIELD = `metadata.annotations[${SOURCE_RANGES_ANNOTATION}]`;
const annotate = (v: string): ServiceTweak => tweakAnnotation(SOURCE_RANGES_ANNOTATION, v);

function ranges(...tweaks: ServiceTweak[]): string[] {
  return parseSourceRanges(deepFreeze(newService("web", ...tweaks)));
}

describe("parseSourceRanges", () => {
  it.each<{ name: string; tweaks: ServiceTweak[]; want: string[] }>([
    { name: "neither set: allow all", tweaks: [], want: [] },
    { name: "blank annotation", tweaks: [annotate("  ")], want: [] },
    {
      name: "spec field",
      tweaks: [tweakSourceRanges("192.0.2.0/24", "2001:db8::/32")],
      want: ["192.0.2.0/24", "2001:db8::/32"],
    },
    {
      name: "annotation",
      tweaks: [annotate("192.0.2.0/24, 198.51.100.0/24")],
      want: ["192.0.2.0/24", "198.51.100.0/24"],
    },
    {
      name: "spec wins over annotation",
      tweaks: [tweakSourceRanges("203.0.113.0/24"), annotate("192.0.2.0/24")],
      want: ["203.0.113.0/24"],
    },
    {
      name: "empty spec list falls back to annotation",
      tweaks: [tweakSourceRanges(), annotate("192.0.2.0/24")],
      want: ["192.0.2.0/24"],
    },
    { name: "trimmed", tweaks: [tweakSourceRanges("  192.0.2.0/24\t")], want: ["192.0.2.0/24"] },
    {
      name: "host bits cleared",
      tweaks: [tweakSourceRanges("10.1.2.3/8", "2001:db8::1/32")],
      want: ["10.0.0.0/8", "2001:db8::/32"],
    },
    {
      name: "deduplicated after normalisation",
      tweaks: [tweakSourceRanges("10.0.0.1/8", "10.0.0.0/8", "2001:DB8::/32", "2001:db8:0::/32")],
      want: ["10.0.0.0/8", "2001:db8::/32"],
    },
    {
      name: "sorted: IPv4 first, numeric, shorter prefix first",
      tweaks: [tweakSourceRanges("2001:db8::/32", "10.0.0.0/16", "9.0.0.0/8", "10.0.0.0/8")],
      want: ["9.0.0.0/8", "10.0.0.0/8", "10.0.0.0/16", "2001:db8::/32"],
    },
    { name: "0.0.0.0/0 kept", tweaks: [tweakSourceRanges("0.0.0.0/0")], want: ["0.0.0.0/0"] },
    { name: "::/0 kept", tweaks: [tweakSourceRanges("::/0", "0.0.0.0/0")], want: ["0.0.0.0/0", "::/0"] },
    {
      name: "e2e split ranges",
      tweaks: [tweakSourceRanges("0.0.0.0/1", "128.0.0.0/1")],
      want: ["0.0.0.0/1", "128.0.0.0/1"],
    },
  ])("$name", ({ tweaks, want }) => {
    expect(ranges(...tweaks)).toEqual(want);
  });

  it.each<{ name: string; tweaks: ServiceTweak[]; field: string; quoted: string }>([
    {
      name: "bad spec entry names its index",
      tweaks: [tweakSourceRanges("192.0.2.0/24", "10.0.0.0/8", "10.0.0.0/40")],
      field: "spec.loadBalancerSourceRanges[2]",
      quoted: '"10.0.0.0/40"',
    },
    {
      name: "bare address",
      tweaks: [tweakSourceRanges("192.0.2.1")],
      field: "spec.loadBalancerSourceRanges[0]",
      quoted: '"192.0.2.1"',
    },
    {
      name: "empty spec entry",
      tweaks: [tweakSourceRanges("")],
      field: "spec.loadBalancerSourceRanges[0]",
      quoted: '""',
    },
    {
      name: "bad annotation entry",
      tweaks: [annotate("192.0.2.0/24, nonsense")],
      field: ANNOTATION_FIELD,
      quoted: '"nonsense" (entry 2)',
    },
    {
      name: "trailing comma in annotation",
      tweaks: [annotate("192.0.2.0/24,")],
      field: ANNOTATION_FIELD,
      quoted: '"" (entry 2)',
    },
    {
      name: "leading-zero octet",
      tweaks: [tweakSourceRanges("010.0.0.0/8")],
      field: "spec.loadBalancerSourceRanges[0]",
      quoted: '"010.0.0.0/8"',
    },
  ])("$name", ({ tweaks, field, quoted }) => {
    const svc = deepFreeze(newService("web", ...tweaks));
    let caught: unknown;
    try {
      parseSourceRanges(svc);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(InvalidSpecError);
    expect((caught as InvalidSpecError).field).toBe(field);
    expect((caught as InvalidSpecError).message).toContain(quoted);
    expect((caught as InvalidSpecError).message.startsWith(`${field}: `)).toBe(true);
  });
});

describe("parseSourceRanges with huge input", () => {
  it("refuses a 256 KiB annotation before splitting it, quoting only its head", () => {
    const value = "192.0.2.0/24,".repeat(20_000);
    const err = invalidRanges(annotate(value));
    expect(err.field).toBe(ANNOTATION_FIELD);
    expect(err.message).toContain(`(${value.length} bytes) is over the 32768-byte limit`);
    expect(err.message.length).toBeLessThan(400);
  });

  it("cuts a long bad entry in the message", () => {
    const err = invalidRanges(annotate(`192.0.2.0/24,${"z".repeat(2_000)}`));
    expect(err.message).toContain(`invalid CIDR "${"z".repeat(128)}…" (2000 bytes) (entry 2)`);
  });
});

function invalidRanges(...tweaks: ServiceTweak[]): InvalidSpecError {
  try {
    ranges(...tweaks);
  } catch (err) {
    if (err instanceof InvalidSpecError) return err;
    throw err;
  }
  throw new Error("expected InvalidSpecError");
}
