/**
 * Seed data a test configures: zones, networks with their subnetworks (ipCidrRange), and instances (name, zone,
 * tags). The fake never creates these through the API; they stand for the cluster's VPC and nodes.
 */
import { formatIpv4, linkOf, makeRef, parseCidr, scopeLink, validateName } from "./refs.js";
import type { ComputeStore } from "./store.js";
import type { Instance, Network, Subnetwork, Zone } from "./types.js";
import { invalid } from "./types.js";

export interface SeedZone {
  readonly name: string;
  readonly region: string;
}

export interface SeedSubnetwork {
  readonly name: string;
  readonly region: string;
  /** IPv4 CIDR, e.g. 10.128.0.0/20: addresses and forwarding-rule IPs are assigned from it. */
  readonly ipCidrRange: string;
}

export interface SeedNetwork {
  readonly name: string;
  readonly subnetworks: readonly SeedSubnetwork[];
}

export interface SeedInstance {
  readonly name: string;
  readonly zone: string;
  /** Network tags (the firewall rules' targetTags). */
  readonly tags?: readonly string[];
  /** Network/subnetwork short names; default: the first network with a subnetwork in the zone's region. */
  readonly network?: string;
  readonly subnetwork?: string;
  /** Default: the lowest free address of the subnetwork. */
  readonly networkIP?: string;
}

export const DEFAULT_ZONES: readonly SeedZone[] = [
  { name: "us-central1-a", region: "us-central1" },
  { name: "us-central1-b", region: "us-central1" },
  { name: "us-central1-c", region: "us-central1" },
];

export const DEFAULT_NETWORKS: readonly SeedNetwork[] = [
  { name: "default", subnetworks: [{ name: "default", region: "us-central1", ipCidrRange: "10.128.0.0/20" }] },
];

export function seedZone(store: ComputeStore, project: string, zone: SeedZone): Zone {
  const ref = makeRef(project, { kind: "global" }, "zones", validateName(zone.name, "zone.name"));
  const resource: Zone = {
    kind: "compute#zone",
    id: store.nextId(),
    name: zone.name,
    region: scopeLink(project, { kind: "region", name: zone.region }),
    status: "UP",
    selfLink: linkOf(ref),
    creationTimestamp: store.timestamp(),
  };
  store.put("zones", ref.key, resource);
  return resource;
}

export function seedNetwork(store: ComputeStore, project: string, network: SeedNetwork): Network {
  const ref = makeRef(project, { kind: "global" }, "networks", validateName(network.name, "network.name"));
  const subnetworks = network.subnetworks.map((s) => seedSubnetwork(store, project, network.name, s));
  const resource: Network = {
    kind: "compute#network",
    id: store.nextId(),
    name: network.name,
    autoCreateSubnetworks: false,
    subnetworks: subnetworks.map((s) => s.selfLink ?? ""),
    selfLink: linkOf(ref),
    creationTimestamp: store.timestamp(),
  };
  store.put("networks", ref.key, resource);
  return resource;
}

function seedSubnetwork(store: ComputeStore, project: string, network: string, subnet: SeedSubnetwork): Subnetwork {
  const range = parseCidr(subnet.ipCidrRange);
  if (range === undefined || range.size < 8) throw invalid(`seed: bad ipCidrRange ${subnet.ipCidrRange}`);
  const ref = makeRef(project, { kind: "region", name: subnet.region }, "subnetworks", validateName(subnet.name));
  const resource: Subnetwork = {
    kind: "compute#subnetwork",
    id: store.nextId(),
    name: subnet.name,
    network: linkOf(makeRef(project, { kind: "global" }, "networks", network)),
    region: scopeLink(project, { kind: "region", name: subnet.region }),
    ipCidrRange: subnet.ipCidrRange,
    gatewayAddress: formatIpv4(range.first + 1),
    fingerprint: store.nextFingerprint(),
    selfLink: linkOf(ref),
    creationTimestamp: store.timestamp(),
  };
  store.put("subnetworks", ref.key, resource);
  return resource;
}

export function seedInstance(store: ComputeStore, project: string, vm: SeedInstance): Instance {
  const zone = store.get("zones", makeRef(project, { kind: "global" }, "zones", vm.zone).key);
  if (zone === undefined) throw invalid(`seed: unknown zone ${vm.zone}`);
  const subnet = store
    .list("subnetworks", project)
    .find(
      (s) =>
        s.region === zone.region &&
        (vm.subnetwork === undefined || s.name === vm.subnetwork) &&
        (vm.network === undefined || s.network?.endsWith(`/networks/${vm.network}`)),
    );
  if (subnet === undefined) throw invalid(`seed: no subnetwork for instance ${vm.name} in ${vm.zone}`);
  const networkIP = vm.networkIP ?? store.freeIp(subnet);
  const ref = makeRef(project, { kind: "zone", name: vm.zone }, "instances", validateName(vm.name));
  const resource: Instance = {
    kind: "compute#instance",
    id: store.nextId(),
    name: vm.name,
    zone: zone.selfLink,
    status: "RUNNING",
    tags: { items: [...(vm.tags ?? [])], fingerprint: store.nextFingerprint() },
    networkInterfaces: [{ name: "nic0", network: subnet.network, subnetwork: subnet.selfLink, networkIP }],
    selfLink: linkOf(ref),
    creationTimestamp: store.timestamp(),
  };
  store.put("instances", ref.key, resource);
  return resource;
}
