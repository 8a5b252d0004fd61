import { describe, expect, it } from "vitest";
import { InvalidSpecError } from "../../src/errors.js";
import type { LoadBalancerSpec, PortSpec } from "../../src/provider.js";
import { AWS_ANNOTATIONS, parseAwsConfig } from "./annotations.js";
import type { AwsServiceConfig } from "./aws-types.js";
import { newSpec } from "../../testing/new-spec.js";

const P = "service.beta.kubernetes.io/aws-load-balancer-";
const http: PortSpec = { name: "http", protocol: "TCP", port: 80, nodePort: 30080, appProtocol: undefined };
const https: PortSpec = { name: "https", protocol: "TCP", port: 443, nodePort: 30443, appProtocol: undefined };
const dns: PortSpec = { name: "dns", protocol: "UDP", port: 53, nodePort: 30053, appProtocol: undefined };

interface SpecOptions {
  readonly ports?: readonly PortSpec[];
  readonly pod?: boolean;
  readonly requestedIP?: string;
}

/**
 * Annotation keys are given without the common prefix. The ports are taken as given (after the pod-mode nodePort
 * rule), including ones deriveSpec would refuse, because parseAwsConfig must refuse them too.
 */
function spec(annotations: Record<string, string>, opts: SpecOptions = {}): LoadBalancerSpec {
  const pod = opts.pod ?? false;
  const base = newSpec({
    annotations: Object.fromEntries(Object.entries(annotations).map(([k, v]) => [P + k, v])),
    endpoints: pod ? [] : undefined,
    loadBalancerIP: opts.requestedIP,
  });
  return { ...base, ports: (opts.ports ?? [http, https]).map((p) => (pod ? { ...p, nodePort: undefined } : p)) };
}

function invalid(s: LoadBalancerSpec): InvalidSpecError {
  try {
    parseAwsConfig(s);
  } catch (err) {
    if (err instanceof InvalidSpecError) return err;
    throw err;
  }
  throw new Error("expected InvalidSpecError");
}

const NLB = { type: "nlb" };
const CERT = "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d";

describe("parseAwsConfig defaults", () => {
  it("no annotations: a classic ELB with CPA's defaults", () => {
    expect(parseAwsConfig(spec({}))).toEqual<AwsServiceConfig>({
      kind: "clb",
      targetType: "instance",
      scheme: "internet-facing",
      subnets: undefined,
      securityGroups: undefined,
      extraSecurityGroups: [],
      additionalTags: {},
      crossZone: false,
      sslCertificate: undefined,
      sslPorts: "*",
      sslNegotiationPolicy: undefined,
      backendProtocol: undefined,
      targetGroupAttributes: {},
      eipAllocations: undefined,
      targetNodeLabels: {},
      accessLog: { enabled: false, bucket: undefined, prefix: undefined, emitIntervalMinutes: undefined },
      proxyProtocol: false,
      healthCheck: {
        protocol: undefined,
        port: undefined,
        path: undefined,
        intervalSeconds: undefined,
        timeoutSeconds: undefined,
        healthyThreshold: undefined,
        unhealthyThreshold: undefined,
      },
      connectionDraining: { enabled: false, timeoutSeconds: 300 },
      idleTimeoutSeconds: 60,
    });
  });

  it("exports every key with the common prefix", () => {
    for (const key of Object.values(AWS_ANNOTATIONS)) expect(key.startsWith(P)).toBe(true);
    expect(new Set(Object.values(AWS_ANNOTATIONS)).size).toBe(Object.values(AWS_ANNOTATIONS).length);
  });
});

