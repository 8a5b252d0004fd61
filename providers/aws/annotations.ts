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
 * error. Booleans take Go's strconv.ParseBool forms, as both anchors parse them. Every error's `field` is
 * `metadata.annotations[<key>]` (or the spec field) and its message quotes the bad value.
 */
import { InvalidSpecError } from "../../src/errors.js";
import type { LoadBalancerSpec } from "../../src/provider.js";
import { AWS_ANNOTATION_PREFIX, TAG_ADDITIONAL_KEYS, ownershipTags } from "./aws-types.js";
import type { AccessLogConfig, AwsServiceConfig, HealthCheckOverrides, LoadBalancerKind, Scheme, TargetType } from "./aws-types.js";
import { HEALTH_CHECK_ANNOTATIONS, HEALTH_CHECK_LIMITS, MAX_HEALTH_CHECK_PATH_LENGTH, healthCheckFor } from "./health-check.js";
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
type Annotations = Readonly<Record<string, string>>;

/** Classic ELB attributes and CPA's CLB-only extra groups; CPA rejects extra-security-groups on an NLB too. */
const CLASSIC_ONLY = [A.extraSecurityGroups, A.accessLogEmitInterval, A.connectionDrainingEnabled, A.connectionDrainingTimeout, A.connectionIdleTimeout];
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
const GO_TRUE = new Set(["1", "t", "T", "TRUE", "true", "True"]);
const GO_FALSE = new Set(["0", "f", "F", "FALSE", "false", "False"]);
const PORT: Range = { min: 1, max: 65535 };

/** The field path InvalidSpecError names for an annotation, as the core's model does. */
export function annotationField(annotation: string): string {
  return `metadata.annotations[${annotation}]`;
}

/** @throws InvalidSpecError naming the annotation (or spec field) and quoting the bad value. */
export function parseAwsConfig(spec: LoadBalancerSpec): AwsServiceConfig {
  const a = spec.annotations;
  const kind = parseKind(a);
  checkPorts(kind, spec);
  for (const k of kind === "nlb" ? CLASSIC_ONLY : NLB_ONLY) {
    const v = get(a, k);
    if (v !== undefined) fail(k, `"${v}": only a${kind === "nlb" ? " classic ELB" : "n NLB"} reads this annotation`);
  }
  const targetType = parseTargetType(a, kind, spec);
  const scheme = parseScheme(a);
  const subnets = list(a, A.subnets);
  const config: AwsServiceConfig = {
    kind,
    targetType,
    scheme,
    subnets,
    securityGroups: list(a, A.securityGroups),
    extraSecurityGroups: list(a, A.extraSecurityGroups) ?? [],
    additionalTags: parseTags(a, spec),
    crossZone: bool(a, A.crossZone) ?? false,
    ...parseSsl(a, spec),
    backendProtocol: parseBackendProtocol(a, kind),
    targetGroupAttributes: parseTargetGroupAttributes(a),
    eipAllocations: parseEips(a, scheme, subnets),
    targetNodeLabels: parseNodeLabels(a, targetType),
    accessLog: parseAccessLog(a),
    proxyProtocol: parseProxyProtocol(a),
    healthCheck: parseHealthCheck(a, kind),
    connectionDraining: {
      enabled: bool(a, A.connectionDrainingEnabled) ?? false,
      timeoutSeconds: int(a, A.connectionDrainingTimeout, { min: 1, max: 3600 }) ?? 300,
    },
    idleTimeoutSeconds: int(a, A.connectionIdleTimeout, { min: 1, max: 4000 }) ?? 60,
  };
  // The effective checks (defaults + overrides) can still clash, e.g. a timeout above the default interval.
  for (const port of kind === "nlb" ? spec.ports : spec.ports.slice(0, 1)) healthCheckFor(kind, targetType, spec, config, port);
  return config;
}

