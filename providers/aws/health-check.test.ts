import { describe, expect, it } from "vitest";
import { InvalidSpecError } from "../../src/errors.js";
import type { LoadBalancerSpec, PortSpec } from "../../src/provider.js";
import type { AwsServiceConfig, HealthCheckOverrides, HealthCheckSettings } from "./aws-types.js";
import { classicHealthTarget, healthCheckFor } from "./health-check.js";
import { nlbConfig } from "../../test/fixtures/aws-config.js";
import { newSpec } from "../../testing/new-spec.js";

const tcp80: PortSpec = { name: "http", protocol: "TCP", port: 80, nodePort: 30080, appProtocol: undefined };
const udp53: PortSpec = { name: "dns", protocol: "UDP", port: 53, nodePort: 30053, appProtocol: undefined };

function spec(policy: "Cluster" | "Local", mode: "nodePort" | "pod" = "nodePort"): LoadBalancerSpec {
  return newSpec({
    healthCheckNodePort: policy === "Local" ? 32000 : undefined,
    endpoints: mode === "pod" ? [] : undefined,
  });
}

function config(healthCheck: HealthCheckOverrides = {}, kind: "nlb" | "clb" = "nlb"): AwsServiceConfig {
  return nlbConfig({ kind, healthCheck });
}

const NLB_TCP: HealthCheckSettings = {
  protocol: "TCP",
  port: "traffic-port",
  path: undefined,
  intervalSeconds: 10,
  timeoutSeconds: 10,
  healthyThreshold: 3,
  unhealthyThreshold: 3,
};
const NLB_LOCAL: HealthCheckSettings = {
  protocol: "HTTP",
  port: 32000,
  path: "/healthz",
  intervalSeconds: 10,
  timeoutSeconds: 6,
  healthyThreshold: 2,
  unhealthyThreshold: 2,
};
const CLB_TCP: HealthCheckSettings = {
  protocol: "TCP",
  port: "traffic-port",
  path: undefined,
  intervalSeconds: 10,
  timeoutSeconds: 5,
  healthyThreshold: 2,
  unhealthyThreshold: 6,
};

function invalid(fn: () => unknown): InvalidSpecError {
  try {
    fn();
  } catch (err) {
    if (err instanceof InvalidSpecError) return err;
    throw err;
  }
  throw new Error("expected InvalidSpecError");
}

describe("healthCheckFor defaults", () => {
  it("NLB, Cluster: TCP traffic-port 3/3/10/10 (LBC)", () => {
    expect(healthCheckFor("nlb", "instance", spec("Cluster"), config(), tcp80)).toEqual(NLB_TCP);
  });

  it("NLB, Local, instance targets: HTTP healthCheckNodePort /healthz 2/2/10/6 (LBC)", () => {
    expect(healthCheckFor("nlb", "instance", spec("Local"), config(), tcp80)).toEqual(NLB_LOCAL);
  });

  it("NLB, Local, ip targets: no healthCheckNodePort override, the pod port is checked (LBC #1813)", () => {
    // Even a spec that still carries the node health check (nlb-target-type: ip) is checked on the target port.
    expect(healthCheckFor("nlb", "ip", spec("Local"), config(), tcp80)).toEqual(NLB_TCP);
    expect(healthCheckFor("nlb", "ip", spec("Local", "pod"), config(), tcp80)).toEqual(NLB_TCP);
  });

  it("NLB, UDP port with instance targets: kube-proxy's /healthz, since a TCP connect to a UDP NodePort never succeeds", () => {
    expect(healthCheckFor("nlb", "instance", spec("Cluster"), config(), udp53)).toEqual({ ...NLB_LOCAL, port: 10256 });
    expect(healthCheckFor("nlb", "instance", spec("Local"), config(), udp53)).toEqual(NLB_LOCAL);
    expect(healthCheckFor("nlb", "ip", spec("Cluster", "pod"), config(), udp53)).toEqual(NLB_TCP);
  });

  it("classic ELB: 2/6/10/5 TCP on the NodePort, or HTTP healthCheckNodePort /healthz for Local (CPA)", () => {
    const cluster = healthCheckFor("clb", "instance", spec("Cluster"), config({}, "clb"), tcp80);
    expect(cluster).toEqual(CLB_TCP);
    expect(classicHealthTarget(cluster, 30080)).toBe("TCP:30080");
    const local = healthCheckFor("clb", "instance", spec("Local"), config({}, "clb"), tcp80);
    expect(local).toEqual({ ...CLB_TCP, protocol: "HTTP", port: 32000, path: "/healthz" });
    expect(classicHealthTarget(local, 30080)).toBe("HTTP:32000/healthz");
  });
});

