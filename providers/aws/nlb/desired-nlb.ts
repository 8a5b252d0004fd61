/**
 * The NLB a Service should have, computed purely from DeployInput before any AWS call, so bad input fails with an
 * InvalidSpecError and leaves no partial load balancer behind. The deployer (nlb-deployer.ts) only diffs this
 * against what AWS reports.
 *
 * Shape follows both anchors (../shared/reference/aws.md section 2): one target group per Service port (port =
 * NodePort for instance targets, the pod's target port for ip targets, as aws-load-balancer-controller does) and
 * one listener per port forwarding to it; a TLS listener for ssl-ports with a TLS target group only when
 * backend-protocol is ssl (cloud-provider-aws `ensureLoadBalancerv2`).
 */
import type { LoadBalancerSpec, PortSpec } from "../../../src/provider.js";
import { InvalidSpecError } from "../../../src/errors.js";
import {
  AWS_ANNOTATION_PREFIX,
  ownershipTags,
  type AwsServiceConfig,
  type DeployInput,
  type HealthCheckSettings,
  type Scheme,
  type TargetType,
} from "../aws-types.js";
import { loadBalancerName, targetGroupName } from "../names.js";
import { healthCheckFor } from "../health-check.js";
import { annotationField } from "../../../src/toolkit/index.js";
import { withAdditionalTags } from "./nlb-diff.js";

export type NlbProtocol = "TCP" | "UDP" | "TLS";

/** aws-load-balancer-controller's default for TLS listeners (reference section 1, ssl-negotiation-policy). */
export const DEFAULT_SSL_POLICY = "ELBSecurityPolicy-2016-08";

export const ATTR_CROSS_ZONE = "load_balancing.cross_zone.enabled";
export const ATTR_ACCESS_LOGS_ENABLED = "access_logs.s3.enabled";
export const ATTR_ACCESS_LOGS_BUCKET = "access_logs.s3.bucket";
export const ATTR_ACCESS_LOGS_PREFIX = "access_logs.s3.prefix";
export const ATTR_PROXY_PROTOCOL_V2 = "proxy_protocol_v2.enabled";

export interface SubnetMapping {
  readonly subnetId: string;
  readonly allocationId: string | undefined;
}

export interface DesiredLoadBalancer {
  readonly name: string;
  readonly scheme: Scheme;
  /** In env.subnets order (sorted by zone). */
  readonly subnetMappings: readonly SubnetMapping[];
  readonly securityGroupIds: readonly string[];
  readonly tags: Readonly<Record<string, string>>;
  /** Only the keys we manage; other attributes are left as they are. */
  readonly attributes: Readonly<Record<string, string>>;
}

export interface DesiredTarget {
  /** Instance id or IPv4 address. */
  readonly id: string;
  readonly port: number;
}

export interface DesiredTargetGroup {
  readonly name: string;
  /** The Service port it serves. */
  readonly servicePort: number;
  readonly protocol: "TCP" | "UDP" | "TLS";
  /** NodePort (instance) or the pods' target port (ip). */
  readonly port: number;
  readonly targetType: TargetType;
  readonly vpcId: string;
  readonly healthCheck: HealthCheckSettings;
  /** Only the keys we manage (target-group-attributes, proxy-protocol). */
  readonly attributes: Readonly<Record<string, string>>;
  readonly tags: Readonly<Record<string, string>>;
  /** Sorted by id, then port. */
  readonly targets: readonly DesiredTarget[];
}

export interface DesiredListener {
  readonly port: number;
  readonly protocol: NlbProtocol;
  readonly certificateArn: string | undefined;
  readonly sslPolicy: string | undefined;
  readonly targetGroupName: string;
  readonly tags: Readonly<Record<string, string>>;
}

export interface DesiredNlb {
  readonly loadBalancer: DesiredLoadBalancer;
  /** One per Service port, in Service port order. */
  readonly targetGroups: readonly DesiredTargetGroup[];
  readonly listeners: readonly DesiredListener[];
}

function field(annotation: string): string {
  return annotationField(`${AWS_ANNOTATION_PREFIX}${annotation}`);
}

/** Ownership tags always win over additional-resource-tags: a user tag must not break delete-by-tag. */
function withAdditional(config: AwsServiceConfig, owned: Record<string, string>): Record<string, string> {
  return withAdditionalTags(config.additionalTags, owned);
}

function isSslPort(config: AwsServiceConfig, port: PortSpec): boolean {
  if (config.sslCertificate === undefined) return false;
  if (config.sslPorts === "*") return port.protocol === "TCP";
  const listed = config.sslPorts.some((p) => p === port.port || (port.name !== "" && p === port.name));
  if (listed && port.protocol !== "TCP") {
    throw new InvalidSpecError(
      field("ssl-ports"),
      `port ${port.port}/${port.protocol} cannot terminate TLS: only TCP ports can`,
    );
  }
  return listed;
}

function listenerProtocol(port: PortSpec): "TCP" | "UDP" {
  if (port.protocol === "TCP" || port.protocol === "UDP") return port.protocol;
  throw new InvalidSpecError(
    "spec.ports",
    `port ${port.port}: protocol ${port.protocol} is not supported by a Network Load Balancer; use TCP or UDP`,
  );
}

function loadBalancerAttributes(config: AwsServiceConfig): Record<string, string> {
  const attributes: Record<string, string> = {
    [ATTR_CROSS_ZONE]: String(config.crossZone),
    [ATTR_ACCESS_LOGS_ENABLED]: String(config.accessLog.enabled),
  };
  if (config.accessLog.enabled) {
    if (!config.accessLog.bucket) {
      throw new InvalidSpecError(field("access-log-s3-bucket-name"), "access logs are enabled but no bucket is given");
    }
    attributes[ATTR_ACCESS_LOGS_BUCKET] = config.accessLog.bucket;
    attributes[ATTR_ACCESS_LOGS_PREFIX] = config.accessLog.prefix ?? "";
  }
  return attributes;
}

