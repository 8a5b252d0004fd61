import { describe, expect, it } from "vitest";
import { newSpecId } from "../../testing/new-spec.js";
import {
  InvalidGceNameError,
  healthCheckFirewallName,
  healthCheckName,
  instanceGroupName,
  isValidGceName,
  lbName,
  sharedHealthCheckName,
  trafficFirewallName,
} from "./names.js";

describe("GCE names (cloud-provider-gcp naming)", () => {
  const id = newSpecId({ uid: "5a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", clusterId: "c1" });

  it("lbName is 'a' + the uid without dashes, cut to 32 characters", () => {
    expect(lbName(id)).toBe("a5a1b2c3d4e5f4a6b8c7d9e0f1a2b3c4");
    expect(lbName(id)).toHaveLength(32);
    expect(lbName(newSpecId({ name: "x", uid: "abc-def" }))).toBe("aabcdef");
  });

  it("names the shared and per-Service resources as the anchor does", () => {
    expect(instanceGroupName("c1")).toBe("k8s-ig--c1");
    expect(instanceGroupName("")).toBe("k8s-ig");
    expect(sharedHealthCheckName("c1")).toBe("k8s-c1-node");
    expect(healthCheckName(id, "Cluster")).toBe("k8s-c1-node");
    expect(healthCheckName(id, "Local")).toBe(lbName(id));
    expect(healthCheckFirewallName(id, "Cluster")).toBe("k8s-c1-node-hc");
    expect(healthCheckFirewallName(id, "Local")).toBe(`${lbName(id)}-hc`);
    expect(trafficFirewallName(id)).toBe(`k8s-fw-${lbName(id)}`);
  });

  it("refuses names Compute would refuse (RFC 1035, 63 characters)", () => {
    expect(isValidGceName("a".repeat(63))).toBe(true);
    expect(isValidGceName("a".repeat(64))).toBe(false);
    expect(isValidGceName("1abc")).toBe(false);
    expect(isValidGceName("abc-")).toBe(false);
    expect(isValidGceName("Abc")).toBe(false);
    expect(() => instanceGroupName("Upper")).toThrow(InvalidGceNameError);
    expect(() => sharedHealthCheckName("x".repeat(60))).toThrow(InvalidGceNameError);
    expect(() => lbName(newSpecId({ name: "x", uid: "ABC-DEF" }))).toThrow(InvalidGceNameError);
  });
});
