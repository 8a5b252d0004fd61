/**
 * The world bench/gce-calls.ts reconciles on the fake Compute API: nodes spread over the region's three zones, N
 * Services (one TCP port each; every even-numbered one, so the single Service at N = 1 too, externalTrafficPolicy
 * Local with its own health check, the others Cluster on the shared kube-proxy check), and the check that a delete
 * left nothing owned.
 */
import type { GceLocation } from "../../providers/gce/gce-types.js";
import type { LoadBalancerSpec } from "../../src/provider.js";
import { DEFAULT_ZONES, type FakeCompute, type SeedInstance } from "../../test/env/fake-compute/index.js";
import { gceLocation, gceNode } from "../../test/fixtures/gce.js";
import { LOAD_BALANCER_COLLECTIONS } from "../../test/env/fake-compute/gce-test-world.js";
import { newSpec } from "../../testing/new-spec.js";

export const BENCH_CLUSTER = "bench";
export const NODE_TAGS: readonly string[] = ["gke-node"];
export const ZONES: readonly string[] = DEFAULT_ZONES.map((z) => z.name);
const NODE_PORT_BASE = 30_000;
/** Two NodePorts per Service (traffic, health check) inside the default 30000-32767 range. */
export const MAX_SERVICES = Math.floor((32_767 - NODE_PORT_BASE + 1) / 2);

export const benchLocation = (): GceLocation => gceLocation({ nodeTags: NODE_TAGS });

export interface BenchNode {
  readonly name: string;
  readonly zone: string;
}

/** `perZone` nodes in each zone: node-a-0, node-a-1, node-b-0, ... */
export function initialNodes(perZone: number): BenchNode[] {
  return ZONES.flatMap((zone) =>
    Array.from({ length: perZone }, (_, i) => ({ name: `node-${zone.slice(-1)}-${i}`, zone })),
  );
}

export const seedOf = (n: BenchNode): SeedInstance => ({ name: n.name, zone: n.zone, tags: NODE_TAGS });

export interface BenchService {
  readonly index: number;
  readonly local: boolean;
  readonly key: string;
}

export function benchServices(n: number): BenchService[] {
  return Array.from({ length: n }, (_, index) => ({
    index,
    local: index % 2 === 0,
    key: `svc-${String(index).padStart(4, "0")}`,
  }));
}

/**
 * The Service's uid puts the index first: lbName is "a" + the uid without dashes cut to 32 characters, which drops
 * the uid's last character.
 */
function uidOf(index: number): string {
  return `${index.toString(16).padStart(8, "0")}-b0b0-4000-8000-0000000000be`;
}

export function benchSpec(s: BenchService, nodes: readonly BenchNode[]): LoadBalancerSpec {
  return newSpec({
    name: s.key,
    uid: uidOf(s.index),
    clusterId: BENCH_CLUSTER,
    ports: [{ port: 80, nodePort: NODE_PORT_BASE + 2 * s.index }],
    nodes: nodes.map((n) => gceNode(n.name, n.zone)),
    healthCheckNodePort: s.local ? NODE_PORT_BASE + 2 * s.index + 1 : undefined,
  });
}

/** Resources in the fake's project after the deletes, by whether their description names the bench cluster. */
export interface Leftovers {
  readonly owned: readonly string[];
  readonly other: number;
}

const COLLECTIONS = LOAD_BALANCER_COLLECTIONS;

export function leftovers(fake: FakeCompute): Leftovers {
  const owned: string[] = [];
  let other = 0;
  for (const c of COLLECTIONS) {
    for (const r of fake.resources(c)) {
      if (ownedByCluster(r.description)) owned.push(`${c}/${r.name ?? "?"}`);
      else other++;
    }
  }
  return { owned, other };
}

function ownedByCluster(description: string | null | undefined): boolean {
  try {
    const parsed = JSON.parse(description ?? "") as Record<string, unknown>;
    return parsed["lb-operator.io/cluster-id"] === BENCH_CLUSTER;
  } catch {
    return false;
  }
}

export function describeLeftovers(l: Leftovers): string {
  const head =
    l.owned.length === 0
      ? "nothing owned remains"
      : `LEFTOVERS: ${l.owned.length} owned resources remain (${l.owned.slice(0, 8).join(", ")}${l.owned.length > 8 ? ", ..." : ""})`;
  return `${head}; ${l.other} resources without the cluster's ownership description`;
}
