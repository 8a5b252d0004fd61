/**
 * The desired Compute resources of one internal passthrough load balancer, as cloud-provider-gcp builds them
 * (../shared/reference/gce.md section 1), in the shapes the client sends. Pure: the deployer diffs these against
 * what Compute reports (diff.ts) and writes only the difference.
 *
 * One deliberate difference from the anchor: with no loadBalancerSourceRanges the traffic firewall admits the VPC's
 * ranges (GceLocation.defaultSourceRanges), not 0.0.0.0/0, unless the Service opts in with
 * `lb-operator.io/gce-allow-all-sources: "true"` (kubernetes/kubernetes#56371).
 */
import type { protos } from "@google-cloud/compute";
import { InvalidSpecError } from "../../src/errors.js";
import type { LoadBalancerSpec, NodeBackend } from "../../src/provider.js";
import { ALLOW_ALL_SOURCES_ANNOTATION, type GceServiceConfig } from "./gce-config.js";
import type { GceLocation, GceNodeInstance } from "./gce-types.js";
import { healthCheckFirewallName, healthCheckName, instanceGroupName, lbName, trafficFirewallName } from "./names.js";
import { descriptionFor, type Owner } from "./ownership.js";
import { backendServiceUrl, healthCheckUrl, instanceGroupUrl, instanceUrl, networkUrl } from "./resource-paths.js";

type IHealthCheck = protos.google.cloud.compute.v1.IHealthCheck;
type IBackendService = protos.google.cloud.compute.v1.IBackendService;
type IForwardingRule = protos.google.cloud.compute.v1.IForwardingRule;
type IFirewall = protos.google.cloud.compute.v1.IFirewall;

/** gce.go: the anchor's health-check parameters. Larger hand-set values are kept (mergeHealthChecks). */
export const HEALTH_CHECK_DEFAULTS = {
  checkIntervalSec: 8,
  timeoutSec: 1,
  healthyThreshold: 1,
  unhealthyThreshold: 3,
} as const;
/** maxL4ILBPorts: past five ports the forwarding rule takes all ports (istio/istio#11365). */
export const MAX_FORWARDING_RULE_PORTS = 5;
/** Instance groups hold at most 1000 instances; the anchor keeps the first 1000 names per zone (kubernetes/kubernetes#89902). */
export const MAX_INSTANCES_PER_GROUP = 1000;
const ALL_IPV4 = "0.0.0.0/0";
const PROVIDER_ID = /^gce:\/\/([^/]+)\/([^/]+)\/([^/]+)$/;

export interface Owned<T> {
  readonly owner: Owner;
  readonly resource: T;
}

export interface DesiredLoadBalancer {
  readonly name: string;
  readonly healthCheck: Owned<IHealthCheck>;
  readonly healthCheckFirewall: Owned<IFirewall>;
  readonly backendService: IBackendService;
  readonly forwardingRule: IForwardingRule;
  /** Zone -> instance URLs (sorted); only zones with nodes. */
  readonly instanceGroups: ReadonlyMap<string, readonly string[]>;
  readonly instanceGroupName: string;
}

export interface NodeInstances {
  readonly instances: readonly GceNodeInstance[];
  /** Nodes left out, with why (no GCE providerID, another region, over the per-zone cap). */
  readonly skipped: readonly { readonly node: string; readonly reason: string }[];
}

