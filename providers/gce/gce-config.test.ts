import { describe, expect, it } from "vitest";
import {
  ALLOW_ALL_SOURCES_ANNOTATION,
  GLOBAL_ACCESS_ANNOTATION,
  LB_TYPE_ANNOTATION,
  LEGACY_LB_TYPE_ANNOTATION,
  SUBNET_ANNOTATION,
  checkRequestedIPInSubnet,
  parseGceConfig,
} from "./gce-config.js";
import { invalidSpecField } from "../../testing/invalid-spec.js";
import { newSpec } from "../../testing/new-spec.js";

describe("parseGceConfig", () => {
  it("defaults: TCP, cluster subnet, no global access, no 0.0.0.0/0, no requested IP (a missing type means Internal)", () => {
    expect(parseGceConfig(newSpec())).toEqual({
      protocol: "TCP",
      subnetwork: undefined,
      allowGlobalAccess: false,
      allowAllSources: false,
      requestedIP: undefined,
    });
  });

  it("accepts Internal and internal under both type annotations", () => {
    for (const key of [LB_TYPE_ANNOTATION, LEGACY_LB_TYPE_ANNOTATION]) {
      for (const value of ["Internal", "internal"])
        expect(() => parseGceConfig(newSpec({ annotations: { [key]: value } }))).not.toThrow();
    }
  });

  it("refuses any other type, naming the annotation and the value", () => {
    const spec = newSpec({ annotations: { [LEGACY_LB_TYPE_ANNOTATION]: "External" } });
    expect(invalidSpecField(() => parseGceConfig(spec))).toBe(`metadata.annotations[${LEGACY_LB_TYPE_ANNOTATION}]`);
    expect(() => parseGceConfig(spec)).toThrow(/"External".*internal passthrough/);
  });

  it("reads subnet, global access and the allow-all opt-in", () => {
    const config = parseGceConfig(
      newSpec({
        annotations: {
          [SUBNET_ANNOTATION]: "ilb-subnet",
          [GLOBAL_ACCESS_ANNOTATION]: "true",
          [ALLOW_ALL_SOURCES_ANNOTATION]: "true",
        },
      }),
    );
    expect(config).toMatchObject({ subnetwork: "ilb-subnet", allowGlobalAccess: true, allowAllSources: true });
    expect(parseGceConfig(newSpec({ annotations: { [GLOBAL_ACCESS_ANNOTATION]: "false" } })).allowGlobalAccess).toBe(
      false,
    );
  });

  it("reads booleans as Go's strconv.ParseBool does (as cloud-provider-gcp), trimmed, a blank value meaning unset", () => {
    for (const [value, want] of [
      ["TRUE", true],
      ["1", true],
      ["t", true],
      [" True ", true],
      ["F", false],
      ["0", false],
      ["", false],
    ] as const) {
      const config = parseGceConfig(
        newSpec({ annotations: { [GLOBAL_ACCESS_ANNOTATION]: value, [ALLOW_ALL_SOURCES_ANNOTATION]: value } }),
      );
      expect([config.allowGlobalAccess, config.allowAllSources]).toEqual([want, want]);
    }
  });

  it("refuses a boolean annotation that is not a Go boolean and a subnet that is not a name", () => {
    expect(
      invalidSpecField(() => parseGceConfig(newSpec({ annotations: { [GLOBAL_ACCESS_ANNOTATION]: "yes" } }))),
    ).toBe(`metadata.annotations[${GLOBAL_ACCESS_ANNOTATION}]`);
    expect(
      invalidSpecField(() => parseGceConfig(newSpec({ annotations: { [ALLOW_ALL_SOURCES_ANNOTATION]: "tRUE" } }))),
    ).toBe(`metadata.annotations[${ALLOW_ALL_SOURCES_ANNOTATION}]`);
    expect(
      invalidSpecField(() => parseGceConfig(newSpec({ annotations: { [SUBNET_ANNOTATION]: "Bad_Subnet" } }))),
    ).toBe(`metadata.annotations[${SUBNET_ANNOTATION}]`);
  });

  it("takes one protocol; mixed TCP/UDP and SCTP are refused", () => {
    expect(
      parseGceConfig(
        newSpec({
          ports: [
            { port: 53, protocol: "UDP" },
            { port: 54, protocol: "UDP" },
          ],
        }),
      ).protocol,
    ).toBe("UDP");
    expect(
      invalidSpecField(() =>
        parseGceConfig(
          newSpec({
            ports: [
              { port: 53, protocol: "TCP" },
              { port: 53, protocol: "UDP", name: "dns-udp" },
            ],
          }),
        ),
      ),
    ).toBe("spec.ports");
    expect(
      invalidSpecField(() => parseGceConfig(newSpec({ ports: [{ port: 80 }, { port: 9, protocol: "SCTP" }] }))),
    ).toBe("spec.ports[1].protocol");
  });

  it("takes one IPv4 requested address; refuses IPv6 and several", () => {
    expect(parseGceConfig(newSpec({ loadBalancerIP: "10.128.0.50" })).requestedIP).toBe("10.128.0.50");
    expect(invalidSpecField(() => parseGceConfig({ ...newSpec(), requestedIPs: ["fd00::1"] }))).toBe(
      "spec.loadBalancerIP",
    );
    expect(invalidSpecField(() => parseGceConfig({ ...newSpec(), requestedIPs: ["10.0.0.1", "10.0.0.2"] }))).toBe(
      "spec.loadBalancerIP",
    );
  });

  it("refuses pod mode, IPv6-only Services and IPv6 source ranges", () => {
    expect(invalidSpecField(() => parseGceConfig(newSpec({ endpoints: [] })))).toBe(
      "spec.allocateLoadBalancerNodePorts",
    );
    expect(invalidSpecField(() => parseGceConfig(newSpec({ ipFamilies: ["IPv6"] })))).toBe("spec.ipFamilies");
    expect(invalidSpecField(() => parseGceConfig(newSpec({ sourceRanges: ["10.0.0.0/8", "fd00::/8"] })))).toBe(
      "spec.loadBalancerSourceRanges",
    );
  });
});

describe("checkRequestedIPInSubnet", () => {
  it("accepts an address inside the range and refuses one outside (kubernetes/kubernetes#57860)", () => {
    expect(() => checkRequestedIPInSubnet("10.128.0.50", "default", "10.128.0.0/20")).not.toThrow();
    expect(invalidSpecField(() => checkRequestedIPInSubnet("10.129.0.50", "default", "10.128.0.0/20"))).toBe(
      "spec.loadBalancerIP",
    );
    expect(() => checkRequestedIPInSubnet("10.129.0.50", "default", "10.128.0.0/20")).toThrow(
      /not within subnetwork default/,
    );
  });
});

describe("parseGceConfig with huge input", () => {
  it.each([LB_TYPE_ANNOTATION, SUBNET_ANNOTATION, GLOBAL_ACCESS_ANNOTATION, ALLOW_ALL_SOURCES_ANNOTATION])(
    "refuses a 200 KB %s before parsing it, quoting only its head",
    (key) => {
      const spec = newSpec({ annotations: { [key]: "g".repeat(200_000) } });
      expect(invalidSpecField(() => parseGceConfig(spec))).toBe(`metadata.annotations[${key}]`);
      expect(() => parseGceConfig(spec)).toThrow(/^[^\n]{0,400}$/);
      expect(() => parseGceConfig(spec)).toThrow(/\(200000 bytes\) is over the 32768-byte limit/);
    },
  );
});