function parseKind(a: Annotations): LoadBalancerKind {
  const v = get(a, A.type);
  if (v === undefined) return "clb";
  if (v === "nlb" || v === "nlb-ip" || v === "external") return "nlb";
  return fail(A.type, `unknown load balancer type "${v}": want nlb, nlb-ip or external for an NLB, or no annotation for a classic ELB`);
}

/**
 * CPA skips NodePort-less ports and rejects mixed protocols; we reject what the chosen kind cannot carry instead of
 * publishing a load balancer that quietly lacks a port.
 */
function checkPorts(kind: LoadBalancerKind, spec: LoadBalancerSpec): void {
  if (spec.requestedIPs.length > 0) {
    throw new InvalidSpecError(
      "spec.loadBalancerIP",
      `"${spec.requestedIPs.join(",")}": AWS load balancers cannot take a requested address (CPA rejects it too); use ${A.eipAllocations}`,
    );
  }
  spec.ports.forEach((p, i) => {
    if (kind === "clb" && p.protocol !== "TCP") {
      throw new InvalidSpecError(`spec.ports[${i}].protocol`, `"${p.protocol}" (port ${p.port}): a classic ELB listens on TCP only; set ${A.type}: nlb`);
    }
    if (kind === "nlb" && p.protocol === "SCTP") {
      throw new InvalidSpecError(`spec.ports[${i}].protocol`, `"SCTP" (port ${p.port}): an NLB listens on TCP and UDP only`);
    }
    if (kind === "nlb" && spec.ports.some((q) => q !== p && q.port === p.port)) {
      throw new InvalidSpecError(`spec.ports[${i}].port`, `"${p.port}" is used by two protocols; an NLB listener port carries one`);
    }
    if (spec.backends.mode === "nodePort" && p.nodePort === undefined) {
      throw new InvalidSpecError(`spec.ports[${i}].nodePort`, `port ${p.protocol}/${p.port} has no nodePort, and instance targets need one`);
    }
  });
}

function parseTargetType(a: Annotations, kind: LoadBalancerKind, spec: LoadBalancerSpec): TargetType {
  const v = get(a, A.nlbTargetType);
  if (v !== undefined && v !== "instance" && v !== "ip") fail(A.nlbTargetType, `unknown target type "${v}": want instance or ip`);
  const podMode = spec.backends.mode === "pod";
  if (kind === "clb") {
    if (v === "ip") fail(A.nlbTargetType, `"ip": a classic ELB targets instances only; set ${A.type}: nlb`);
    if (podMode) {
      throw new InvalidSpecError("spec.allocateLoadBalancerNodePorts", `"false": a classic ELB sends traffic to NodePorts; set ${A.type}: nlb for pod targets`);
    }
    return "instance";
  }
  const typeSaysIp = get(a, A.type) === "nlb-ip";
  if (v === "instance" && podMode) fail(A.nlbTargetType, `"instance" needs NodePorts, but allocateLoadBalancerNodePorts is false`);
  if (v === "instance" && typeSaysIp) fail(A.nlbTargetType, `"instance" contradicts ${A.type}: nlb-ip`);
  return podMode || typeSaysIp ? "ip" : (v ?? "instance");
}

/** CPA: `internal` other than "false" means internal (the legacy value is "0.0.0.0/0"). LBC: `scheme`. Default internet-facing (CPA). */
function parseScheme(a: Annotations): Scheme {
  const internalRaw = get(a, A.internal);
  const internal = internalRaw === "0.0.0.0/0" ? true : bool(a, A.internal);
  const fromInternal: Scheme | undefined = internal === undefined ? undefined : internal ? "internal" : "internet-facing";
  const s = get(a, A.scheme);
  if (s !== undefined && s !== "internal" && s !== "internet-facing") fail(A.scheme, `unknown scheme "${s}": want internal or internet-facing`);
  if (s !== undefined && fromInternal !== undefined && s !== fromInternal) {
    fail(A.scheme, `"${s}" contradicts ${A.internal}: "${internalRaw}"; set only one of them`);
  }
  return s ?? fromInternal ?? "internet-facing";
}