/** Nodes as instances, from spec.providerID `gce://<project>/<zone>/<instance>` (never the node name: kubernetes/kubernetes#69362). */
export function nodeInstances(nodes: readonly NodeBackend[], region: string): NodeInstances {
  const byZone = new Map<string, GceNodeInstance[]>();
  const skipped: { node: string; reason: string }[] = [];
  for (const node of nodes) {
    const match = PROVIDER_ID.exec(node.providerID ?? "");
    const [, project, zone, instance] = match ?? [];
    if (project === undefined || zone === undefined || instance === undefined) {
      skipped.push({
        node: node.name,
        reason: `providerID ${JSON.stringify(node.providerID ?? "")} is not gce://<project>/<zone>/<instance>`,
      });
    } else if (!zone.startsWith(`${region}-`)) {
      skipped.push({ node: node.name, reason: `zone ${zone} is not in region ${region}` });
    } else {
      byZone.set(zone, [...(byZone.get(zone) ?? []), { nodeName: node.name, project, zone, instance }]);
    }
  }
  const instances: GceNodeInstance[] = [];
  for (const zone of [...byZone.keys()].sort()) {
    const sorted = (byZone.get(zone) ?? []).sort((a, b) => a.instance.localeCompare(b.instance));
    instances.push(...sorted.slice(0, MAX_INSTANCES_PER_GROUP));
    for (const n of sorted.slice(MAX_INSTANCES_PER_GROUP))
      skipped.push({ node: n.nodeName, reason: `more than ${MAX_INSTANCES_PER_GROUP} nodes in zone ${zone}` });
  }
  return { instances, skipped };
}

/** "80", "8080-8082": sorted, deduplicated, consecutive ports merged (the anchor's firewall port ranges). */
export function compactPortRanges(ports: readonly number[]): string[] {
  const sorted = [...new Set(ports)].sort((a, b) => a - b);
  const out: string[] = [];
  let start: number | undefined;
  let prev = 0;
  for (const p of [...sorted, Number.NaN]) {
    if (start !== undefined && p === prev + 1) {
      prev = p;
      continue;
    }
    if (start !== undefined) out.push(start === prev ? String(start) : `${start}-${prev}`);
    start = p;
    prev = p;
  }
  return out;
}

/** The traffic firewall's sources; never 0.0.0.0/0 without the opt-in. */
export function trafficSourceRanges(spec: LoadBalancerSpec, config: GceServiceConfig, location: GceLocation): string[] {
  if (spec.sourceRanges.length > 0) return [...spec.sourceRanges].sort();
  if (config.allowAllSources) return [ALL_IPV4];
  if (location.defaultSourceRanges.length === 0) {
    throw new InvalidSpecError(
      "spec.loadBalancerSourceRanges",
      `no source ranges, and the controller knows no VPC ranges to default to; set loadBalancerSourceRanges, or "${ALLOW_ALL_SOURCES_ANNOTATION}: true" to admit 0.0.0.0/0`,
    );
  }
  return [...location.defaultSourceRanges].sort();
}

function healthCheckPort(spec: LoadBalancerSpec): number {
  const hc = spec.healthCheck;
  if (hc.kind !== "http")
    throw new InvalidSpecError(
      "spec.allocateLoadBalancerNodePorts",
      "the GCE provider needs an HTTP node health check (nodePort mode)",
    );
  return hc.port;
}

export interface DesiredInputs {
  readonly spec: LoadBalancerSpec;
  readonly config: GceServiceConfig;
  readonly location: GceLocation;
  /** The subnetwork URL the forwarding rule uses (annotation or the location's default). */
  readonly subnetwork: string;
  readonly instances: readonly GceNodeInstance[];
  /** The IP to ask for: the requested one, or the old rule's when it is recreated in the same subnet. */
  readonly ipAddress: string | undefined;
}

/** Zone -> instance URLs, in the order the instances come (nodeInstances sorts them). */
function instanceUrlsByZone(instances: readonly GceNodeInstance[]): Map<string, string[]> {
  const byZone = new Map<string, string[]>();
  for (const i of instances) {
    byZone.set(i.zone, [...(byZone.get(i.zone) ?? []), instanceUrl(i.project, i.zone, i.instance)]);
  }
  return byZone;
}

function desiredHealthCheck(owner: Owner, name: string, port: number): Owned<IHealthCheck> {
  return {
    owner,
    resource: {
      name,
      description: descriptionFor(owner),
      type: "HTTP",
      httpHealthCheck: { port, requestPath: "/healthz" },
      ...HEALTH_CHECK_DEFAULTS,
    },
  };
}

