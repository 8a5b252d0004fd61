import { describe, expect, it } from "vitest";
import { InvalidSpecError } from "../errors.js";
import { newService, tweakAnnotation } from "../../test/fixtures/services.js";
import type { ServiceTweak } from "../../test/fixtures/services.js";
import type { IPFamily } from "../provider.js";
import { REQUESTED_IPS_ANNOTATION } from "./annotations.js";
import { deepFreeze } from "./freeze.js";
import { parseRequestedIPs } from "./requested-ips.js";

const ANNOTATION_FIELD = `metadata.annotations[${REQUESTED_IPS_ANNOTATION}]`;
const annotate = (v: string): ServiceTweak => tweakAnnotation(REQUESTED_IPS_ANNOTATION, v);
const specIP =
  (ip: string): ServiceTweak =>
  (s) => {
    s.spec!.loadBalancerIP = ip;
  };
const V4: IPFamily[] = ["IPv4"];
const DUAL: IPFamily[] = ["IPv4", "IPv6"];
const DUAL6: IPFamily[] = ["IPv6", "IPv4"];

describe("parseRequestedIPs", () => {
  it.each<{ name: string; tweaks: ServiceTweak[]; families: IPFamily[]; want: string[] }>([
    { name: "none", tweaks: [], families: V4, want: [] },
    { name: "empty loadBalancerIP", tweaks: [specIP("")], families: V4, want: [] },
    { name: "spec.loadBalancerIP", tweaks: [specIP("192.0.2.10")], families: V4, want: ["192.0.2.10"] },
    { name: "annotation, one", tweaks: [annotate(" 192.0.2.10 ")], families: V4, want: ["192.0.2.10"] },
    {
      name: "annotation, dual stack",
      tweaks: [annotate("2001:DB8::10, 192.0.2.10")],
      families: DUAL,
      want: ["192.0.2.10", "2001:db8::10"],
    },
    {
      name: "ordered by ipFamilies",
      tweaks: [annotate("192.0.2.10,2001:db8::10")],
      families: DUAL6,
      want: ["2001:db8::10", "192.0.2.10"],
    },
    {
      name: "both set and equal",
      tweaks: [specIP("192.0.2.10"), annotate("192.0.2.10")],
      families: V4,
      want: ["192.0.2.10"],
    },
    { name: "repeated address", tweaks: [annotate("192.0.2.10,192.0.2.10")], families: V4, want: ["192.0.2.10"] },
    {
      name: "one family of a dual-stack Service",
      tweaks: [annotate("2001:db8::10")],
      families: DUAL,
      want: ["2001:db8::10"],
    },
  ])("$name", ({ tweaks, families, want }) => {
    expect(parseRequestedIPs(deepFreeze(newService("web", ...tweaks)), families)).toEqual(want);
  });

  it.each<{ name: string; tweaks: ServiceTweak[]; families: IPFamily[]; field: string; text: string }>([
    {
      name: "bad spec IP",
      tweaks: [specIP("192.0.2.300")],
      families: V4,
      field: "spec.loadBalancerIP",
      text: '"192.0.2.300"',
    },
    {
      name: "CIDR instead of IP",
      tweaks: [annotate("192.0.2.0/24")],
      families: V4,
      field: ANNOTATION_FIELD,
      text: '"192.0.2.0/24"',
    },
    {
      name: "garbage in annotation",
      tweaks: [annotate("192.0.2.10,bogus")],
      families: DUAL,
      field: ANNOTATION_FIELD,
      text: '"bogus"',
    },
    {
      name: "empty annotation entry",
      tweaks: [annotate("192.0.2.10,")],
      families: V4,
      field: ANNOTATION_FIELD,
      text: '""',
    },
    {
      name: "unspecified",
      tweaks: [specIP("0.0.0.0")],
      families: V4,
      field: "spec.loadBalancerIP",
      text: "unspecified",
    },
    {
      name: "IPv4-mapped",
      tweaks: [annotate("::ffff:192.0.2.1")],
      families: DUAL,
      field: ANNOTATION_FIELD,
      text: "IPv4-mapped",
    },
    {
      name: "conflicting spec and annotation",
      tweaks: [specIP("192.0.2.10"), annotate("192.0.2.11")],
      families: V4,
      field: ANNOTATION_FIELD,
      text: 'conflicts with spec.loadBalancerIP "192.0.2.10"',
    },
    {
      name: "annotation adds a family to spec IP",
      tweaks: [specIP("192.0.2.10"), annotate("192.0.2.10,2001:db8::1")],
      families: DUAL,
      field: ANNOTATION_FIELD,
      text: "conflicts",
    },
    {
      name: "two IPv4",
      tweaks: [annotate("192.0.2.10,192.0.2.11")],
      families: DUAL,
      field: ANNOTATION_FIELD,
      text: "two IPv4 addresses",
    },
    {
      name: "family not on the Service",
      tweaks: [annotate("2001:db8::1")],
      families: V4,
      field: ANNOTATION_FIELD,
      text: "is IPv6",
    },
  ])("$name", ({ tweaks, families, field, text }) => {
    const svc = deepFreeze(newService("web", ...tweaks));
    const attempt = (): string[] => parseRequestedIPs(svc, families);
    expect(attempt).toThrow(InvalidSpecError);
    expect(attempt).toThrow(`${field}: `);
    expect(attempt).toThrow(text);
  });
});

describe("parseRequestedIPs with huge input", () => {
  it("refuses a 256 KiB annotation before splitting it, and cuts a long bad address in the message", () => {
    const svc = (v: string) => deepFreeze(newService("web", annotate(v)));
    const huge = "192.0.2.1,".repeat(26_000);
    expect(() => parseRequestedIPs(svc(huge), V4)).toThrow(/\(260000 bytes\) is over the 32768-byte limit/);
    expect(() => parseRequestedIPs(svc(huge), V4)).toThrow(InvalidSpecError);
    expect(() => parseRequestedIPs(svc("q".repeat(3_000)), V4)).toThrow(
      `invalid IP address "${"q".repeat(128)}…" (3000 bytes)`,
    );
  });
});
