/**
 * The lab's address plan, all from the documentation ranges (RFC 5737):
 * - 192.0.2.0/24: the lab LAN. .1 is the switch namespace (router), .10 client, .11.. nodes, .50 outsider;
 *   .100-.250 are left to tests for VIPs and are never assigned to a host (151: bench/allocation creates 100 at once).
 * - 198.51.100.0/24: pod subnets, one /28 per node (node-k gets 198.51.100.(16k)/28).
 * - 203.0.113.0/24: one /30 per lab for the veth between the root namespace and the switch namespace.
 */
import { LbOperatorError } from "../../../src/errors.js";

export class LabAddressError extends LbOperatorError {}

export const LAN_PREFIX = 24;
export const ROUTER_IP = "192.0.2.1";
export const VIP_RANGE = { first: "192.0.2.100", last: "192.0.2.250" } as const;
/** Pod /28s start at 198.51.100.16, so 15 nodes fit; nodes must also stay below the client and VIP addresses. */
export const MAX_NODES = 15;
const POD_PREFIX = 28;
const POD_SUBNET_SIZE = 16;

export interface ClientPlan {
  readonly name: string;
  readonly ip: string;
}

/** The two client hosts: one meant to sit inside a loadBalancerSourceRange and one outside it. */
export const CLIENTS: readonly ClientPlan[] = [
  { name: "client", ip: "192.0.2.10" },
  { name: "outsider", ip: "192.0.2.50" },
];

export function nodeName(index: number): string {
  return `node-${index}`;
}

/** `index` counts from 1. */
export function nodeIp(index: number): string {
  checkNodeIndex(index);
  return `192.0.2.${10 + index}`;
}

export function podSubnet(index: number): string {
  checkNodeIndex(index);
  return `198.51.100.${index * POD_SUBNET_SIZE}/${POD_PREFIX}`;
}

/**
 * The `slot`-th address (1..14) of node `index`'s pod subnet; the subnet's network and broadcast addresses are
 * skipped. Slot 1 is the node's end of every pod veth (podGatewayIp), pods take 2..14 (FIRST_POD_SLOT).
 */
export function podIp(index: number, slot: number): string {
  checkNodeIndex(index);
  if (!Number.isInteger(slot) || slot < 1 || slot > POD_SUBNET_SIZE - 2) {
    throw new LabAddressError(`pod slot ${slot} is outside 1..${POD_SUBNET_SIZE - 2}`);
  }
  return `198.51.100.${index * POD_SUBNET_SIZE + slot}`;
}

/** A locally administered MAC derived from the host's IPv4 address, so logs and neighbour tables are readable. */
export function macFor(ip: string): string {
  const octets = parseIpv4(ip);
  return ["02", "00", ...octets.map((o) => o.toString(16).padStart(2, "0"))].join(":");
}

export const POD_GATEWAY_SLOT = 1;
export const FIRST_POD_SLOT = 2;
export const LAST_POD_SLOT = POD_SUBNET_SIZE - 2;

/** The node's address on each of its pod veths (as the ptp CNI plugin does): every pod's default gateway. */
export function podGatewayIp(index: number): string {
  return podIp(index, POD_GATEWAY_SLOT);
}

/** The CIDR holding every node's pod subnet: kube-proxy's --cluster-cidr. */
export const POD_NETWORK = "198.51.100.0/24";

function checkNodeIndex(index: number): void {
  if (!Number.isInteger(index) || index < 1 || index > MAX_NODES) {
    throw new LabAddressError(`node index ${index} is outside 1..${MAX_NODES}`);
  }
}

export function parseIpv4(ip: string): [number, number, number, number] {
  const parts = ip.split(".").map((p) => (/^\d{1,3}$/.test(p) ? Number(p) : NaN));
  if (parts.length !== 4 || parts.some((p) => !(p >= 0 && p <= 255)))
    throw new LabAddressError(`not an IPv4 address: ${ip}`);
  return parts as [number, number, number, number];
}

function toInt(ip: string): number {
  const [a, b, c, d] = parseIpv4(ip);
  return ((a << 24) >>> 0) + (b << 16) + (c << 8) + d;
}

/** Whether two CIDRs (`a.b.c.d/len`; a bare address is a /32) share any address. */
export function cidrsOverlap(x: string, y: string): boolean {
  const range = (cidr: string): [number, number] => {
    const [ip = "", lenText = "32"] = cidr.split("/");
    const len = Number(lenText);
    if (!Number.isInteger(len) || len < 0 || len > 32) throw new LabAddressError(`bad prefix length in ${cidr}`);
    const size = 2 ** (32 - len);
    const start = Math.floor(toInt(ip) / size) * size;
    return [start, start + size - 1];
  };
  const [xs, xe] = range(x);
  const [ys, ye] = range(y);
  return xs <= ye && ys <= xe;
}

export interface UplinkPlan {
  /** The root namespace's end; the control plane binds here. */
  readonly rootIp: string;
  /** The switch namespace's end. */
  readonly switchIp: string;
  readonly prefix: 30;
}

/**
 * Picks a /30 in 203.0.113.0/24 that overlaps none of `inUse` (the root namespace's IPv4 addresses and routes).
 * The scan starts at a slot derived from `seed` (the pid) so labs started at the same moment by different
 * processes are unlikely to pick the same slot before either has configured it.
 */
export function pickUplink(inUse: readonly string[], seed: number): UplinkPlan {
  const slots = 64;
  for (let i = 0; i < slots; i++) {
    const slot = (((seed + i) % slots) + slots) % slots;
    const base = slot * 4;
    const cidr = `203.0.113.${base}/30`;
    if (inUse.some((used) => cidrsOverlap(used, cidr))) continue;
    return { rootIp: `203.0.113.${base + 1}`, switchIp: `203.0.113.${base + 2}`, prefix: 30 };
  }
  throw new LabAddressError("every /30 in 203.0.113.0/24 overlaps an address or route of the root namespace");
}
