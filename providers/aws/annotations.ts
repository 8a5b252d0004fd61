/**
 * The AWS provider's Service annotations -> AwsServiceConfig, validated before any AWS call, so a bad Service
 * fails with one InvalidSpecError (a Warning event, no retry) instead of leaving a half-built load balancer.
 * Keys and meanings are the `service.beta.kubernetes.io/aws-load-balancer-*` annotations common to
 * cloud-provider-aws (CPA) and aws-load-balancer-controller (LBC), plus CPA's classic-ELB ones (reference
 * section 1). Where the anchors silently ignore a value (an annotation for the other kind, ssl-ports without a
 * certificate) we reject it instead, so the user learns it has no effect.
 *
 * Conventions: a blank value is the same as no annotation (both anchors treat most empty strings as unset, and
 * Helm charts render unset values as ""). Lists are comma-separated and trimmed; an empty entry or a duplicate is an
 * error. Booleans take Go's strconv.ParseBool forms, as both anchors parse them. These are the toolkit's rules for
 * every provider (src/toolkit/annotation-reader.ts). Every error's `field` is `metadata.annotations[<key>]` (or the
 * spec field) and its message quotes the bad value.
 */
import { InvalidSpecError } from "../../src/errors.js";
import type { LoadBalancerSpec } from "../../src/provider.js";
import { AnnotationReader, isIntInRange, quote } from "../../src/toolkit/index.js";
import { AWS_ANNOTATION_PREFIX, TAG_ADDITIONAL_KEYS, ownershipTags } from "./aws-types.js";
import type {
  AccessLogConfig,
  AwsServiceConfig,
  HealthCheckOverrides,
  LoadBalancerKind,
  Scheme,
  TargetType,
} from "./aws-types.js";
import {
  HEALTH_CHECK_ANNOTATIONS,
  HEALTH_CHECK_LIMITS,
  MAX_HEALTH_CHECK_PATH_LENGTH,
  healthCheckFor,
} from "./health-check.js";
import type { Range } from "./health-check.js";

const key = (suffix: string): string => `${AWS_ANNOTATION_PREFIX}${suffix}`;

export const AWS_ANNOTATIONS = {
  type: key("type"),
  internal: key("internal"),
  scheme: key("scheme"),
  nlbTargetType: key("nlb-target-type"),
  subnets: key("subnets"),
  securityGroups: key("security-groups"),
  extraSecurityGroups: key("extra-security-groups"),
  additionalResourceTags: key("additional-resource-tags"),
  crossZone: key("cross-zone-load-balancing-enabled"),
  sslCert: key("ssl-cert"),
  sslPorts: key("ssl-ports"),
  sslNegotiationPolicy: key("ssl-negotiation-policy"),
  backendProtocol: key("backend-protocol"),
  targetGroupAttributes: key("target-group-attributes"),
  eipAllocations: key("eip-allocations"),
  targetNodeLabels: key("target-node-labels"),
  accessLogEnabled: key("access-log-enabled"),
  accessLogBucket: key("access-log-s3-bucket-name"),
  accessLogPrefix: key("access-log-s3-bucket-prefix"),
  accessLogEmitInterval: key("access-log-emit-interval"),
  proxyProtocol: key("proxy-protocol"),
  connectionDrainingEnabled: key("connection-draining-enabled"),
  connectionDrainingTimeout: key("connection-draining-timeout"),
  connectionIdleTimeout: key("connection-idle-timeout"),
  ...HEALTH_CHECK_ANNOTATIONS,
} as const;

const A = AWS_ANNOTATIONS;

/** Classic ELB attributes and CPA's CLB-only extra groups; CPA rejects extra-security-groups on an NLB too. */
const CLASSIC_ONLY = [
  A.extraSecurityGroups,
  A.accessLogEmitInterval,
  A.connectionDrainingEnabled,
  A.connectionDrainingTimeout,
  A.connectionIdleTimeout,
];
const NLB_ONLY = [A.targetGroupAttributes, A.eipAllocations];