type Good = [string, Record<string, string>, SpecOptions, Partial<AwsServiceConfig>];
const good: Good[] = [
  ["blank type is no annotation", { type: "  " }, {}, { kind: "clb" }],
  ["type nlb", NLB, {}, { kind: "nlb", targetType: "instance" }],
  ["type nlb-ip", { type: "nlb-ip" }, {}, { kind: "nlb", targetType: "ip" }],
  ["type external", { type: "external" }, {}, { kind: "nlb", targetType: "instance" }],
  ["nlb-target-type ip", { type: "external", "nlb-target-type": "ip" }, {}, { targetType: "ip" }],
  ["nlb-target-type instance", { ...NLB, "nlb-target-type": "instance" }, {}, { targetType: "instance" }],
  ["pod mode forces ip", NLB, { pod: true }, { targetType: "ip" }],
  ["pod mode with nlb-target-type ip", { ...NLB, "nlb-target-type": "ip" }, { pod: true }, { targetType: "ip" }],
  [
    "classic ELB with nlb-target-type instance",
    { "nlb-target-type": "instance" },
    {},
    { kind: "clb", targetType: "instance" },
  ],
  ["internal true", { internal: "true" }, {}, { scheme: "internal" }],
  ["internal Go bool form", { internal: "1" }, {}, { scheme: "internal" }],
  ["internal legacy CIDR", { internal: "0.0.0.0/0" }, {}, { scheme: "internal" }],
  ["internal false", { internal: "false" }, {}, { scheme: "internet-facing" }],
  ["scheme internal", { scheme: "internal" }, {}, { scheme: "internal" }],
  ["scheme agrees with internal", { scheme: "internet-facing", internal: "False" }, {}, { scheme: "internet-facing" }],
  ["subnets", { subnets: "subnet-0a, my-subnet" }, {}, { subnets: ["subnet-0a", "my-subnet"] }],
  ["security-groups", { "security-groups": "sg-1,sg-2" }, {}, { securityGroups: ["sg-1", "sg-2"] }],
  ["extra-security-groups (classic)", { "extra-security-groups": "sg-9" }, {}, { extraSecurityGroups: ["sg-9"] }],
  [
    "additional-resource-tags",
    { "additional-resource-tags": "team=web, env = prod,empty=,expr=a=b" },
    {},
    { additionalTags: { empty: "", env: "prod", expr: "a=b", team: "web" } },
  ],
  ["tags at the length limits", { "additional-resource-tags": `${"k".repeat(128)}=${"v".repeat(256)}` }, {}, {}],
  ["cross-zone true", { "cross-zone-load-balancing-enabled": "true" }, {}, { crossZone: true }],
  ["cross-zone False", { "cross-zone-load-balancing-enabled": "False" }, {}, { crossZone: false }],
  ["ssl-cert alone means every port", { "ssl-cert": CERT }, {}, { sslCertificate: CERT, sslPorts: "*" }],
  ["ssl-cert IAM", { "ssl-cert": "arn:aws:iam::123456789012:server-certificate/x" }, {}, {}],
  ["ssl-ports by number and name", { "ssl-cert": CERT, "ssl-ports": "443, http" }, {}, { sslPorts: [443, "http"] }],
  ["ssl-ports *", { "ssl-cert": CERT, "ssl-ports": "*" }, {}, { sslPorts: "*" }],
  [
    "ssl-negotiation-policy",
    { "ssl-cert": CERT, "ssl-negotiation-policy": "ELBSecurityPolicy-TLS13-1-2-2021-06" },
    {},
    { sslNegotiationPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06" },
  ],
  ["backend-protocol on classic", { "backend-protocol": "HTTP" }, {}, { backendProtocol: "http" }],
  ["backend-protocol ssl on NLB", { ...NLB, "backend-protocol": "ssl" }, {}, { backendProtocol: "ssl" }],
  [
    "target-group-attributes",
    {
      ...NLB,
      "target-group-attributes":
        "preserve_client_ip.enabled=false,deregistration_delay.timeout_seconds=30,stickiness.type=source_ip",
    },
    {},
    {
      targetGroupAttributes: {
        "deregistration_delay.timeout_seconds": "30",
        "preserve_client_ip.enabled": "false",
        "stickiness.type": "source_ip",
      },
    },
  ],
  [
    "eip-allocations one per subnet",
    { ...NLB, subnets: "subnet-a,subnet-b", "eip-allocations": "eipalloc-0a1,eipalloc-0b2" },
    {},
    { eipAllocations: ["eipalloc-0a1", "eipalloc-0b2"] },
  ],
  [
    "eip-allocations without subnets",
    { ...NLB, "eip-allocations": "eipalloc-1" },
    {},
    { eipAllocations: ["eipalloc-1"] },
  ],
  [
    "target-node-labels",
    { "target-node-labels": "node.kubernetes.io/role=lb, tier=" },
    {},
    { targetNodeLabels: { "node.kubernetes.io/role": "lb", tier: "" } },
  ],
  [
    "access logs",
    {
      "access-log-enabled": "true",
      "access-log-s3-bucket-name": "my-logs.example",
      "access-log-s3-bucket-prefix": "lb/web",
      "access-log-emit-interval": "5",
    },
    {},
    { accessLog: { enabled: true, bucket: "my-logs.example", prefix: "lb/web", emitIntervalMinutes: 5 } },
  ],
  [
    "access log bucket without enabled",
    { "access-log-s3-bucket-name": "logs" },
    {},
    { accessLog: { enabled: false, bucket: "logs", prefix: undefined, emitIntervalMinutes: undefined } },
  ],
  ["proxy-protocol *", { "proxy-protocol": "*" }, {}, { proxyProtocol: true }],
  [
    "proxy-protocol with TG attribute true",
    { ...NLB, "proxy-protocol": "*", "target-group-attributes": "proxy_protocol_v2.enabled=true" },
    {},
    { proxyProtocol: true },
  ],
  [
    "every health check annotation",
    {
      ...NLB,
      "healthcheck-protocol": "http",
      "healthcheck-port": "8080",
      "healthcheck-path": "/ready?full=1",
      "healthcheck-interval": "300",
      "healthcheck-timeout": "120",
      "healthcheck-healthy-threshold": "2",
      "healthcheck-unhealthy-threshold": "10",
    },
    {},
    {
      healthCheck: {
        protocol: "HTTP",
        port: 8080,
        path: "/ready?full=1",
        intervalSeconds: 300,
        timeoutSeconds: 120,
        healthyThreshold: 2,
        unhealthyThreshold: 10,
      },
    },
  ],
  [
    "healthcheck-port traffic-port, interval 5",
    { ...NLB, "healthcheck-port": "traffic-port", "healthcheck-interval": "5", "healthcheck-timeout": "2" },
    {},
    {},
  ],
  [
    "connection draining and idle timeout (classic)",
    { "connection-draining-enabled": "true", "connection-draining-timeout": "60", "connection-idle-timeout": "4000" },
    {},
    { connectionDraining: { enabled: true, timeoutSeconds: 60 }, idleTimeoutSeconds: 4000 },
  ],
  ["NLB with TCP and UDP on different ports", NLB, { ports: [http, dns] }, { kind: "nlb" }],
  [
    "NLB ssl-ports may skip UDP ports",
    { ...NLB, "ssl-cert": CERT, "ssl-ports": "http" },
    { ports: [http, dns] },
    { sslPorts: ["http"] },
  ],
];

describe("parseAwsConfig accepts", () => {
  it.each(good)("%s", (_name, annotations, opts, want) => {
    expect(parseAwsConfig(spec(annotations, opts))).toMatchObject(want);
  });
});

/** [description, annotations, spec options, field (annotation suffix, or a spec field), text the message must contain]. */
type Bad = [string, Record<string, string>, SpecOptions, string, string];
const bad: Bad[] = [
  ["unknown type", { type: "alb" }, {}, "type", '"alb"'],
  ["type is case-sensitive", { type: "NLB" }, {}, "type", '"NLB"'],
  ["unknown target type", { ...NLB, "nlb-target-type": "pod" }, {}, "nlb-target-type", '"pod"'],
  ["ip targets on classic", { "nlb-target-type": "ip" }, {}, "nlb-target-type", '"ip"'],
  [
    "instance targets in pod mode",
    { ...NLB, "nlb-target-type": "instance" },
    { pod: true },
    "nlb-target-type",
    '"instance"',
  ],
  [
    "instance targets with nlb-ip",
    { type: "nlb-ip", "nlb-target-type": "instance" },
    {},
    "nlb-target-type",
    '"instance"',
  ],
  ["classic in pod mode", {}, { pod: true }, "spec.allocateLoadBalancerNodePorts", '"false"'],
  ["internal not a bool", { internal: "yes" }, {}, "internal", '"yes"'],
  ["unknown scheme", { scheme: "public" }, {}, "scheme", '"public"'],
  ["scheme contradicts internal", { scheme: "internal", internal: "false" }, {}, "scheme", '"internal"'],
  ["empty subnet entry", { subnets: "subnet-a,,subnet-b" }, {}, "subnets", '"subnet-a,,subnet-b"'],
  ["duplicate subnet", { subnets: "subnet-a,subnet-a" }, {}, "subnets", '"subnet-a"'],
  ["trailing comma in security-groups", { "security-groups": "sg-1," }, {}, "security-groups", '"sg-1,"'],
  ["extra-security-groups on NLB", { ...NLB, "extra-security-groups": "sg-9" }, {}, "extra-security-groups", '"sg-9"'],
  ["tag without =", { "additional-resource-tags": "team" }, {}, "additional-resource-tags", '"team"'],
  ["tag with empty key", { "additional-resource-tags": "=v" }, {}, "additional-resource-tags", '"=v"'],
  ["tag key aws:", { "additional-resource-tags": "AWS:x=y" }, {}, "additional-resource-tags", '"AWS:x=y"'],
  [
    "tag key too long",
    { "additional-resource-tags": `${"k".repeat(129)}=v` },
    {},
    "additional-resource-tags",
    `"${"k".repeat(128)}…" (131 bytes)`,
  ],
  [
    "tag value too long",
    { "additional-resource-tags": `k=${"v".repeat(257)}` },
    {},
    "additional-resource-tags",
    `"k=${"v".repeat(126)}…" (259 bytes)`,
  ],
  ["duplicate tag key", { "additional-resource-tags": "a=b,a=c" }, {}, "additional-resource-tags", '"a"'],
  ["tag character", { "additional-resource-tags": "k=v#1" }, {}, "additional-resource-tags", '"k=v#1"'],
  [
    "ownership tag",
    { "additional-resource-tags": "elbv2.k8s.aws/cluster=x" },
    {},
    "additional-resource-tags",
    '"elbv2.k8s.aws/cluster=x"',
  ],
  [
    "cluster tag",
    { "additional-resource-tags": "kubernetes.io/cluster/other=owned" },
    {},
    "additional-resource-tags",
    '"kubernetes.io/cluster/other=owned"',
  ],
  [
    "too many tags",
    { "additional-resource-tags": Array.from({ length: 44 }, (_, i) => `t${i}=v`).join(",") },
    {},
    "additional-resource-tags",
    "44 tags: at most 43",
  ],
  [
    "cross-zone not a bool",
    { "cross-zone-load-balancing-enabled": "yes" },
    {},
    "cross-zone-load-balancing-enabled",
    '"yes"',
  ],
  ["ssl-cert not an ARN", { "ssl-cert": "my-cert" }, {}, "ssl-cert", '"my-cert"'],
  ["two certificates", { "ssl-cert": `${CERT},${CERT}` }, {}, "ssl-cert", `"${CERT},${CERT}"`],
  ["ssl-ports without cert", { "ssl-ports": "443" }, {}, "ssl-ports", '"443"'],
  ["ssl-ports unknown number", { "ssl-cert": CERT, "ssl-ports": "8443" }, {}, "ssl-ports", '"8443"'],
  ["ssl-ports unknown name", { "ssl-cert": CERT, "ssl-ports": "https,admin" }, {}, "ssl-ports", '"admin"'],
  [
    "ssl-ports names a UDP port",
    { ...NLB, "ssl-cert": CERT, "ssl-ports": "dns" },
    { ports: [http, dns] },
    "ssl-ports",
    '"dns"',
  ],
  [
    "ssl-negotiation-policy without cert",
    { "ssl-negotiation-policy": "ELBSecurityPolicy-2016-08" },
    {},
    "ssl-negotiation-policy",
    '"ELBSecurityPolicy-2016-08"',
  ],
  [
    "ssl-negotiation-policy name",
    { "ssl-cert": CERT, "ssl-negotiation-policy": "my policy" },
    {},
    "ssl-negotiation-policy",
    '"my policy"',
  ],
  ["unknown backend-protocol", { "backend-protocol": "grpc" }, {}, "backend-protocol", '"grpc"'],
  ["http backend on NLB", { ...NLB, "backend-protocol": "http" }, {}, "backend-protocol", '"http"'],
  [
    "target-group-attributes on classic",
    { "target-group-attributes": "stickiness.enabled=true" },
    {},
    "target-group-attributes",
    '"stickiness.enabled=true"',
  ],
  [
    "target-group-attributes without =",
    { ...NLB, "target-group-attributes": "stickiness.enabled" },
    {},
    "target-group-attributes",
    '"stickiness.enabled"',
  ],
  [
    "target-group-attributes key",
    { ...NLB, "target-group-attributes": "bad key=1" },
    {},
    "target-group-attributes",
    '"bad key"',
  ],
  [
    "target-group-attributes empty value",
    { ...NLB, "target-group-attributes": "stickiness.type=" },
    {},
    "target-group-attributes",
    '"stickiness.type="',
  ],
  [
    "target-group-attributes bool",
    { ...NLB, "target-group-attributes": "preserve_client_ip.enabled=yes" },
    {},
    "target-group-attributes",
    '"preserve_client_ip.enabled=yes"',
  ],
  [
    "deregistration delay range",
    { ...NLB, "target-group-attributes": "deregistration_delay.timeout_seconds=4000" },
    {},
    "target-group-attributes",
    '"deregistration_delay.timeout_seconds=4000"',
  ],
  [
    "proxy protocol off in attributes but on by annotation",
    { ...NLB, "proxy-protocol": "*", "target-group-attributes": "proxy_protocol_v2.enabled=false" },
    {},
    "target-group-attributes",
    '"proxy_protocol_v2.enabled=false"',
  ],
  ["eip-allocations on classic", { "eip-allocations": "eipalloc-1" }, {}, "eip-allocations", '"eipalloc-1"'],
  ["eip-allocations id", { ...NLB, "eip-allocations": "eip-1" }, {}, "eip-allocations", '"eip-1"'],
  [
    "eip-allocations count",
    { ...NLB, subnets: "subnet-a,subnet-b", "eip-allocations": "eipalloc-1" },
    {},
    "eip-allocations",
    '"eipalloc-1"',
  ],
  [
    "eip-allocations on internal NLB",
    { ...NLB, scheme: "internal", "eip-allocations": "eipalloc-1" },
    {},
    "eip-allocations",
    '"eipalloc-1"',
  ],
  ["target-node-labels without =", { "target-node-labels": "role" }, {}, "target-node-labels", '"role"'],
  ["target-node-labels key", { "target-node-labels": "bad key=x" }, {}, "target-node-labels", '"bad key=x"'],
  [
    "target-node-labels value",
    { "target-node-labels": `role=${"x".repeat(64)}` },
    {},
    "target-node-labels",
    `"role=${"x".repeat(64)}"`,
  ],
  [
    "target-node-labels with ip targets",
    { type: "nlb-ip", "target-node-labels": "role=lb" },
    {},
    "target-node-labels",
    '"role=lb"',
  ],
  ["access log enabled without bucket", { "access-log-enabled": "true" }, {}, "access-log-enabled", '"true"'],
  ["access log enabled not a bool", { "access-log-enabled": "maybe" }, {}, "access-log-enabled", '"maybe"'],
  [
    "access log bucket name",
    { "access-log-s3-bucket-name": "Bad_Bucket" },
    {},
    "access-log-s3-bucket-name",
    '"Bad_Bucket"',
  ],
  [
    "access log prefix AWSLogs",
    { "access-log-s3-bucket-prefix": "x/AWSLogs" },
    {},
    "access-log-s3-bucket-prefix",
    '"x/AWSLogs"',
  ],
  ["access log prefix slash", { "access-log-s3-bucket-prefix": "/x" }, {}, "access-log-s3-bucket-prefix", '"/x"'],
  ["access log emit interval value", { "access-log-emit-interval": "10" }, {}, "access-log-emit-interval", '"10"'],
  [
    "access log emit interval text",
    { "access-log-emit-interval": "hourly" },
    {},
    "access-log-emit-interval",
    '"hourly"',
  ],
  [
    "access log emit interval on NLB",
    { ...NLB, "access-log-emit-interval": "5" },
    {},
    "access-log-emit-interval",
    '"5"',
  ],
  ["proxy-protocol per port", { "proxy-protocol": "80" }, {}, "proxy-protocol", '"80"'],
  ["healthcheck-protocol", { "healthcheck-protocol": "UDP" }, {}, "healthcheck-protocol", '"UDP"'],
  ["healthcheck-port 0", { "healthcheck-port": "0" }, {}, "healthcheck-port", '"0"'],
  ["healthcheck-port too big", { "healthcheck-port": "65536" }, {}, "healthcheck-port", '"65536"'],
  ["healthcheck-port name", { "healthcheck-port": "http" }, {}, "healthcheck-port", '"http"'],
  [
    "healthcheck-path relative",
    { "healthcheck-protocol": "HTTP", "healthcheck-path": "ready" },
    {},
    "healthcheck-path",
    '"ready"',
  ],
  [
    "healthcheck-path space",
    { "healthcheck-protocol": "HTTP", "healthcheck-path": "/a b" },
    {},
    "healthcheck-path",
    '"/a b"',
  ],
  ["healthcheck-path on TCP", { ...NLB, "healthcheck-path": "/ready" }, {}, "healthcheck-path", '"/ready"'],
  ["healthcheck-interval low", { ...NLB, "healthcheck-interval": "4" }, {}, "healthcheck-interval", '"4"'],
  ["healthcheck-interval high", { "healthcheck-interval": "301" }, {}, "healthcheck-interval", '"301"'],
  ["healthcheck-interval fraction", { "healthcheck-interval": "10.5" }, {}, "healthcheck-interval", '"10.5"'],
  ["healthcheck-timeout low", { "healthcheck-timeout": "1" }, {}, "healthcheck-timeout", '"1"'],
  [
    "healthcheck-timeout NLB high",
    { ...NLB, "healthcheck-timeout": "121", "healthcheck-interval": "300" },
    {},
    "healthcheck-timeout",
    '"121"',
  ],
  [
    "healthcheck-timeout classic high",
    { "healthcheck-timeout": "61", "healthcheck-interval": "300" },
    {},
    "healthcheck-timeout",
    '"61"',
  ],
  [
    "healthcheck-timeout above default interval",
    { ...NLB, "healthcheck-timeout": "15" },
    {},
    "healthcheck-timeout",
    '"15"',
  ],
  [
    "healthcheck-timeout equal to interval on classic",
    { "healthcheck-timeout": "10" },
    {},
    "healthcheck-timeout",
    '"10"',
  ],
  [
    "healthcheck-healthy-threshold low",
    { "healthcheck-healthy-threshold": "1" },
    {},
    "healthcheck-healthy-threshold",
    '"1"',
  ],
  [
    "healthcheck-healthy-threshold high",
    { ...NLB, "healthcheck-healthy-threshold": "11" },
    {},
    "healthcheck-healthy-threshold",
    '"11"',
  ],
  [
    "healthcheck-unhealthy-threshold",
    { "healthcheck-unhealthy-threshold": "-2" },
    {},
    "healthcheck-unhealthy-threshold",
    '"-2"',
  ],
  [
    "connection draining on NLB",
    { ...NLB, "connection-draining-enabled": "true" },
    {},
    "connection-draining-enabled",
    '"true"',
  ],
  [
    "connection draining not a bool",
    { "connection-draining-enabled": "on" },
    {},
    "connection-draining-enabled",
    '"on"',
  ],
  ["connection draining timeout 0", { "connection-draining-timeout": "0" }, {}, "connection-draining-timeout", '"0"'],
  [
    "connection draining timeout high",
    { "connection-draining-timeout": "3601" },
    {},
    "connection-draining-timeout",
    '"3601"',
  ],
  ["idle timeout high", { "connection-idle-timeout": "4001" }, {}, "connection-idle-timeout", '"4001"'],
  ["idle timeout on NLB", { ...NLB, "connection-idle-timeout": "60" }, {}, "connection-idle-timeout", '"60"'],
  // Spec-level combinations.
  ["classic with a UDP port", {}, { ports: [dns] }, "spec.ports[0].protocol", '"UDP"'],
  ["classic with mixed TCP/UDP", {}, { ports: [http, dns] }, "spec.ports[1].protocol", '"UDP"'],
  [
    "NLB with SCTP",
    NLB,
    { ports: [http, { ...http, name: "s", protocol: "SCTP", port: 9 }] },
    "spec.ports[1].protocol",
    '"SCTP"',
  ],
  [
    "NLB with TCP and UDP on one port",
    NLB,
    { ports: [{ ...dns, protocol: "TCP", name: "dns-tcp" }, dns] },
    "spec.ports[0].port",
    '"53"',
  ],
  [
    "nodePort mode port without a nodePort",
    NLB,
    { ports: [http, { ...https, nodePort: undefined }] },
    "spec.ports[1].nodePort",
    "TCP/443",
  ],
  ["requested address", NLB, { requestedIP: "203.0.113.7" }, "spec.loadBalancerIP", '"203.0.113.7"'],
];

describe("parseAwsConfig rejects", () => {
  it.each(bad)("%s", (_name, annotations, opts, field, quoted) => {
    const err = invalid(spec(annotations, opts));
    expect(err.field).toBe(field.startsWith("spec.") ? field : `metadata.annotations[${P}${field}]`);
    expect(err.message).toContain(quoted);
    expect(err.message.startsWith(`${err.field}: `)).toBe(true);
  });
});

describe("parseAwsConfig with huge input", () => {
  const huge = "x".repeat(200_000);

  it.each(Object.entries(AWS_ANNOTATIONS))("refuses a 200 KB %s before parsing it, quoting only its head", (_, key) => {
    const err = invalid(spec({ type: "nlb", [key.slice(P.length)]: huge }));
    expect(err.field).toBe(`metadata.annotations[${key}]`);
    expect(err.message).toContain('…" (200000 bytes) is over the 32768-byte limit');
    expect(err.message.length).toBeLessThan(400);
  });

  it("quotes a long bad value cut, with its length", () => {
    const err = invalid(spec({ scheme: "y".repeat(5_000) }));
    expect(err.message).toContain(`unknown scheme "${"y".repeat(128)}…" (5000 bytes)`);
  });

  it("checks NLB listener ports for duplicates in one pass over thousands of ports", () => {
    const ports: PortSpec[] = Array.from({ length: 20_000 }, (_, i) => ({ ...http, name: `p${i}`, port: i + 1 }));
    expect(parseAwsConfig(spec(NLB, { ports })).kind).toBe("nlb");
    const clash = [...ports, { ...dns, port: 20_000 }];
    expect(invalid(spec(NLB, { ports: clash })).field).toBe("spec.ports[19999].port");
  });
});
