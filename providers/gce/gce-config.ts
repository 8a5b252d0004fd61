/**
 * A Service's GCE settings, parsed and validated before any Compute call, so bad input never leaves a partial
 * load balancer. Annotations are the anchor's (cloud-provider-gcp, ../shared/reference/gce.md section 2) plus one
 * of ours, `lb-operator.io/gce-allow-all-sources`.
 *
 * Load-balancer type: only the internal passthrough load balancer is provided. The Service already chose this
 * provider through its loadBalancerClass, so a missing type annotation means Internal (the anchor's own class,
 * networking.gke.io/l4-regional-internal-legacy, likewise needs no annotation); `Internal`/`internal` is accepted,
 * anything else (e.g. `External`) is refused rather than silently built as something else.
 *
 * Annotations follow the toolkit's rules for every provider (src/toolkit/annotation-reader.ts): values trimmed, a
 * blank value the same as none, booleans in Go's strconv.ParseBool forms as cloud-provider-gcp reads them.
 */
import ipaddr from "ipaddr.js";
import { InvalidSpecError } from "../../src/errors.js";
import type { LoadBalancerSpec } from "../../src/provider.js";
import { AnnotationReader, parseCIDR, parseIP, quote } from "../../src/toolkit/index.js";
import { isValidGceName } from "./names.js";

export const LB_TYPE_ANNOTATION = "networking.gke.io/load-balancer-type";
export const LEGACY_LB_TYPE_ANNOTATION = "cloud.google.com/load-balancer-type";
export const SUBNET_ANNOTATION = "networking.gke.io/internal-load-balancer-subnet";
export const GLOBAL_ACCESS_ANNOTATION = "networking.gke.io/internal-load-balancer-allow-global-access";
/** Ours: admit 0.0.0.0/0 when the Service gives no source ranges (the anchor does so silently, kubernetes/kubernetes#56371). */
export const ALLOW_ALL_SOURCES_ANNOTATION = "lb-operator.io/gce-allow-all-sources";

/** What the parsed Service asks of GCE, beyond the provider-neutral spec. */
export interface GceServiceConfig {
  /** The one IP protocol of every port: a forwarding rule and backend service carry exactly one. */
  readonly protocol: "TCP" | "UDP";
  /** Subnet name from the annotation; undefined means the cluster's subnet (GceLocation.subnetwork). */
  readonly subnetwork: string | undefined;
  readonly allowGlobalAccess: boolean;
  /** With no source ranges: true admits 0.0.0.0/0, false only GceLocation.defaultSourceRanges (the VPC). */
  readonly allowAllSources: boolean;
  /** The requested IPv4 VIP; whether it lies in the subnet is checked once the subnet's range is known. */
  readonly requestedIP: string | undefined;
}

function checkType(annotations: AnnotationReader): void {
  for (const key of [LB_TYPE_ANNOTATION, LEGACY_LB_TYPE_ANNOTATION]) {
    const value = annotations.string(key);
    if (value === undefined || value === "Internal" || value === "internal") continue;
    annotations.fail(
      key,
      `load-balancer type ${quote(value)} is not provided: the GCE provider builds internal passthrough load balancers only; set "Internal" or remove the annotation`,
    );
  }
}

function parseProtocol(spec: LoadBalancerSpec): "TCP" | "UDP" {
  const protocols = [...new Set(spec.ports.map((p) => p.protocol))];
  const sctp = spec.ports.findIndex((p) => p.protocol === "SCTP");
  if (sctp >= 0) {
    throw new InvalidSpecError(
      `spec.ports[${sctp}].protocol`,
      "SCTP is not supported by the GCE internal passthrough load balancer (TCP or UDP)",
    );
  }
  const [only] = protocols;
  if (protocols.length !== 1 || only === undefined || only === "SCTP") {
    throw new InvalidSpecError(
      "spec.ports",
      `mixed protocols (${protocols.join(", ")}): a GCE internal forwarding rule carries one protocol; use one Service per protocol`,
    );
  }
  return only;
}