function parseTags(a: Annotations, spec: LoadBalancerSpec): Record<string, string> {
  const tags = map(a, A.additionalResourceTags) ?? {};
  // Ours on every resource, plus the NLB's record of which keys came from this annotation.
  const reserved = new Set([...Object.keys(ownershipTags(spec.id, "")), TAG_ADDITIONAL_KEYS]);
  const max = MAX_TAGS_PER_RESOURCE - reserved.size;
  if (Object.keys(tags).length > max) fail(A.additionalResourceTags, `${Object.keys(tags).length} tags: at most ${max} (AWS allows ${MAX_TAGS_PER_RESOURCE} per resource, ${reserved.size} are ours)`);
  for (const [k, v] of Object.entries(tags)) {
    const bad = (why: string): never => fail(A.additionalResourceTags, `tag "${k}=${v}": ${why}`);
    if (k.length > MAX_TAG_KEY) bad(`the key is longer than ${MAX_TAG_KEY} characters`);
    if (v.length > MAX_TAG_VALUE) bad(`the value is longer than ${MAX_TAG_VALUE} characters`);
    if (k.toLowerCase().startsWith("aws:")) bad(`keys starting with "aws:" are reserved by AWS`);
    if (!TAG_CHARS.test(k) || !TAG_CHARS.test(v)) bad("only letters, digits, spaces and _ . : / = + - @ are allowed");
    if (reserved.has(k) || k.startsWith("kubernetes.io/cluster/")) bad("the key is an ownership tag the operator sets itself");
  }
  return tags;
}

function parseSsl(a: Annotations, spec: LoadBalancerSpec): Pick<AwsServiceConfig, "sslCertificate" | "sslPorts" | "sslNegotiationPolicy"> {
  const cert = get(a, A.sslCert);
  if (cert !== undefined && !/^arn:[a-z-]+:(acm|iam):[^,\s]+$/.test(cert)) {
    fail(A.sslCert, `"${cert}" is not one ACM or IAM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>)`);
  }
  for (const k of [A.sslPorts, A.sslNegotiationPolicy]) {
    const v = get(a, k);
    if (v !== undefined && cert === undefined) fail(k, `"${v}" has no effect without ${A.sslCert}`);
  }
  const policy = get(a, A.sslNegotiationPolicy);
  if (policy !== undefined && !/^[A-Za-z0-9._-]+$/.test(policy)) fail(A.sslNegotiationPolicy, `"${policy}" is not a policy name`);
  const raw = get(a, A.sslPorts);
  if (raw === undefined || raw === "*") return { sslCertificate: cert, sslPorts: "*", sslNegotiationPolicy: policy };
  const ports = (list(a, A.sslPorts) ?? []).map((entry) => {
    const port = /^[0-9]+$/.test(entry) ? Number(entry) : entry;
    const match = spec.ports.find((p) => (typeof port === "number" ? p.port === port : p.name === port));
    if (match === undefined) fail(A.sslPorts, `"${entry}" is not a port number or name of this Service`);
    else if (match.protocol !== "TCP") fail(A.sslPorts, `"${entry}" is ${match.protocol}; TLS terminates on TCP ports only`);
    return port;
  });
  return { sslCertificate: cert, sslPorts: ports, sslNegotiationPolicy: policy };
}

function parseBackendProtocol(a: Annotations, kind: LoadBalancerKind): AwsServiceConfig["backendProtocol"] {
  const v = get(a, A.backendProtocol);
  if (v === undefined) return undefined;
  const p = v.toLowerCase();
  if (p !== "tcp" && p !== "ssl" && p !== "http" && p !== "https") fail(A.backendProtocol, `unknown protocol "${v}": want tcp, ssl, http or https`);
  // An NLB target group speaks TCP or TLS; CPA and LBC both map only `ssl` to TLS.
  if (kind === "nlb" && (p === "http" || p === "https")) fail(A.backendProtocol, `"${v}": an NLB talks tcp or ssl to its targets`);
  return p;
}