/** ELB/ELBv2 tag limits: 50 tags per resource, keys 1-128 and values 0-256 of these characters, no `aws:` keys. */
const MAX_TAGS_PER_RESOURCE = 50;
const MAX_TAG_KEY = 128;
const MAX_TAG_VALUE = 256;
const TAG_CHARS = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
/** Target group attributes that take "true" or "false" (ELBv2 ModifyTargetGroupAttributes). */
const BOOLEAN_TG_ATTRIBUTES = new Set([
  "preserve_client_ip.enabled",
  "proxy_protocol_v2.enabled",
  "stickiness.enabled",
  "deregistration_delay.connection_termination.enabled",
  "target_health_state.unhealthy.connection_termination.enabled",
]);
const PORT: Range = { min: 1, max: 65535 };

/** @throws InvalidSpecError naming the annotation (or spec field) and quoting the bad value. */
export function parseAwsConfig(spec: LoadBalancerSpec): AwsServiceConfig {
  const r: AnnotationReader = new AnnotationReader(spec.annotations);
  const kind = parseKind(r);
  checkPorts(kind, spec);
  for (const k of kind === "nlb" ? CLASSIC_ONLY : NLB_ONLY) {
    const v = r.string(k);
    if (v !== undefined)
      r.fail(k, `${quote(v)}: only a${kind === "nlb" ? " classic ELB" : "n NLB"} reads this annotation`);
  }
  const targetType = parseTargetType(r, kind, spec);
  const scheme = parseScheme(r);
  const subnets = r.list(A.subnets);
  const config: AwsServiceConfig = {
    kind,
    targetType,
    scheme,
    subnets,
    securityGroups: r.list(A.securityGroups),
    extraSecurityGroups: r.list(A.extraSecurityGroups) ?? [],
    additionalTags: parseTags(r, spec),
    crossZone: r.bool(A.crossZone) ?? false,
    ...parseSsl(r, spec),
    backendProtocol: parseBackendProtocol(r, kind),
    targetGroupAttributes: parseTargetGroupAttributes(r),
    eipAllocations: parseEips(r, scheme, subnets),
    targetNodeLabels: parseNodeLabels(r, targetType),
    accessLog: parseAccessLog(r),
    proxyProtocol: parseProxyProtocol(r),
    healthCheck: parseHealthCheck(r, kind),
    connectionDraining: {
      enabled: r.bool(A.connectionDrainingEnabled) ?? false,
      timeoutSeconds: r.int(A.connectionDrainingTimeout, { min: 1, max: 3600 }) ?? 300,
    },
    idleTimeoutSeconds: r.int(A.connectionIdleTimeout, { min: 1, max: 4000 }) ?? 60,
  };
  // The effective checks (defaults + overrides) can still clash, e.g. a timeout above the default interval.
  for (const port of kind === "nlb" ? spec.ports : spec.ports.slice(0, 1))
    healthCheckFor(kind, targetType, spec, config, port);
  return config;
}

function parseKind(r: AnnotationReader): LoadBalancerKind {
  const v = r.string(A.type);
  if (v === undefined) return "clb";
  if (v === "nlb" || v === "nlb-ip" || v === "external") return "nlb";
  return r.fail(
    A.type,
    `unknown load balancer type ${quote(v)}: want nlb, nlb-ip or external for an NLB, or no annotation for a classic ELB`,
  );
}

/**
 * CPA skips NodePort-less ports and rejects mixed protocols; we reject what the chosen kind cannot carry instead of
 * publishing a load balancer that quietly lacks a port.
 */
function checkPorts(kind: LoadBalancerKind, spec: LoadBalancerSpec): void {
  if (spec.requestedIPs.length > 0) {
    throw new InvalidSpecError(
      "spec.loadBalancerIP",
      `${quote(spec.requestedIPs.join(","))}: AWS load balancers cannot take a requested address (CPA rejects it too); use ${A.eipAllocations}`,
    );
  }
  // Counted once, not `ports.some` per port: linear however many ports a Service lists.
  const usesOfPort = new Map<number, number>();
  for (const p of spec.ports) usesOfPort.set(p.port, (usesOfPort.get(p.port) ?? 0) + 1);
  spec.ports.forEach((p, i) => {
    if (kind === "clb" && p.protocol !== "TCP") {
      throw new InvalidSpecError(
        `spec.ports[${i}].protocol`,
        `${quote(p.protocol)} (port ${p.port}): a classic ELB listens on TCP only; set ${A.type}: nlb`,
      );
    }
    if (kind === "nlb" && p.protocol === "SCTP") {
      throw new InvalidSpecError(
        `spec.ports[${i}].protocol`,
        `"SCTP" (port ${p.port}): an NLB listens on TCP and UDP only`,
      );
    }
    if (kind === "nlb" && (usesOfPort.get(p.port) ?? 0) > 1) {
      throw new InvalidSpecError(
        `spec.ports[${i}].port`,
        `"${p.port}" is used by two protocols; an NLB listener port carries one`,
      );
    }
    if (spec.backends.mode === "nodePort" && p.nodePort === undefined) {
      throw new InvalidSpecError(
        `spec.ports[${i}].nodePort`,
        `port ${p.protocol}/${p.port} has no nodePort, and instance targets need one`,
      );
    }
  });
}

