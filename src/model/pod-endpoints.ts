/**
 * Pod-mode backends from EndpointSlices, read the way kube-proxy reads them
 * (kubernetes/kubernetes pkg/proxy/endpointslicecache.go and pkg/proxy/topology.go).
 */
import type { V1Endpoint, V1EndpointSlice, V1Service } from "@kubernetes/client-node";
import type { IPFamily, PodEndpoint, PortSpec } from "../provider.js";
import { SERVICE_NAME_LABEL } from "./annotations.js";
import { compareIPs, formatIP, ipFamilyOf, parseIP } from "../toolkit/ip.js";
import type { IPAddress } from "../toolkit/ip.js";

interface Candidate {
  readonly address: IPAddress;
  /** A Map, not an object: port names such as "constructor" must not hit Object.prototype. */
  readonly ports: Map<string, number>;
  nodeName: string | undefined;
  zone: string | undefined;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
}

/**
 * The Service's endpoints, deduplicated by IP and sorted by IP (IPv4 first).
 * - Only slices labelled kubernetes.io/service-name=<name> in the Service's namespace whose addressType is one of
 *   `ipFamilies` (FQDN slices are never routable).
 * - Each service port resolves, per slice, to the slice port with the same name and protocol: that is how a named
 *   targetPort becomes a number, and two slices may resolve it differently. An endpoint without a port for some
 *   service port lacks that key; one with no port for any service port is dropped.
 * - Conditions as kube-proxy reads them: ready and serving default to true when unset, terminating to false.
 * - Endpoints that are ready; if none are, the serving-and-terminating ones (kube-proxy's terminating fallback,
 *   KEP-1669 ProxyTerminatingEndpoints, pkg/proxy/topology.go CategorizeEndpoints), so a rollout that
 *   momentarily has only terminating pods does not black-hole traffic.
 * Slices are visited in name order, so when an IP appears in several slices the result does not depend on the
 * order the informer listed them: ports from the first slice win, flags are OR-ed.
 */
export function derivePodEndpoints(
  svc: V1Service,
  ports: readonly PortSpec[],
  slices: readonly V1EndpointSlice[],
  ipFamilies: readonly IPFamily[],
): PodEndpoint[] {
  const byIP = new Map<string, Candidate>();
  for (const slice of serviceSlices(svc, slices, ipFamilies)) {
    const resolved = resolvePorts(slice, ports);
    for (const endpoint of slice.endpoints ?? []) addEndpoint(byIP, endpoint, resolved, slice.addressType);
  }
  const withPorts = [...byIP.values()].filter((c) => c.ports.size > 0);
  const ready = withPorts.filter((c) => c.ready);
  const chosen = ready.length > 0 ? ready : withPorts.filter((c) => c.serving && c.terminating);
  return chosen.sort((a, b) => compareIPs(a.address, b.address)).map((c) => toPodEndpoint(c, ports));
}

function serviceSlices(
  svc: V1Service,
  slices: readonly V1EndpointSlice[],
  ipFamilies: readonly IPFamily[],
): V1EndpointSlice[] {
  const namespace = svc.metadata?.namespace;
  const name = svc.metadata?.name;
  return slices
    .filter(
      (s) =>
        s.metadata?.namespace === namespace &&
        s.metadata?.labels?.[SERVICE_NAME_LABEL] === name &&
        (ipFamilies as readonly string[]).includes(s.addressType),
    )
    .sort((a, b) => compareText(a.metadata?.name ?? "", b.metadata?.name ?? ""));
}

/** Service port name -> this slice's port number. A slice port with no number (or 0) is ignored, as kube-proxy does. */
function resolvePorts(slice: V1EndpointSlice, ports: readonly PortSpec[]): Map<string, number> {
  const resolved = new Map<string, number>();
  for (const sp of ports) {
    const match = (slice.ports ?? []).find(
      (p) => (p.name ?? "") === sp.name && (p.protocol ?? "TCP") === sp.protocol && p.port !== undefined && p.port > 0,
    );
    if (match?.port !== undefined) resolved.set(sp.name, match.port);
  }
  return resolved;
}

function addEndpoint(
  byIP: Map<string, Candidate>,
  endpoint: V1Endpoint,
  resolved: ReadonlyMap<string, number>,
  addressType: string,
): void {
  const address = endpointAddress(endpoint, addressType);
  if (address === undefined) return;
  const key = formatIP(address);
  const existing = byIP.get(key);
  if (existing === undefined) byIP.set(key, newCandidate(address, endpoint, resolved));
  else mergeEndpoint(existing, endpoint, resolved);
}

/** The endpoint's address when it is of the slice's family. */
function endpointAddress(endpoint: V1Endpoint, addressType: string): IPAddress | undefined {
  // All addresses of an endpoint are fungible; kube-proxy uses only the first.
  const first = endpoint.addresses[0];
  const address = first === undefined ? undefined : parseIP(first);
  return address === undefined || ipFamilyOf(address) !== addressType ? undefined : address;
}

// Conditions as kube-proxy reads them: ready and serving default to true when unset, terminating to false.
function isReady(endpoint: V1Endpoint): boolean {
  return endpoint.conditions?.ready ?? true;
}

function isServing(endpoint: V1Endpoint): boolean {
  return endpoint.conditions?.serving ?? true;
}

function isTerminating(endpoint: V1Endpoint): boolean {
  return endpoint.conditions?.terminating ?? false;
}

function newCandidate(address: IPAddress, endpoint: V1Endpoint, resolved: ReadonlyMap<string, number>): Candidate {
  return {
    address,
    ports: new Map(resolved),
    nodeName: endpoint.nodeName,
    zone: endpoint.zone,
    ready: isReady(endpoint),
    serving: isServing(endpoint),
    terminating: isTerminating(endpoint),
  };
}

/** The same IP in a later slice: ports the earlier slices did not resolve, unset locality filled, flags OR-ed. */
function mergeEndpoint(existing: Candidate, endpoint: V1Endpoint, resolved: ReadonlyMap<string, number>): void {
  for (const [name, port] of resolved) if (!existing.ports.has(name)) existing.ports.set(name, port);
  existing.nodeName ??= endpoint.nodeName;
  existing.zone ??= endpoint.zone;
  existing.ready ||= isReady(endpoint);
  existing.serving ||= isServing(endpoint);
  existing.terminating ||= isTerminating(endpoint);
}

function toPodEndpoint(c: Candidate, ports: readonly PortSpec[]): PodEndpoint {
  // Keys in service-port order, so the serialised spec (which the controller hashes) is canonical.
  const ordered: Record<string, number> = {};
  for (const p of ports) {
    const port = c.ports.get(p.name);
    // defineProperty rather than assignment: a key is data, never a prototype setter.
    if (port !== undefined)
      Object.defineProperty(ordered, p.name, { value: port, enumerable: true, writable: true, configurable: true });
  }
  return {
    ip: formatIP(c.address),
    ports: ordered,
    nodeName: c.nodeName,
    zone: c.zone,
    ready: c.ready,
    serving: c.serving,
  };
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
