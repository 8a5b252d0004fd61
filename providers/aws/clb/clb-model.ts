/**
 * Pure parts of the classic ELB deployer: the desired listeners, attributes and health check for a Service, and
 * the diffs against what DescribeLoadBalancers / DescribeLoadBalancerAttributes / DescribeTags report. Every
 * write the deployer makes comes out of a non-empty diff here, so a converged load balancer gets no write
 * (unlike cloud-provider-aws, which re-creates the proxy-protocol policy and re-adds tags on every sync,
 * reference section 3).
 */
import type {
  HealthCheck,
  Listener,
  LoadBalancerAttributes,
  LoadBalancerDescription,
  Tag,
} from "@aws-sdk/client-elastic-load-balancing";
import { InvalidSpecError } from "../../../src/errors.js";
import type { PortSpec } from "../../../src/provider.js";
import { TAG_CLUSTER, TAG_SERVICE_UID, type AwsServiceConfig, type HealthCheckSettings } from "../aws-types.js";

export const PROXY_PROTOCOL_POLICY = "k8s-proxyprotocol-enabled";

/** Listener protocol for a TLS listener by backend-protocol: cloud-provider-aws's backendProtocolMapping. */
const TLS_FRONTEND: Readonly<Record<string, string>> = { https: "HTTPS", http: "HTTPS", ssl: "SSL", tcp: "SSL" };

function isSslPort(port: PortSpec, sslPorts: AwsServiceConfig["sslPorts"]): boolean {
  if (sslPorts === "*") return true;
  return sslPorts.some((p) => (typeof p === "number" ? p === port.port : p.toLowerCase() === port.name.toLowerCase()));
}

/**
 * One listener per Service port, load balancer port -> NodePort. Follows cloud-provider-aws's `buildListener`:
 * with ssl-cert on an ssl-port the listener terminates TLS (SSL, or HTTPS for http/https backends) and the
 * instance protocol is backend-protocol (default TCP); otherwise backend-protocol http gives HTTP/HTTP and
 * anything else TCP/TCP. A classic ELB has no UDP: the config layer rejects it, and so do we.
 */
export function desiredListeners(ports: readonly PortSpec[], config: AwsServiceConfig): Listener[] {
  if (ports.length === 0) throw new InvalidSpecError("spec.ports", "a classic ELB needs at least one port");
  return ports.map((port, i) => {
    if (port.protocol !== "TCP") {
      throw new InvalidSpecError(`spec.ports[${i}].protocol`, `a classic ELB supports only TCP, not ${port.protocol}`);
    }
    if (port.nodePort === undefined) {
      throw new InvalidSpecError(
        `spec.ports[${i}].nodePort`,
        "a classic ELB forwards to NodePorts; this port has none (allocateLoadBalancerNodePorts=false?)",
      );
    }
    const backend = config.backendProtocol;
    const listener: Listener = {
      LoadBalancerPort: port.port,
      InstancePort: port.nodePort,
      Protocol: "TCP",
      InstanceProtocol: "TCP",
    };
    if (config.sslCertificate && isSslPort(port, config.sslPorts)) {
      return {
        ...listener,
        Protocol: backend ? (TLS_FRONTEND[backend] ?? "SSL") : "SSL",
        InstanceProtocol: (backend ?? "tcp").toUpperCase(),
        SSLCertificateId: config.sslCertificate,
      };
    }
    return backend === "http" ? { ...listener, Protocol: "HTTP", InstanceProtocol: "HTTP" } : listener;
  });
}

function sameListener(a: Listener, b: Listener): boolean {
  return (
    a.LoadBalancerPort === b.LoadBalancerPort &&
    a.InstancePort === b.InstancePort &&
    (a.Protocol ?? "").toUpperCase() === (b.Protocol ?? "").toUpperCase() &&
    (a.InstanceProtocol ?? "").toUpperCase() === (b.InstanceProtocol ?? "").toUpperCase() &&
    (a.SSLCertificateId ?? "") === (b.SSLCertificateId ?? "")
  );
}