function parseTargetType(r: AnnotationReader, kind: LoadBalancerKind, spec: LoadBalancerSpec): TargetType {
  const v = r.string(A.nlbTargetType);
  if (v !== undefined && v !== "instance" && v !== "ip")
    r.fail(A.nlbTargetType, `unknown target type ${quote(v)}: want instance or ip`);
  const podMode = spec.backends.mode === "pod";
  if (kind === "clb") {
    if (v === "ip") r.fail(A.nlbTargetType, `"ip": a classic ELB targets instances only; set ${A.type}: nlb`);
    if (podMode) {
      throw new InvalidSpecError(
        "spec.allocateLoadBalancerNodePorts",
        `"false": a classic ELB sends traffic to NodePorts; set ${A.type}: nlb for pod targets`,
      );
    }
    return "instance";
  }
  const typeSaysIp = r.string(A.type) === "nlb-ip";
  if (v === "instance" && podMode)
    r.fail(A.nlbTargetType, `"instance" needs NodePorts, but allocateLoadBalancerNodePorts is false`);
  if (v === "instance" && typeSaysIp) r.fail(A.nlbTargetType, `"instance" contradicts ${A.type}: nlb-ip`);
  return podMode || typeSaysIp ? "ip" : (v ?? "instance");
}

/** CPA: `internal` other than "false" means internal (the legacy value is "0.0.0.0/0"). LBC: `scheme`. Default internet-facing (CPA). */
function parseScheme(r: AnnotationReader): Scheme {
  const internalRaw = r.string(A.internal);
  const internal = internalRaw === "0.0.0.0/0" ? true : r.bool(A.internal);
  const fromInternal: Scheme | undefined =
    internal === undefined ? undefined : internal ? "internal" : "internet-facing";
  const s = r.string(A.scheme);
  if (s !== undefined && s !== "internal" && s !== "internet-facing")
    r.fail(A.scheme, `unknown scheme ${quote(s)}: want internal or internet-facing`);
  if (s !== undefined && fromInternal !== undefined && s !== fromInternal) {
    r.fail(A.scheme, `${quote(s)} contradicts ${A.internal}: ${quote(internalRaw ?? "")}; set only one of them`);
  }
  return s ?? fromInternal ?? "internet-facing";
}

function parseTags(r: AnnotationReader, spec: LoadBalancerSpec): Record<string, string> {
  const tags = r.map(A.additionalResourceTags) ?? {};
  // Ours on every resource, plus the NLB's record of which keys came from this annotation.
  const reserved = new Set([...Object.keys(ownershipTags(spec.id, "")), TAG_ADDITIONAL_KEYS]);
  const max = MAX_TAGS_PER_RESOURCE - reserved.size;
  if (Object.keys(tags).length > max)
    r.fail(
      A.additionalResourceTags,
      `${Object.keys(tags).length} tags: at most ${max} (AWS allows ${MAX_TAGS_PER_RESOURCE} per resource, ${reserved.size} are ours)`,
    );
  for (const [k, v] of Object.entries(tags)) {
    const bad = (why: string): never => r.fail(A.additionalResourceTags, `tag ${quote(`${k}=${v}`)}: ${why}`);
    if (k.length > MAX_TAG_KEY) bad(`the key is longer than ${MAX_TAG_KEY} characters`);
    if (v.length > MAX_TAG_VALUE) bad(`the value is longer than ${MAX_TAG_VALUE} characters`);
    if (k.toLowerCase().startsWith("aws:")) bad(`keys starting with "aws:" are reserved by AWS`);
    if (!TAG_CHARS.test(k) || !TAG_CHARS.test(v)) bad("only letters, digits, spaces and _ . : / = + - @ are allowed");
    if (reserved.has(k) || k.startsWith("kubernetes.io/cluster/"))
      bad("the key is an ownership tag the operator sets itself");
  }
  return tags;
}