function parseSubnet(annotations: AnnotationReader): string | undefined {
  const value = annotations.string(SUBNET_ANNOTATION);
  if (value === undefined) return undefined;
  if (!isValidGceName(value)) {
    annotations.fail(SUBNET_ANNOTATION, `${quote(value)} is not a subnetwork name (RFC 1035, at most 63 characters)`);
  }
  return value;
}

function parseRequestedIP(spec: LoadBalancerSpec): string | undefined {
  if (spec.requestedIPs.length > 1) {
    throw new InvalidSpecError(
      "spec.loadBalancerIP",
      `one address only (${spec.requestedIPs.join(", ")}): the internal load balancer is IPv4-only`,
    );
  }
  const [ip] = spec.requestedIPs;
  if (ip === undefined) return undefined;
  if (!(parseIP(ip) instanceof ipaddr.IPv4)) {
    throw new InvalidSpecError(
      "spec.loadBalancerIP",
      `${ip} is not an IPv4 address: the internal load balancer is IPv4-only`,
    );
  }
  return ip;
}

/**
 * @throws InvalidSpecError naming the field or annotation: a type other than Internal, mixed or SCTP protocols, a
 *   bad subnet name or boolean, a requested IP that is not one IPv4 address, IPv6 source ranges (the firewall's
 *   destination is an IPv4 VIP), an IPv6-only Service, or pod mode (see below).
 */
export function parseGceConfig(spec: LoadBalancerSpec): GceServiceConfig {
  const annotations: AnnotationReader = new AnnotationReader(spec.annotations);
  checkType(annotations);
  if (spec.backends.mode === "pod") {
    // GCE_VM_IP NEGs (ingress-gce's L4 path) list the *nodes* of the endpoints as VM instances, found through the
    // Node objects; the provider contract gives pod mode only pod endpoints, and a passthrough load balancer needs
    // no NodePorts anyway (packets reach the node addressed to the VIP, where kube-proxy takes them).
    throw new InvalidSpecError(
      "spec.allocateLoadBalancerNodePorts",
      "pod mode (allocateLoadBalancerNodePorts=false) is not supported by the GCE provider: the internal passthrough load balancer delivers to nodes and never uses NodePorts, so leave it unset",
    );
  }
  if (!spec.ipFamilies.includes("IPv4")) {
    throw new InvalidSpecError(
      "spec.ipFamilies",
      "the GCE internal load balancer is IPv4-only; the Service has no IPv4 family",
    );
  }
  const v6 = spec.sourceRanges.find((r) => !(parseCIDR(r)?.address instanceof ipaddr.IPv4));
  if (v6 !== undefined) {
    throw new InvalidSpecError(
      "spec.loadBalancerSourceRanges",
      `${v6} is not an IPv4 range: the load balancer's address is IPv4`,
    );
  }
  return {
    protocol: parseProtocol(spec),
    subnetwork: parseSubnet(annotations),
    allowGlobalAccess: annotations.bool(GLOBAL_ACCESS_ANNOTATION) ?? false,
    allowAllSources: annotations.bool(ALLOW_ALL_SOURCES_ANNOTATION) ?? false,
    requestedIP: parseRequestedIP(spec),
  };
}

/** @throws InvalidSpecError when `ip` is not inside `cidr` (the subnet's primary range). */
export function checkRequestedIPInSubnet(ip: string, subnet: string, cidr: string): void {
  const range = parseCIDR(cidr);
  const address = parseIP(ip);
  if (range === undefined || !(range.address instanceof ipaddr.IPv4) || !(address instanceof ipaddr.IPv4)) {
    throw new InvalidSpecError(
      "spec.loadBalancerIP",
      `cannot check ${ip} against subnetwork ${subnet} range ${quote(cidr)}`,
    );
  }
  if (!address.match(range.address, range.prefixLength)) {
    throw new InvalidSpecError(
      "spec.loadBalancerIP",
      `${ip} is not within subnetwork ${subnet} (${cidr}) (kubernetes/kubernetes#57860)`,
    );
  }
}
