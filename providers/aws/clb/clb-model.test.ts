import { describe, expect, it } from "vitest";
import type { LoadBalancerDescription } from "@aws-sdk/client-elastic-load-balancing";
import { InvalidSpecError } from "../../../src/errors.js";
import { TAG_CLUSTER, TAG_SERVICE_UID } from "../aws-types.js";
import {
  PROXY_PROTOCOL_POLICY,
  attributeChanges,
  desiredListeners,
  diffListeners,
  diffSets,
  healthCheckDiffers,
  isOwned,
  missingTags,
  proxyProtocolPlan,
} from "./clb-model.js";
import type { PortSpec } from "../../../src/provider.js";
import { clbConfig } from "../../../test/fixtures/aws-config.js";
import { newSpec, type SpecPort } from "../../../testing/new-spec.js";

/** The Service ports as deriveSpec gives them. */
const ports = (...specPorts: SpecPort[]): readonly PortSpec[] => newSpec({ ports: specPorts }).ports;

describe("desiredListeners", () => {
  it("maps each Service port to its NodePort over TCP", () => {
    expect(desiredListeners(ports({ port: 80, nodePort: 30080 }, { port: 443, nodePort: 30443 }), clbConfig())).toEqual(
      [
        { LoadBalancerPort: 80, InstancePort: 30080, Protocol: "TCP", InstanceProtocol: "TCP" },
        { LoadBalancerPort: 443, InstancePort: 30443, Protocol: "TCP", InstanceProtocol: "TCP" },
      ],
    );
  });

  it("terminates TLS only on ssl-ports (by number or name), SSL/TCP without backend-protocol", () => {
    const config = clbConfig({ sslCertificate: "arn:cert", sslPorts: [443, "Admin"] });
    const out = desiredListeners(
      ports(
        { port: 80, nodePort: 30080 },
        { port: 443, nodePort: 30443 },
        { port: 8443, nodePort: 30843, name: "admin" },
      ),
      config,
    );
    expect(out.map((l) => [l.Protocol, l.InstanceProtocol, l.SSLCertificateId])).toEqual([
      ["TCP", "TCP", undefined],
      ["SSL", "TCP", "arn:cert"],
      ["SSL", "TCP", "arn:cert"],
    ]);
  });

  it("follows cloud-provider-aws's backend protocol mapping", () => {
    const listener = (backendProtocol: "http" | "https" | "ssl" | "tcp", cert?: string) =>
      desiredListeners(ports({ port: 443, nodePort: 30443 }), clbConfig({ backendProtocol, sslCertificate: cert }))[0];
    expect(listener("https", "c")).toMatchObject({ Protocol: "HTTPS", InstanceProtocol: "HTTPS" });
    expect(listener("http", "c")).toMatchObject({ Protocol: "HTTPS", InstanceProtocol: "HTTP" });
    expect(listener("ssl", "c")).toMatchObject({ Protocol: "SSL", InstanceProtocol: "SSL" });
    expect(listener("tcp", "c")).toMatchObject({ Protocol: "SSL", InstanceProtocol: "TCP" });
    expect(listener("http")).toMatchObject({ Protocol: "HTTP", InstanceProtocol: "HTTP" });
    expect(listener("https")).toMatchObject({ Protocol: "TCP", InstanceProtocol: "TCP" });
  });

  it("rejects UDP and ports without a NodePort with a field path", () => {
    const mixed = ports({ port: 80, nodePort: 30080 }, { port: 53, nodePort: 30053, protocol: "UDP" });
    expect(() => desiredListeners(mixed, clbConfig())).toThrow(InvalidSpecError);
    expect(() => desiredListeners(mixed, clbConfig())).toThrow(/spec\.ports\[1\]\.protocol/);
    // deriveSpec never hands this over in nodePort mode; the deployer refuses it all the same.
    const noNodePort: PortSpec = { name: "", protocol: "TCP", port: 80, nodePort: undefined, appProtocol: undefined };
    expect(() => desiredListeners([noNodePort], clbConfig())).toThrow(/spec\.ports\[0\]\.nodePort/);
    expect(() => desiredListeners([], clbConfig())).toThrow(InvalidSpecError);
  });
});

describe("diffListeners", () => {
  const l = (port: number, nodePort: number, protocol = "TCP") => ({
    LoadBalancerPort: port,
    InstancePort: nodePort,
    Protocol: protocol,
    InstanceProtocol: protocol,
  });

  it("is empty when converged, ignoring protocol case", () => {
    expect(diffListeners([l(80, 30080, "tcp")], [l(80, 30080)])).toEqual({ remove: [], create: [] });
  });

  it("removes gone listeners, re-creates changed ones, creates new ones", () => {
    const diff = diffListeners(
      [l(80, 30080), l(443, 30443), l(22, 30022)],
      [l(80, 30080), l(443, 31443), l(8080, 30808)],
    );
    expect(diff.remove).toEqual([22, 443]);
    expect(diff.create).toEqual([l(443, 31443), l(8080, 30808)]);
  });

  it("treats a changed certificate as a changed listener", () => {
    const withCert = (cert: string) => ({ ...l(443, 30443, "SSL"), InstanceProtocol: "TCP", SSLCertificateId: cert });
    expect(diffListeners([withCert("a")], [withCert("b")]).remove).toEqual([443]);
  });
});