function parseSsl(
  r: AnnotationReader,
  spec: LoadBalancerSpec,
): Pick<AwsServiceConfig, "sslCertificate" | "sslPorts" | "sslNegotiationPolicy"> {
  const cert = r.string(A.sslCert);
  if (cert !== undefined && !/^arn:[a-z-]+:(acm|iam):[^,\s]+$/.test(cert)) {
    r.fail(
      A.sslCert,
      `${quote(cert)} is not one ACM or IAM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>)`,
    );
  }
  for (const k of [A.sslPorts, A.sslNegotiationPolicy]) {
    const v = r.string(k);
    if (v !== undefined && cert === undefined) r.fail(k, `${quote(v)} has no effect without ${A.sslCert}`);
  }
  const policy = r.string(A.sslNegotiationPolicy);
  if (policy !== undefined && !/^[A-Za-z0-9._-]+$/.test(policy))
    r.fail(A.sslNegotiationPolicy, `${quote(policy)} is not a policy name`);
  const raw = r.string(A.sslPorts);
  if (raw === undefined || raw === "*") return { sslCertificate: cert, sslPorts: "*", sslNegotiationPolicy: policy };
  const ports = (r.list(A.sslPorts) ?? []).map((entry) => {
    const port = /^[0-9]+$/.test(entry) ? Number(entry) : entry;
    const match = spec.ports.find((p) => (typeof port === "number" ? p.port === port : p.name === port));
    if (match === undefined) r.fail(A.sslPorts, `${quote(entry)} is not a port number or name of this Service`);
    else if (match.protocol !== "TCP")
      r.fail(A.sslPorts, `${quote(entry)} is ${match.protocol}; TLS terminates on TCP ports only`);
    return port;
  });
  return { sslCertificate: cert, sslPorts: ports, sslNegotiationPolicy: policy };
}

function parseBackendProtocol(r: AnnotationReader, kind: LoadBalancerKind): AwsServiceConfig["backendProtocol"] {
  const v = r.string(A.backendProtocol);
  if (v === undefined) return undefined;
  const p = v.toLowerCase();
  if (p !== "tcp" && p !== "ssl" && p !== "http" && p !== "https")
    r.fail(A.backendProtocol, `unknown protocol ${quote(v)}: want tcp, ssl, http or https`);
  // An NLB target group speaks TCP or TLS; CPA and LBC both map only `ssl` to TLS.
  if (kind === "nlb" && (p === "http" || p === "https"))
    r.fail(A.backendProtocol, `${quote(v)}: an NLB talks tcp or ssl to its targets`);
  return p;
}

function parseTargetGroupAttributes(r: AnnotationReader): Record<string, string> {
  const attrs = r.map(A.targetGroupAttributes) ?? {};
  for (const [k, v] of Object.entries(attrs)) {
    if (!/^[A-Za-z0-9._]+$/.test(k)) r.fail(A.targetGroupAttributes, `${quote(k)} is not a target group attribute key`);
    if (v === "") r.fail(A.targetGroupAttributes, `${quote(`${k}=`)} has no value`);
    if (BOOLEAN_TG_ATTRIBUTES.has(k) && v !== "true" && v !== "false")
      r.fail(A.targetGroupAttributes, `${quote(`${k}=${v}`)}: want true or false`);
    if (k === "deregistration_delay.timeout_seconds" && !isIntInRange(v, { min: 0, max: 3600 }))
      r.fail(A.targetGroupAttributes, `${quote(`${k}=${v}`)}: want 0-3600`);
  }
  if (attrs["proxy_protocol_v2.enabled"] === "false" && r.string(A.proxyProtocol) !== undefined) {
    r.fail(A.targetGroupAttributes, `"proxy_protocol_v2.enabled=false" contradicts ${A.proxyProtocol}`);
  }
  return attrs;
}

function parseEips(r: AnnotationReader, scheme: Scheme, subnets: readonly string[] | undefined): string[] | undefined {
  const eips = r.list(A.eipAllocations);
  if (eips === undefined) return undefined;
  const raw = r.string(A.eipAllocations) ?? "";
  const bad = eips.find((e) => !/^eipalloc-[0-9a-f]+$/.test(e));
  if (bad !== undefined) r.fail(A.eipAllocations, `${quote(bad)} is not an allocation id (eipalloc-...)`);
  if (scheme === "internal") r.fail(A.eipAllocations, `${quote(raw)}: an internal NLB has no public addresses`);
  if (subnets !== undefined && subnets.length !== eips.length) {
    r.fail(
      A.eipAllocations,
      `${quote(raw)} names ${eips.length} allocations but ${A.subnets} names ${subnets.length} subnets; give one per subnet`,
    );
  }
  return eips;
}