function parseTargetGroupAttributes(a: Annotations): Record<string, string> {
  const attrs = map(a, A.targetGroupAttributes) ?? {};
  for (const [k, v] of Object.entries(attrs)) {
    if (!/^[A-Za-z0-9._]+$/.test(k)) fail(A.targetGroupAttributes, `"${k}" is not a target group attribute key`);
    if (v === "") fail(A.targetGroupAttributes, `"${k}=" has no value`);
    if (BOOLEAN_TG_ATTRIBUTES.has(k) && v !== "true" && v !== "false") fail(A.targetGroupAttributes, `"${k}=${v}": want true or false`);
    if (k === "deregistration_delay.timeout_seconds" && !inRange(v, { min: 0, max: 3600 })) fail(A.targetGroupAttributes, `"${k}=${v}": want 0-3600`);
  }
  if (attrs["proxy_protocol_v2.enabled"] === "false" && get(a, A.proxyProtocol) !== undefined) {
    fail(A.targetGroupAttributes, `"proxy_protocol_v2.enabled=false" contradicts ${A.proxyProtocol}`);
  }
  return attrs;
}

function parseEips(a: Annotations, scheme: Scheme, subnets: readonly string[] | undefined): string[] | undefined {
  const eips = list(a, A.eipAllocations);
  if (eips === undefined) return undefined;
  const raw = get(a, A.eipAllocations) ?? "";
  const bad = eips.find((e) => !/^eipalloc-[0-9a-f]+$/.test(e));
  if (bad !== undefined) fail(A.eipAllocations, `"${bad}" is not an allocation id (eipalloc-...)`);
  if (scheme === "internal") fail(A.eipAllocations, `"${raw}": an internal NLB has no public addresses`);
  if (subnets !== undefined && subnets.length !== eips.length) {
    fail(A.eipAllocations, `"${raw}" names ${eips.length} allocations but ${A.subnets} names ${subnets.length} subnets; give one per subnet`);
  }
  return eips;
}

function parseNodeLabels(a: Annotations, targetType: TargetType): Record<string, string> {
  const labels = map(a, A.targetNodeLabels) ?? {};
  if (Object.keys(labels).length > 0 && targetType === "ip") fail(A.targetNodeLabels, `"${get(a, A.targetNodeLabels)}": ip targets are pods, not nodes`);
  const name = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)$/;
  for (const [k, v] of Object.entries(labels)) {
    const slash = k.lastIndexOf("/");
    const prefix = slash < 0 ? undefined : k.slice(0, slash);
    const okKey = name.test(k.slice(slash + 1)) && (prefix === undefined || (prefix.length <= 253 && /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(prefix)));
    if (!okKey || (v !== "" && !name.test(v))) fail(A.targetNodeLabels, `"${k}=${v}" is not a valid Kubernetes label`);
  }
  return labels;
}

function parseAccessLog(a: Annotations): AccessLogConfig {
  const enabled = bool(a, A.accessLogEnabled) ?? false;
  const bucket = get(a, A.accessLogBucket);
  const prefix = get(a, A.accessLogPrefix);
  if (enabled && bucket === undefined) fail(A.accessLogEnabled, `"${get(a, A.accessLogEnabled)}" needs ${A.accessLogBucket}`);
  if (bucket !== undefined && !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) fail(A.accessLogBucket, `"${bucket}" is not an S3 bucket name`);
  if (prefix !== undefined && (prefix.startsWith("/") || prefix.includes("AWSLogs"))) {
    fail(A.accessLogPrefix, `"${prefix}": AWS refuses a prefix that starts with "/" or contains "AWSLogs"`);
  }
  const interval = int(a, A.accessLogEmitInterval, { min: 5, max: 60 }, "5 or 60 (minutes)");
  if (interval !== undefined && interval !== 5 && interval !== 60) fail(A.accessLogEmitInterval, `"${interval}": want 5 or 60 (minutes)`);
  return { enabled, bucket, prefix, emitIntervalMinutes: interval };
}