export interface ListenerDiff {
  /** Load balancer ports to delete: gone, or changed (a classic ELB changes a listener by delete + create). */
  readonly remove: number[];
  readonly create: Listener[];
}

export function diffListeners(current: readonly Listener[], desired: readonly Listener[]): ListenerDiff {
  const kept = new Set<number>();
  const remove: number[] = [];
  for (const listener of current) {
    const port = listener.LoadBalancerPort;
    if (port === undefined) continue;
    if (desired.some((d) => sameListener(d, listener))) kept.add(port);
    else remove.push(port);
  }
  const create = desired.filter((d) => d.LoadBalancerPort === undefined || !kept.has(d.LoadBalancerPort));
  return { remove: remove.sort((a, b) => a - b), create };
}

export function currentListeners(lb: LoadBalancerDescription): Listener[] {
  return (lb.ListenerDescriptions ?? []).flatMap((d) => (d.Listener ? [d.Listener] : []));
}

export interface SetDiff {
  readonly add: string[];
  readonly remove: string[];
}

export function diffSets(current: readonly string[], desired: readonly string[]): SetDiff {
  const have = new Set(current);
  const want = new Set(desired);
  return { add: [...want].filter((x) => !have.has(x)).sort(), remove: [...have].filter((x) => !want.has(x)).sort() };
}

export function desiredHealthCheck(settings: HealthCheckSettings, target: string): HealthCheck {
  return {
    Target: target,
    Interval: settings.intervalSeconds,
    Timeout: settings.timeoutSeconds,
    HealthyThreshold: settings.healthyThreshold,
    UnhealthyThreshold: settings.unhealthyThreshold,
  };
}

/** A new classic ELB in moto has no health check at all until one is configured (reference section 6). */
export function healthCheckDiffers(current: HealthCheck | undefined, desired: HealthCheck): boolean {
  return (
    current === undefined ||
    current.Target !== desired.Target ||
    current.Interval !== desired.Interval ||
    current.Timeout !== desired.Timeout ||
    current.HealthyThreshold !== desired.HealthyThreshold ||
    current.UnhealthyThreshold !== desired.UnhealthyThreshold
  );
}

type Attribute<K extends keyof LoadBalancerAttributes> = NonNullable<LoadBalancerAttributes[K]>;

/** A disabled block ignores its timeout: AWS keeps a stale draining timeout around after disabling. */
function drainingChange(
  current: Attribute<"ConnectionDraining"> | undefined,
  draining: AwsServiceConfig["connectionDraining"],
): Attribute<"ConnectionDraining"> | undefined {
  const differs =
    (current?.Enabled ?? false) !== draining.enabled ||
    (draining.enabled && current?.Timeout !== draining.timeoutSeconds);
  if (!differs) return undefined;
  return draining.enabled ? { Enabled: true, Timeout: draining.timeoutSeconds } : { Enabled: false };
}

/** A disabled block ignores its bucket and prefix, and an unset emit interval accepts whatever AWS defaulted to. */
function accessLogDiffers(current: Attribute<"AccessLog"> | undefined, log: AwsServiceConfig["accessLog"]): boolean {
  if ((current?.Enabled ?? false) !== log.enabled) return true;
  if (!log.enabled) return false;
  return (
    (current?.S3BucketName ?? "") !== (log.bucket ?? "") ||
    (current?.S3BucketPrefix ?? "") !== (log.prefix ?? "") ||
    (log.emitIntervalMinutes !== undefined && current?.EmitInterval !== log.emitIntervalMinutes)
  );
}

function accessLogChange(
  current: Attribute<"AccessLog"> | undefined,
  log: AwsServiceConfig["accessLog"],
): Attribute<"AccessLog"> | undefined {
  if (!accessLogDiffers(current, log)) return undefined;
  return log.enabled
    ? { Enabled: true, S3BucketName: log.bucket, S3BucketPrefix: log.prefix, EmitInterval: log.emitIntervalMinutes }
    : { Enabled: false };
}