function parseNodeLabels(r: AnnotationReader, targetType: TargetType): Record<string, string> {
  const labels = r.map(A.targetNodeLabels) ?? {};
  if (Object.keys(labels).length > 0 && targetType === "ip")
    r.fail(A.targetNodeLabels, `${quote(r.string(A.targetNodeLabels) ?? "")}: ip targets are pods, not nodes`);
  const name = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)$/;
  for (const [k, v] of Object.entries(labels)) {
    const slash = k.lastIndexOf("/");
    const prefix = slash < 0 ? undefined : k.slice(0, slash);
    const okKey =
      name.test(k.slice(slash + 1)) &&
      (prefix === undefined || (prefix.length <= 253 && /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(prefix)));
    if (!okKey || (v !== "" && !name.test(v)))
      r.fail(A.targetNodeLabels, `${quote(`${k}=${v}`)} is not a valid Kubernetes label`);
  }
  return labels;
}

function parseAccessLog(r: AnnotationReader): AccessLogConfig {
  const enabled = r.bool(A.accessLogEnabled) ?? false;
  const bucket = r.string(A.accessLogBucket);
  const prefix = r.string(A.accessLogPrefix);
  if (enabled && bucket === undefined)
    r.fail(A.accessLogEnabled, `${quote(r.string(A.accessLogEnabled) ?? "")} needs ${A.accessLogBucket}`);
  if (bucket !== undefined && !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket))
    r.fail(A.accessLogBucket, `${quote(bucket)} is not an S3 bucket name`);
  if (prefix !== undefined && (prefix.startsWith("/") || prefix.includes("AWSLogs"))) {
    r.fail(A.accessLogPrefix, `${quote(prefix)}: AWS refuses a prefix that starts with "/" or contains "AWSLogs"`);
  }
  const interval = r.int(A.accessLogEmitInterval, { min: 5, max: 60 }, "5 or 60 (minutes)");
  if (interval !== undefined && interval !== 5 && interval !== 60)
    r.fail(A.accessLogEmitInterval, `"${interval}": want 5 or 60 (minutes)`);
  return { enabled, bucket, prefix, emitIntervalMinutes: interval };
}

function parseProxyProtocol(r: AnnotationReader): boolean {
  const v = r.string(A.proxyProtocol);
  if (v !== undefined && v !== "*") r.fail(A.proxyProtocol, `${quote(v)}: only "*" (every port) is supported`);
  return v !== undefined;
}

function parseHealthCheck(r: AnnotationReader, kind: LoadBalancerKind): HealthCheckOverrides {
  const limits = HEALTH_CHECK_LIMITS[kind];
  const protocolRaw = r.string(A.protocol);
  const protocol = protocolRaw?.toUpperCase();
  if (protocol !== undefined && protocol !== "TCP" && protocol !== "HTTP" && protocol !== "HTTPS") {
    r.fail(A.protocol, `unknown protocol ${quote(protocolRaw ?? "")}: want TCP, HTTP or HTTPS`);
  }
  const portRaw = r.string(A.port);
  const port = portRaw === "traffic-port" ? portRaw : r.int(A.port, PORT, "a port number or traffic-port");
  const path = r.string(A.path);
  if (path !== undefined && (!path.startsWith("/") || path.length > MAX_HEALTH_CHECK_PATH_LENGTH || /\s/.test(path))) {
    r.fail(
      A.path,
      `${quote(path)}: want an absolute path without spaces, at most ${MAX_HEALTH_CHECK_PATH_LENGTH} characters`,
    );
  }
  return {
    protocol,
    port,
    path,
    intervalSeconds: r.int(A.interval, limits.intervalSeconds),
    timeoutSeconds: r.int(A.timeout, limits.timeoutSeconds),
    healthyThreshold: r.int(A.healthyThreshold, limits.threshold),
    unhealthyThreshold: r.int(A.unhealthyThreshold, limits.threshold),
  };
}