describe("attributeChanges", () => {
  const defaults = {
    CrossZoneLoadBalancing: { Enabled: false },
    AccessLog: { Enabled: false },
    ConnectionDraining: { Enabled: false },
    ConnectionSettings: { IdleTimeout: 60 },
  };

  it("returns undefined when every block matches (disabled blocks ignore their stale fields)", () => {
    expect(attributeChanges(defaults, clbConfig())).toBeUndefined();
    const stale = {
      ...defaults,
      ConnectionDraining: { Enabled: false, Timeout: 17 },
      AccessLog: { Enabled: false, S3BucketName: "old" },
    };
    expect(attributeChanges(stale, clbConfig())).toBeUndefined();
  });

  it("returns only the blocks that differ", () => {
    const config = clbConfig({ connectionDraining: { enabled: true, timeoutSeconds: 120 }, crossZone: true });
    expect(attributeChanges(defaults, config)).toEqual({
      ConnectionDraining: { Enabled: true, Timeout: 120 },
      CrossZoneLoadBalancing: { Enabled: true },
    });
    expect(attributeChanges({ ...defaults, ConnectionDraining: { Enabled: true, Timeout: 300 } }, config)).toEqual({
      ConnectionDraining: { Enabled: true, Timeout: 120 },
      CrossZoneLoadBalancing: { Enabled: true },
    });
  });

  it("diffs access logs on bucket, prefix and an explicit interval", () => {
    const accessLog = { enabled: true, bucket: "logs", prefix: "p", emitIntervalMinutes: 5 };
    const current = {
      ...defaults,
      AccessLog: { Enabled: true, S3BucketName: "logs", S3BucketPrefix: "p", EmitInterval: 5 },
    };
    expect(attributeChanges(current, clbConfig({ accessLog }))).toBeUndefined();
    expect(
      attributeChanges(current, clbConfig({ accessLog: { ...accessLog, emitIntervalMinutes: undefined } })),
    ).toBeUndefined();
    expect(attributeChanges(current, clbConfig({ accessLog: { ...accessLog, prefix: "q" } }))?.AccessLog).toEqual({
      Enabled: true,
      S3BucketName: "logs",
      S3BucketPrefix: "q",
      EmitInterval: 5,
    });
  });
});

describe("health check, tags, ownership, sets", () => {
  const hc = { Target: "TCP:30080", Interval: 10, Timeout: 5, HealthyThreshold: 2, UnhealthyThreshold: 6 };

  it("a missing health check differs; an equal one does not", () => {
    expect(healthCheckDiffers(undefined, hc)).toBe(true);
    expect(healthCheckDiffers({ ...hc }, hc)).toBe(false);
    expect(healthCheckDiffers({ ...hc, Target: "TCP:30081" }, hc)).toBe(true);
    expect(healthCheckDiffers({ ...hc, UnhealthyThreshold: 2 }, hc)).toBe(true);
  });

  it("adds only missing or changed tags", () => {
    expect(missingTags({ a: "1", b: "2", extra: "x" }, { a: "1", b: "3", c: "4" })).toEqual([
      { Key: "b", Value: "3" },
      { Key: "c", Value: "4" },
    ]);
    expect(missingTags({ a: "1" }, { a: "1" })).toEqual([]);
  });

  it("owns a load balancer only with both the cluster and the Service UID tags", () => {
    expect(isOwned({ [TAG_CLUSTER]: "c", [TAG_SERVICE_UID]: "u" }, "c", "u")).toBe(true);
    expect(isOwned({ [TAG_CLUSTER]: "c", [TAG_SERVICE_UID]: "other" }, "c", "u")).toBe(false);
    expect(isOwned({ [TAG_SERVICE_UID]: "u" }, "c", "u")).toBe(false);
  });

  it("diffs sets", () => {
    expect(diffSets(["i-1", "i-2"], ["i-2", "i-3"])).toEqual({ add: ["i-3"], remove: ["i-1"] });
    expect(diffSets(["a"], ["a"])).toEqual({ add: [], remove: [] });
  });
});

describe("proxyProtocolPlan", () => {
  const lb = (policies: string[], backends: { port: number; names: string[] }[]): LoadBalancerDescription => ({
    Policies: { OtherPolicies: policies },
    BackendServerDescriptions: backends.map((b) => ({ InstancePort: b.port, PolicyNames: b.names })),
  });

  it("creates the policy and sets it on every NodePort when enabled", () => {
    expect(proxyProtocolPlan(lb([], []), [30080, 30443], true)).toEqual({
      createPolicy: true,
      backendChanges: [
        { instancePort: 30080, policyNames: [PROXY_PROTOCOL_POLICY] },
        { instancePort: 30443, policyNames: [PROXY_PROTOCOL_POLICY] },
      ],
    });
  });

  it("does nothing when already converged", () => {
    const done = lb([PROXY_PROTOCOL_POLICY], [{ port: 30080, names: [PROXY_PROTOCOL_POLICY] }]);
    expect(proxyProtocolPlan(done, [30080], true)).toEqual({ createPolicy: false, backendChanges: [] });
    expect(proxyProtocolPlan(lb([], []), [30080], false)).toEqual({ createPolicy: false, backendChanges: [] });
  });

  it("removes our policy from ports that no longer want it and keeps other policies", () => {
    const current = lb(
      [PROXY_PROTOCOL_POLICY, "other"],
      [
        { port: 30080, names: [PROXY_PROTOCOL_POLICY, "other"] },
        { port: 30099, names: [PROXY_PROTOCOL_POLICY] },
      ],
    );
    expect(proxyProtocolPlan(current, [30080], false).backendChanges).toEqual([
      { instancePort: 30080, policyNames: ["other"] },
      { instancePort: 30099, policyNames: [] },
    ]);
    expect(proxyProtocolPlan(current, [30080], true).backendChanges).toEqual([
      { instancePort: 30099, policyNames: [] },
    ]);
  });
});