/**
 * Only the attribute blocks that differ, or undefined when none does. A disabled block ignores its other
 * fields (AWS keeps a stale draining timeout or bucket around after disabling), and an unset emit interval
 * accepts whatever AWS defaulted to.
 */
export function attributeChanges(
  current: LoadBalancerAttributes | undefined,
  config: AwsServiceConfig,
): LoadBalancerAttributes | undefined {
  const changes: LoadBalancerAttributes = {};
  const draining = drainingChange(current?.ConnectionDraining, config.connectionDraining);
  if (draining) changes.ConnectionDraining = draining;
  if (current?.ConnectionSettings?.IdleTimeout !== config.idleTimeoutSeconds) {
    changes.ConnectionSettings = { IdleTimeout: config.idleTimeoutSeconds };
  }
  if ((current?.CrossZoneLoadBalancing?.Enabled ?? false) !== config.crossZone) {
    changes.CrossZoneLoadBalancing = { Enabled: config.crossZone };
  }
  const accessLog = accessLogChange(current?.AccessLog, config.accessLog);
  if (accessLog) changes.AccessLog = accessLog;
  return Object.keys(changes).length > 0 ? changes : undefined;
}

export function tagMap(tags: readonly Tag[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const tag of tags ?? []) if (tag.Key !== undefined) out[tag.Key] = tag.Value ?? "";
  return out;
}

/** Tags to add or overwrite. Tags are never removed (see frontend-security-group.ts for why). */
export function missingTags(
  current: Readonly<Record<string, string>>,
  desired: Readonly<Record<string, string>>,
): Tag[] {
  return Object.entries(desired)
    .filter(([key, value]) => current[key] !== value)
    .map(([Key, Value]) => ({ Key, Value }));
}

/** Ours when both the cluster and the Service UID tags match: a same-named foreign ELB is never touched. */
export function isOwned(tags: Readonly<Record<string, string>>, clusterId: string, uid: string): boolean {
  return tags[TAG_CLUSTER] === clusterId && tags[TAG_SERVICE_UID] === uid;
}

export interface BackendPolicyChange {
  readonly instancePort: number;
  readonly policyNames: string[];
}

export interface ProxyProtocolPlan {
  readonly createPolicy: boolean;
  readonly backendChanges: BackendPolicyChange[];
}

/**
 * cloud-provider-aws's proxy-protocol handling for the classic ELB: policy `k8s-proxyprotocol-enabled` set on
 * every NodePort's backend when enabled, removed from backends that should not have it. Other policies on a
 * backend are kept. The policy itself is created only when missing.
 */
export function proxyProtocolPlan(
  lb: LoadBalancerDescription,
  instancePorts: readonly number[],
  enabled: boolean,
): ProxyProtocolPlan {
  const backends = new Map<number, string[]>();
  for (const b of lb.BackendServerDescriptions ?? []) {
    if (b.InstancePort !== undefined) backends.set(b.InstancePort, b.PolicyNames ?? []);
  }
  const wanted = new Set(enabled ? instancePorts : []);
  const backendChanges: BackendPolicyChange[] = [];
  for (const port of [...new Set([...wanted, ...backends.keys()])].sort((a, b) => a - b)) {
    const names = backends.get(port) ?? [];
    const has = names.includes(PROXY_PROTOCOL_POLICY);
    if (wanted.has(port) && !has)
      backendChanges.push({ instancePort: port, policyNames: [...names, PROXY_PROTOCOL_POLICY] });
    if (!wanted.has(port) && has)
      backendChanges.push({ instancePort: port, policyNames: names.filter((n) => n !== PROXY_PROTOCOL_POLICY) });
  }
  const createPolicy = enabled && !(lb.Policies?.OtherPolicies ?? []).includes(PROXY_PROTOCOL_POLICY);
  return { createPolicy, backendChanges };
}
