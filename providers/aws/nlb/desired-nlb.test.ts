import { describe, it, expect } from "vitest";
import { TAG_RESOURCE, TAG_SERVICE_UID, ownershipTags } from "../aws-types.js";
import { loadBalancerName } from "../names.js";
import {
  ATTR_ACCESS_LOGS_BUCKET,
  ATTR_CROSS_ZONE,
  ATTR_PROXY_PROTOCOL_V2,
  DEFAULT_SSL_POLICY,
  IP_TARGET_GROUP_PORT,
  desiredNlb,
} from "./desired-nlb.js";
import { TAG_ADDITIONAL_KEYS } from "./nlb-diff.js";
import type { LoadBalancerSpec, PodEndpoint } from "../../../src/provider.js";
import { nlbConfig, nlbEnv, nlbInput } from "../../../test/fixtures/aws-config.js";
import { invalidSpecField } from "../../../testing/invalid-spec.js";
import { newSpec, type NewSpecOptions } from "../../../testing/new-spec.js";

const nlbSpec = (options: NewSpecOptions = {}): LoadBalancerSpec => newSpec({ clusterId: "nlb-test", ...options });
const nlbTestId = () => nlbSpec().id;

/** A pod endpoint as is, including ones deriveSpec would drop: the provider must drop them too. */
function endpoint(ip: string, ports: Record<string, number>, ready = true): PodEndpoint {
  return { ip, ports, nodeName: undefined, zone: undefined, ready, serving: ready };
}

describe("desiredNlb: load balancer", () => {
  it("names, scheme, subnets, sorted security groups, tags and attributes", () => {
    const config = nlbConfig({ additionalTags: { team: "a", [TAG_SERVICE_UID]: "spoofed" }, crossZone: true });
    const nlb = desiredNlb(nlbInput({ config, securityGroupIds: ["sg-2", "sg-1"] }));
    const lb = nlb.loadBalancer;
    expect(lb.name).toBe(loadBalancerName(nlbTestId(), "nlb", "internet-facing"));
    expect(lb.scheme).toBe("internet-facing");
    expect(lb.subnetMappings).toEqual([
      { subnetId: "subnet-a", allocationId: undefined },
      { subnetId: "subnet-b", allocationId: undefined },
    ]);
    expect(lb.securityGroupIds).toEqual(["sg-1", "sg-2"]);
    // Ownership tags win over a user tag of the same key; the record lists only genuinely additional keys.
    expect(lb.tags).toEqual({
      ...ownershipTags(nlbTestId(), "LoadBalancer"),
      team: "a",
      [TAG_ADDITIONAL_KEYS]: "team",
    });
    expect(lb.attributes).toEqual({ [ATTR_CROSS_ZONE]: "true", "access_logs.s3.enabled": "false" });
  });

  it("maps EIP allocations to subnets in order and rejects a count mismatch", () => {
    const lb = desiredNlb(
      nlbInput({ config: nlbConfig({ eipAllocations: ["eipalloc-1", "eipalloc-2"] }) }),
    ).loadBalancer;
    expect(lb.subnetMappings.map((m) => m.allocationId)).toEqual(["eipalloc-1", "eipalloc-2"]);
    expect(
      invalidSpecField(() => desiredNlb(nlbInput({ config: nlbConfig({ eipAllocations: ["eipalloc-1"] }) }))),
    ).toContain("eip-allocations");
  });

  it("access logs need a bucket", () => {
    const on = { enabled: true, bucket: "logs", prefix: "p", emitIntervalMinutes: undefined };
    expect(desiredNlb(nlbInput({ config: nlbConfig({ accessLog: on }) })).loadBalancer.attributes).toMatchObject({
      "access_logs.s3.enabled": "true",
      [ATTR_ACCESS_LOGS_BUCKET]: "logs",
      "access_logs.s3.prefix": "p",
    });
    expect(
      invalidSpecField(() => desiredNlb(nlbInput({ config: nlbConfig({ accessLog: { ...on, bucket: undefined } }) }))),
    ).toContain("s3-bucket-name");
  });

  it("an internal scheme gives another name", () => {
    const internal = desiredNlb(nlbInput({ config: nlbConfig({ scheme: "internal" }) })).loadBalancer;
    expect(internal.name).toBe(loadBalancerName(nlbTestId(), "nlb", "internal"));
    expect(internal.name).not.toBe(desiredNlb(nlbInput()).loadBalancer.name);
  });
});