function subnetMappings(input: DeployInput): SubnetMapping[] {
  const { env, config } = input;
  const eips = config.eipAllocations;
  if (eips !== undefined && eips.length !== env.subnets.length) {
    throw new InvalidSpecError(
      field("eip-allocations"),
      `${eips.length} allocations for ${env.subnets.length} subnets: the counts must match`,
    );
  }
  return env.subnets.map((s, i) => ({ subnetId: s.id, allocationId: eips?.[i] }));
}

function compareTargets(a: DesiredTarget, b: DesiredTarget): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : a.port - b.port;
}

/** Ready IPv4 pod endpoints (the NLB is ipv4), each with its own port for this Service port. */
function ipTargets(spec: LoadBalancerSpec, port: PortSpec): DesiredTarget[] {
  if (spec.backends.mode !== "pod") return [];
  const targets: DesiredTarget[] = [];
  for (const ep of spec.backends.endpoints) {
    const p = ep.ports[port.name];
    if (ep.ready && p !== undefined && !ep.ip.includes(":")) targets.push({ id: ep.ip, port: p });
  }
  return targets.sort(compareTargets);
}

/** The port of an ip-target group (see targetPortFor). */
export const IP_TARGET_GROUP_PORT = 1;

function targetPortFor(input: DeployInput, port: PortSpec): number {
  const { spec, config } = input;
  if (config.targetType === "instance") {
    if (port.nodePort === undefined || port.nodePort === 0) {
      throw new InvalidSpecError(
        "spec.allocateLoadBalancerNodePorts",
        `port ${port.port} has no NodePort, so instance targets cannot serve it; allocate NodePorts or use ${AWS_ANNOTATION_PREFIX}nlb-target-type: ip`,
      );
    }
    return port.nodePort;
  }
  if (spec.backends.mode !== "pod") {
    throw new InvalidSpecError(
      field("nlb-target-type"),
      "ip targets need pod endpoints, but the Service's backends are nodes",
    );
  }
  // Every ip target is registered with its own port and the health check uses the traffic port, so the group's own
  // port is only a default. A fixed one (aws-load-balancer-controller uses 1 when the target port is not numeric)
  // keeps the group's name stable while pods come and go, also through a moment with no ready pod at all, when
  // the group must be emptied rather than the Service refused.
  return IP_TARGET_GROUP_PORT;
}

function targetGroupFor(input: DeployInput, port: PortSpec, sslListener: boolean): DesiredTargetGroup {
  const { spec, config, env } = input;
  const id = spec.id;
  const targetPort = targetPortFor(input, port);
  const protocol = sslListener && config.backendProtocol === "ssl" ? "TLS" : listenerProtocol(port);
  const healthCheck = healthCheckFor("nlb", config.targetType, spec, config, port);
  const name = targetGroupName(id, {
    port: port.port,
    protocol,
    targetType: config.targetType,
    healthCheckProtocol: healthCheck.protocol,
    healthCheckIntervalSeconds: healthCheck.intervalSeconds,
    targetPort,
  });
  const attributes: Record<string, string> = { ...config.targetGroupAttributes };
  if (config.proxyProtocol) attributes[ATTR_PROXY_PROTOCOL_V2] = "true";
  const targets =
    config.targetType === "instance"
      ? env.instances.map((i) => ({ id: i.instanceId, port: targetPort })).sort(compareTargets)
      : ipTargets(spec, port);
  return {
    name,
    servicePort: port.port,
    protocol,
    port: targetPort,
    targetType: config.targetType,
    vpcId: env.vpcId,
    healthCheck,
    attributes,
    tags: withAdditional(config, ownershipTags(id, `${id.namespace}/${id.name}:${port.port}`)),
    targets,
  };
}

function checkUniquePorts(ports: readonly PortSpec[]): void {
  const seen = new Map<number, string>();
  for (const p of ports) {
    const before = seen.get(p.port);
    if (before !== undefined) {
      throw new InvalidSpecError(
        "spec.ports",
        `port ${p.port} is used by both ${before} and ${p.protocol}: an NLB listener serves one protocol per port`,
      );
    }
    seen.set(p.port, p.protocol);
  }
}

/** Throws InvalidSpecError for input no NLB can serve. */
export function desiredNlb(input: DeployInput): DesiredNlb {
  const { spec, config } = input;
  const id = spec.id;
  checkUniquePorts(spec.ports);
  const targetGroups: DesiredTargetGroup[] = [];
  const listeners: DesiredListener[] = [];
  for (const port of spec.ports) {
    const ssl = isSslPort(config, port);
    const tg = targetGroupFor(input, port, ssl);
    targetGroups.push(tg);
    listeners.push({
      port: port.port,
      protocol: ssl ? "TLS" : listenerProtocol(port),
      certificateArn: ssl ? config.sslCertificate : undefined,
      sslPolicy: ssl ? (config.sslNegotiationPolicy ?? DEFAULT_SSL_POLICY) : undefined,
      targetGroupName: tg.name,
      tags: withAdditional(config, ownershipTags(id, `${id.namespace}/${id.name}:${port.port}`)),
    });
  }
  const loadBalancer: DesiredLoadBalancer = {
    name: loadBalancerName(id, "nlb", config.scheme),
    scheme: config.scheme,
    subnetMappings: subnetMappings(input),
    securityGroupIds: [...input.securityGroupIds].sort(),
    tags: withAdditional(config, ownershipTags(id, "LoadBalancer")),
    attributes: loadBalancerAttributes(config),
  };
  return { loadBalancer, targetGroups, listeners };
}