function parseProxyProtocol(a: Annotations): boolean {
  const v = get(a, A.proxyProtocol);
  if (v !== undefined && v !== "*") fail(A.proxyProtocol, `"${v}": only "*" (every port) is supported`);
  return v !== undefined;
}

function parseHealthCheck(a: Annotations, kind: LoadBalancerKind): HealthCheckOverrides {
  const limits = HEALTH_CHECK_LIMITS[kind];
  const protocolRaw = get(a, A.protocol);
  const protocol = protocolRaw?.toUpperCase();
  if (protocol !== undefined && protocol !== "TCP" && protocol !== "HTTP" && protocol !== "HTTPS") {
    fail(A.protocol, `unknown protocol "${protocolRaw}": want TCP, HTTP or HTTPS`);
  }
  const portRaw = get(a, A.port);
  const port = portRaw === "traffic-port" ? portRaw : int(a, A.port, PORT, "a port number or traffic-port");
  const path = get(a, A.path);
  if (path !== undefined && (!path.startsWith("/") || path.length > MAX_HEALTH_CHECK_PATH_LENGTH || /\s/.test(path))) {
    fail(A.path, `"${path}": want an absolute path without spaces, at most ${MAX_HEALTH_CHECK_PATH_LENGTH} characters`);
  }
  return {
    protocol,
    port,
    path,
    intervalSeconds: int(a, A.interval, limits.intervalSeconds),
    timeoutSeconds: int(a, A.timeout, limits.timeoutSeconds),
    healthyThreshold: int(a, A.healthyThreshold, limits.threshold),
    unhealthyThreshold: int(a, A.unhealthyThreshold, limits.threshold),
  };
}

function get(a: Annotations, k: string): string | undefined {
  const v = a[k]?.trim();
  return v === undefined || v === "" ? undefined : v;
}

function fail(annotation: string, message: string): never {
  throw new InvalidSpecError(annotationField(annotation), message);
}

function bool(a: Annotations, k: string): boolean | undefined {
  const v = get(a, k);
  if (v === undefined) return undefined;
  if (GO_TRUE.has(v)) return true;
  if (GO_FALSE.has(v)) return false;
  return fail(k, `"${v}" is not a boolean: want true or false`);
}

function inRange(v: string, r: Range): boolean {
  return /^[0-9]+$/.test(v) && Number(v) >= r.min && Number(v) <= r.max;
}

function int(a: Annotations, k: string, r: Range, what = `an integer in ${r.min}-${r.max}`): number | undefined {
  const v = get(a, k);
  if (v === undefined) return undefined;
  if (!inRange(v, r)) fail(k, `"${v}": want ${what}`);
  return Number(v);
}

function list(a: Annotations, k: string): string[] | undefined {
  const v = get(a, k);
  if (v === undefined) return undefined;
  const items = v.split(",").map((s) => s.trim());
  items.forEach((item, i) => {
    if (item === "") fail(k, `"${v}": entry ${i + 1} is empty`);
    if (items.indexOf(item) !== i) fail(k, `"${v}": "${item}" is listed twice`);
  });
  return items;
}

/** `k=v,k2=v2`; the value may contain "=" (split at the first one, as LBC does). Keys sorted for a stable config. */
function map(a: Annotations, k: string): Record<string, string> | undefined {
  const items = list(a, k);
  if (items === undefined) return undefined;
  const entries = items.map((item): [string, string] => {
    const eq = item.indexOf("=");
    const name = eq < 0 ? "" : item.slice(0, eq).trim();
    if (name === "") fail(k, `"${item}" is not key=value`);
    return [name, item.slice(eq + 1).trim()];
  });
  entries.forEach(([name], i) => {
    if (entries.findIndex(([other]) => other === name) !== i) fail(k, `key "${name}" is given twice`);
  });
  return Object.fromEntries(entries.sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)));
}