describe("desiredNlb: instance targets", () => {
  const spec = nlbSpec({
    ports: [
      { port: 80, nodePort: 30080, name: "http" },
      { port: 53, nodePort: 30053, name: "dns", protocol: "UDP" },
    ],
  });

  it("one target group and listener per port, on the NodePort, with every instance", () => {
    const nlb = desiredNlb(nlbInput({ spec }));
    expect(nlb.targetGroups.map((g) => [g.servicePort, g.protocol, g.port, g.targetType])).toEqual([
      [80, "TCP", 30080, "instance"],
      [53, "UDP", 30053, "instance"],
    ]);
    expect(nlb.targetGroups[0]?.targets).toEqual([
      { id: "i-aaa", port: 30080 },
      { id: "i-bbb", port: 30080 },
    ]);
    expect(nlb.targetGroups[0]?.tags[TAG_RESOURCE]).toBe("default/web:80");
    expect(nlb.targetGroups[0]?.healthCheck).toEqual({
      protocol: "TCP",
      port: "traffic-port",
      path: undefined,
      intervalSeconds: 10,
      timeoutSeconds: 10,
      healthyThreshold: 3,
      unhealthyThreshold: 3,
    });
    expect(nlb.listeners.map((l) => [l.port, l.protocol, l.targetGroupName])).toEqual([
      [80, "TCP", nlb.targetGroups[0]?.name],
      [53, "UDP", nlb.targetGroups[1]?.name],
    ]);
    expect(new Set(nlb.targetGroups.map((g) => g.name)).size).toBe(2);
  });

  it("Local: HTTP on healthCheckNodePort, and a new target group name", () => {
    const local = nlbSpec({ healthCheckNodePort: 32100 });
    const tg = desiredNlb(nlbInput({ spec: local })).targetGroups[0];
    expect(tg?.healthCheck).toMatchObject({ protocol: "HTTP", port: 32100, path: "/healthz" });
    expect(tg?.name).not.toBe(desiredNlb(nlbInput()).targetGroups[0]?.name);
  });

  it("rejects a port without NodePort, SCTP, and one port number on two protocols", () => {
    expect(
      invalidSpecField(() =>
        desiredNlb(
          nlbInput({
            spec: {
              ...nlbSpec(),
              ports: [{ name: "", protocol: "TCP", port: 80, nodePort: undefined, appProtocol: undefined }],
            },
          }),
        ),
      ),
    ).toBe("spec.allocateLoadBalancerNodePorts");
    expect(
      invalidSpecField(() =>
        desiredNlb(nlbInput({ spec: nlbSpec({ ports: [{ port: 80, nodePort: 30080, name: "", protocol: "SCTP" }] }) })),
      ),
    ).toBe("spec.ports");
    expect(
      invalidSpecField(() =>
        desiredNlb(
          nlbInput({
            spec: nlbSpec({
              ports: [
                { port: 53, nodePort: 30053, name: "a" },
                { port: 53, nodePort: 30054, name: "b", protocol: "UDP" },
              ],
            }),
          }),
        ),
      ),
    ).toBe("spec.ports");
  });

  it("no instances: target groups without targets", () => {
    expect(desiredNlb(nlbInput({ env: nlbEnv({ instances: [] }) })).targetGroups[0]?.targets).toEqual([]);
  });
});