describe("healthCheckFor overrides", () => {
  it("apply field by field over every default", () => {
    const all: HealthCheckOverrides = {
      protocol: "HTTPS",
      port: 8443,
      path: "/ready",
      intervalSeconds: 30,
      timeoutSeconds: 20,
      healthyThreshold: 4,
      unhealthyThreshold: 5,
    };
    const want = { ...all, path: "/ready" };
    expect(healthCheckFor("nlb", "instance", spec("Cluster"), config(all), tcp80)).toEqual(want);
    expect(healthCheckFor("nlb", "instance", spec("Local"), config(all), tcp80)).toEqual(want);
    expect(healthCheckFor("nlb", "instance", spec("Local"), config({ intervalSeconds: 30 }), tcp80)).toEqual({
      ...NLB_LOCAL,
      intervalSeconds: 30,
    });
    expect(healthCheckFor("nlb", "instance", spec("Local"), config({ port: "traffic-port" }), tcp80)).toEqual({
      ...NLB_LOCAL,
      port: "traffic-port",
    });
    expect(healthCheckFor("clb", "instance", spec("Cluster"), config({ unhealthyThreshold: 3 }, "clb"), tcp80)).toEqual(
      { ...CLB_TCP, unhealthyThreshold: 3 },
    );
  });

  it("HTTP without a path gets / (or keeps /healthz on the Local override); TCP drops the path", () => {
    expect(healthCheckFor("nlb", "instance", spec("Cluster"), config({ protocol: "HTTP" }), tcp80).path).toBe("/");
    expect(healthCheckFor("nlb", "instance", spec("Local"), config({ protocol: "HTTPS" }), tcp80).path).toBe(
      "/healthz",
    );
    const tcpLocal = healthCheckFor("nlb", "instance", spec("Local"), config({ protocol: "TCP" }), tcp80);
    expect(tcpLocal).toEqual({ ...NLB_LOCAL, protocol: "TCP", path: undefined });
    const clb = healthCheckFor(
      "clb",
      "instance",
      spec("Cluster"),
      config({ protocol: "HTTP", port: 8080 }, "clb"),
      tcp80,
    );
    expect(classicHealthTarget(clb, 30080)).toBe("HTTP:8080/");
    expect(classicHealthTarget({ ...clb, protocol: "HTTPS", port: "traffic-port", path: "/z" }, 30080)).toBe(
      "HTTPS:30080/z",
    );
  });

  it("rejects a path on a TCP check", () => {
    const err = invalid(() => healthCheckFor("nlb", "instance", spec("Cluster"), config({ path: "/ready" }), tcp80));
    expect(err.field).toBe("metadata.annotations[service.beta.kubernetes.io/aws-load-balancer-healthcheck-path]");
    expect(err.message).toContain('"/ready"');
    // The same path is fine where the check is HTTP (Local override).
    expect(healthCheckFor("nlb", "instance", spec("Local"), config({ path: "/ready" }), tcp80).path).toBe("/ready");
  });

  it("rejects a timeout above the interval (NLB) or not below it (classic ELB), blaming the annotated field", () => {
    expect(
      healthCheckFor("nlb", "instance", spec("Cluster"), config({ timeoutSeconds: 10, intervalSeconds: 10 }), tcp80)
        .timeoutSeconds,
    ).toBe(10);
    const nlb = invalid(() =>
      healthCheckFor("nlb", "instance", spec("Cluster"), config({ timeoutSeconds: 15 }), tcp80),
    );
    expect(nlb.field).toBe("metadata.annotations[service.beta.kubernetes.io/aws-load-balancer-healthcheck-timeout]");
    expect(nlb.message).toContain('timeout "15" must be at most the interval "10"');
    const clb = invalid(() =>
      healthCheckFor("clb", "instance", spec("Cluster"), config({ intervalSeconds: 5 }, "clb"), tcp80),
    );
    expect(clb.field).toBe("metadata.annotations[service.beta.kubernetes.io/aws-load-balancer-healthcheck-interval]");
    expect(clb.message).toContain('timeout "5" must be less than the interval "5"');
  });
});