function desiredHealthCheckFirewall(
  owner: Owner,
  name: string,
  port: number,
  network: string,
  location: GceLocation,
): Owned<IFirewall> {
  return {
    owner,
    resource: {
      name,
      description: descriptionFor(owner),
      network,
      direction: "INGRESS",
      sourceRanges: [...location.healthCheckSourceRanges].sort(),
      allowed: [{ IPProtocol: "tcp", ports: [String(port)] }],
      targetTags: [...location.nodeTags].sort(),
    },
  };
}

function desiredForwardingRule(inputs: DesiredInputs, name: string, network: string): IForwardingRule {
  const { spec, config, location } = inputs;
  const ports = [...new Set(spec.ports.map((p) => p.port))].sort((a, b) => a - b);
  const allPorts = ports.length > MAX_FORWARDING_RULE_PORTS;
  return {
    name,
    description: descriptionFor({ kind: "service", id: spec.id }),
    ...(inputs.ipAddress !== undefined ? { IPAddress: inputs.ipAddress } : {}),
    IPProtocol: config.protocol,
    loadBalancingScheme: "INTERNAL",
    backendService: backendServiceUrl(location.project, location.region, name),
    ...(allPorts ? { allPorts: true } : { ports: ports.map(String) }),
    network,
    subnetwork: inputs.subnetwork,
    allowGlobalAccess: config.allowGlobalAccess,
  };
}

export function desiredLoadBalancer(inputs: DesiredInputs): DesiredLoadBalancer {
  const { spec, config, location } = inputs;
  const id = spec.id;
  const name = lbName(id);
  const { project } = location;
  const policy = spec.externalTrafficPolicy;
  const serviceOwner: Owner = { kind: "service", id };
  const hcOwner: Owner = policy === "Local" ? serviceOwner : { kind: "cluster", clusterId: id.clusterId };
  const hcName = healthCheckName(id, policy);
  const hcPort = healthCheckPort(spec);
  const groupName = instanceGroupName(id.clusterId);
  const instanceGroups = instanceUrlsByZone(inputs.instances);
  const zones = [...instanceGroups.keys()].sort();
  const network = networkUrl(location);

  return {
    name,
    instanceGroupName: groupName,
    instanceGroups,
    healthCheck: desiredHealthCheck(hcOwner, hcName, hcPort),
    healthCheckFirewall: desiredHealthCheckFirewall(
      hcOwner,
      healthCheckFirewallName(id, policy),
      hcPort,
      network,
      location,
    ),
    backendService: {
      name,
      description: descriptionFor(serviceOwner),
      protocol: config.protocol,
      loadBalancingScheme: "INTERNAL",
      healthChecks: [healthCheckUrl(project, hcName)],
      backends: zones.map((z) => ({ group: instanceGroupUrl(project, z, groupName) })),
      sessionAffinity: spec.sessionAffinity.type === "ClientIP" ? "CLIENT_IP" : "NONE",
    },
    forwardingRule: desiredForwardingRule(inputs, name, network),
  };
}

/** The traffic firewall `k8s-fw-{lbName}`: sources to the VIP only, on the Service ports, to the node tags. */
export function desiredTrafficFirewall(
  inputs: Pick<DesiredInputs, "spec" | "config" | "location">,
  vip: string,
): IFirewall {
  const { spec, config, location } = inputs;
  return {
    name: trafficFirewallName(spec.id),
    description: descriptionFor({ kind: "service", id: spec.id }),
    network: networkUrl(location),
    direction: "INGRESS",
    sourceRanges: trafficSourceRanges(spec, config, location),
    destinationRanges: [vip],
    allowed: [{ IPProtocol: config.protocol.toLowerCase(), ports: compactPortRanges(spec.ports.map((p) => p.port)) }],
    targetTags: [...location.nodeTags].sort(),
  };
}
