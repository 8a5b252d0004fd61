import { describe, expect, it } from "vitest";
import { backendServiceDiffers, diffMembers, firewallPatch, forwardingRuleChanges, healthCheckUpdate } from "./diff.js";

const FULL = "https://www.googleapis.com/compute/v1/projects/p";
const FAKE = "http://127.0.0.1:9999/compute/v1/projects/p";

const rule = {
  name: "a1",
  description: "d",
  IPProtocol: "TCP",
  loadBalancingScheme: "INTERNAL",
  backendService: `${FULL}/regions/r/backendServices/a1`,
  ports: ["80", "443"],
  network: `${FULL}/global/networks/default`,
  subnetwork: `${FULL}/regions/r/subnetworks/default`,
  allowGlobalAccess: false,
};

describe("forwardingRuleChanges (kubernetes/kubernetes#96513: never recreate for spelling)", () => {
  it("is empty for the same rule as Compute reports it: other host, partial paths, port order, output fields, absent false", () => {
    const current = {
      ...rule,
      backendService: `${FAKE}/regions/r/backendServices/a1`,
      network: "projects/p/global/networks/default",
      subnetwork: `${FAKE}/regions/r/subnetworks/default`,
      ports: ["443", "80"],
      allowGlobalAccess: undefined,
      IPAddress: "10.0.0.5",
      fingerprint: "abc",
      selfLink: `${FAKE}/regions/r/forwardingRules/a1`,
      networkTier: "PREMIUM",
    };
    expect(forwardingRuleChanges(current, rule)).toEqual([]);
  });

  it("lists each immutable field that differs", () => {
    const current = { ...rule, IPAddress: "10.0.0.5" };
    expect(forwardingRuleChanges(current, { ...rule, IPAddress: "10.0.0.6" })).toEqual(["IPAddress"]);
    expect(forwardingRuleChanges(current, { ...rule, IPProtocol: "UDP" })).toEqual(["IPProtocol"]);
    expect(forwardingRuleChanges(current, { ...rule, ports: undefined, allPorts: true })).toEqual([
      "allPorts",
      "ports",
    ]);
    expect(forwardingRuleChanges(current, { ...rule, ports: ["80"] })).toEqual(["ports"]);
    expect(forwardingRuleChanges(current, { ...rule, subnetwork: `${FULL}/regions/r/subnetworks/other` })).toEqual([
      "subnetwork",
    ]);
    expect(forwardingRuleChanges(current, { ...rule, allowGlobalAccess: true })).toEqual(["allowGlobalAccess"]);
  });

  it("ignores the address when none is wanted", () => {
    expect(forwardingRuleChanges({ ...rule, IPAddress: "10.0.0.5" }, rule)).toEqual([]);
  });
});

describe("backendServiceDiffers", () => {
  const bs = {
    name: "a1",
    description: "d",
    protocol: "TCP",
    loadBalancingScheme: "INTERNAL",
    healthChecks: [`${FULL}/global/healthChecks/hc`],
    backends: [{ group: `${FULL}/zones/z1/instanceGroups/ig` }, { group: `${FULL}/zones/z2/instanceGroups/ig` }],
    sessionAffinity: "NONE",
  };

  it("is false for the same service as Compute reports it (fields we do not manage, links spelled differently, order)", () => {
    const current = {
      ...bs,
      healthChecks: [`${FAKE}/global/healthChecks/hc`],
      backends: [
        { group: `${FAKE}/zones/z2/instanceGroups/ig`, balancingMode: "CONNECTION" },
        { group: `${FAKE}/zones/z1/instanceGroups/ig` },
      ],
      fingerprint: "f",
      timeoutSec: 30,
    };
    expect(backendServiceDiffers(current, bs)).toBe(false);
  });

  it("is true when backends, health check, protocol or affinity differ", () => {
    expect(backendServiceDiffers({ ...bs, backends: bs.backends.slice(0, 1) }, bs)).toBe(true);
    expect(backendServiceDiffers({ ...bs, healthChecks: [`${FULL}/global/healthChecks/other`] }, bs)).toBe(true);
    expect(backendServiceDiffers({ ...bs, protocol: "UDP" }, bs)).toBe(true);
    expect(backendServiceDiffers({ ...bs, sessionAffinity: "CLIENT_IP" }, bs)).toBe(true);
  });
});

describe("healthCheckUpdate (mergeHealthChecks)", () => {
  const hc = {
    name: "hc",
    description: "d",
    type: "HTTP",
    httpHealthCheck: { port: 10256, requestPath: "/healthz" },
    checkIntervalSec: 8,
    timeoutSec: 1,
    healthyThreshold: 1,
    unhealthyThreshold: 3,
  };

  it("nothing to write when equal, or when hand-set values are larger than the defaults", () => {
    expect(healthCheckUpdate(hc, hc)).toBeUndefined();
    expect(healthCheckUpdate({ ...hc, checkIntervalSec: 30, unhealthyThreshold: 10 }, hc)).toBeUndefined();
  });

  it("raises values below the default and fixes port and path, keeping larger values", () => {
    const out = healthCheckUpdate(
      { ...hc, checkIntervalSec: 2, unhealthyThreshold: 10, httpHealthCheck: { port: 1, requestPath: "/" } },
      hc,
    );
    expect(out).toMatchObject({
      checkIntervalSec: 8,
      unhealthyThreshold: 10,
      httpHealthCheck: { port: 10256, requestPath: "/healthz" },
    });
  });
});

describe("firewallPatch", () => {
  const fw = {
    name: "fw",
    description: "d",
    network: `${FULL}/global/networks/default`,
    direction: "INGRESS",
    sourceRanges: ["10.0.0.0/8"],
    destinationRanges: ["10.0.0.5"],
    allowed: [{ IPProtocol: "tcp", ports: ["80", "8080-8081"] }],
    targetTags: ["n"],
  };

  it("undefined when equal up to order and spelling", () => {
    const current = {
      ...fw,
      network: `${FAKE}/global/networks/default`,
      allowed: [{ IPProtocol: "tcp", ports: ["8080-8081", "80"] }],
      disabled: false,
      priority: 1000,
    };
    expect(firewallPatch(current, fw)).toBeUndefined();
  });

  it("the managed fields when sources, ports, VIP or tags differ, or it was disabled", () => {
    expect(firewallPatch({ ...fw, sourceRanges: ["0.0.0.0/0"] }, fw)).toMatchObject({ sourceRanges: ["10.0.0.0/8"] });
    expect(firewallPatch({ ...fw, allowed: [{ IPProtocol: "udp", ports: ["80", "8080-8081"] }] }, fw)).toBeDefined();
    expect(firewallPatch({ ...fw, destinationRanges: ["10.0.0.6"] }, fw)).toMatchObject({
      destinationRanges: ["10.0.0.5"],
    });
    expect(firewallPatch({ ...fw, disabled: true }, fw)).toMatchObject({ disabled: false });
  });
});

describe("diffMembers", () => {
  it("adds and removes only the difference, comparing paths", () => {
    const out = diffMembers(
      [`${FAKE}/zones/z/instances/a`, `${FAKE}/zones/z/instances/b`],
      [`${FULL}/zones/z/instances/b`, `${FULL}/zones/z/instances/c`],
    );
    expect(out).toEqual({ add: [`${FULL}/zones/z/instances/c`], remove: [`${FAKE}/zones/z/instances/a`] });
  });
});