describe("desiredNlb: TLS, attributes", () => {
  const spec = nlbSpec({
    ports: [
      { port: 443, nodePort: 30443, name: "https" },
      { port: 80, nodePort: 30080, name: "http" },
      { port: 53, nodePort: 30053, name: "dns", protocol: "UDP" },
    ],
  });
  const cert = "arn:aws:acm:us-east-1:123456789012:certificate/abc";

  it("ssl-ports by number or name terminate TLS with the certificate and the default policy", () => {
    const nlb = desiredNlb(nlbInput({ spec, config: nlbConfig({ sslCertificate: cert, sslPorts: [443] }) }));
    expect(nlb.listeners.map((l) => [l.port, l.protocol, l.certificateArn, l.sslPolicy])).toEqual([
      [443, "TLS", cert, DEFAULT_SSL_POLICY],
      [80, "TCP", undefined, undefined],
      [53, "UDP", undefined, undefined],
    ]);
    expect(nlb.targetGroups[0]?.protocol).toBe("TCP");
    const byName = desiredNlb(nlbInput({ spec, config: nlbConfig({ sslCertificate: cert, sslPorts: ["http"] }) }));
    expect(byName.listeners.map((l) => l.protocol)).toEqual(["TCP", "TLS", "UDP"]);
  });

  it("'*' covers every TCP port; backend-protocol ssl makes TLS target groups", () => {
    const nlb = desiredNlb(
      nlbInput({
        spec,
        config: nlbConfig({ sslCertificate: cert, backendProtocol: "ssl", sslNegotiationPolicy: "P" }),
      }),
    );
    expect(nlb.listeners.map((l) => l.protocol)).toEqual(["TLS", "TLS", "UDP"]);
    expect(nlb.listeners[0]?.sslPolicy).toBe("P");
    expect(nlb.targetGroups.map((g) => g.protocol)).toEqual(["TLS", "TLS", "UDP"]);
  });

  it("no certificate, no TLS; a UDP port listed in ssl-ports is an error", () => {
    expect(desiredNlb(nlbInput({ spec, config: nlbConfig({ sslPorts: [443] }) })).listeners[0]?.protocol).toBe("TCP");
    expect(
      invalidSpecField(() =>
        desiredNlb(nlbInput({ spec, config: nlbConfig({ sslCertificate: cert, sslPorts: [53] }) })),
      ),
    ).toContain("ssl-ports");
  });

  it("target-group-attributes plus proxy_protocol_v2 for proxy-protocol", () => {
    const config = nlbConfig({
      proxyProtocol: true,
      targetGroupAttributes: { "deregistration_delay.timeout_seconds": "30" },
    });
    expect(desiredNlb(nlbInput({ config })).targetGroups[0]?.attributes).toEqual({
      "deregistration_delay.timeout_seconds": "30",
      [ATTR_PROXY_PROTOCOL_V2]: "true",
    });
    expect(desiredNlb(nlbInput()).targetGroups[0]?.attributes).toEqual({});
  });
});

describe("desiredNlb: ip targets", () => {
  const config = nlbConfig({ targetType: "ip" });
  const podSpec = (endpoints: PodEndpoint[]): LoadBalancerSpec => ({
    ...nlbSpec({ endpoints: [] }),
    backends: { mode: "pod", endpoints },
  });

  it("ready IPv4 endpoints with their own target port; the group's port is a fixed placeholder", () => {
    const spec = podSpec([
      endpoint("10.1.0.9", { http: 8080 }),
      endpoint("10.1.0.2", { http: 8081 }),
      endpoint("10.1.0.3", { http: 8079 }, false),
      endpoint("fd00::1", { http: 8080 }),
      endpoint("10.1.0.4", { other: 9000 }),
    ]);
    const tg = desiredNlb(nlbInput({ spec, config })).targetGroups[0];
    expect(tg?.targetType).toBe("ip");
    expect(tg?.port).toBe(IP_TARGET_GROUP_PORT);
    expect(tg?.targets).toEqual([
      { id: "10.1.0.2", port: 8081 },
      { id: "10.1.0.9", port: 8080 },
    ]);
    // The ETP=Local node check does not apply to ip targets (LBC #1813).
    const local = {
      ...spec,
      externalTrafficPolicy: "Local" as const,
      healthCheck: nlbSpec({ healthCheckNodePort: 32100 }).healthCheck,
    };
    expect(desiredNlb(nlbInput({ spec: local, config })).targetGroups[0]?.healthCheck.protocol).toBe("TCP");
  });

  it("no endpoints empties the group under the same name; node backends are invalid", () => {
    const some = desiredNlb(nlbInput({ spec: podSpec([endpoint("10.1.0.9", { http: 8080 })]), config }))
      .targetGroups[0];
    const none = desiredNlb(nlbInput({ spec: podSpec([]), config })).targetGroups[0];
    expect(none?.targets).toEqual([]);
    expect(none?.name).toBe(some?.name);
    expect(invalidSpecField(() => desiredNlb(nlbInput({ config })))).toContain("nlb-target-type");
  });
});
