/**
 * Which node announces an address. Every speaker evaluates this on its own from the same inputs (the Node list,
 * the EndpointSlices, the set of live speakers) and reaches the same answer without talking to anyone, as MetalLB's
 * layer-2 speaker does (speaker/layer2_controller.go ShouldAnnounce, ../shared/reference/baremetal.md section 2).
 */
import { createHash } from "node:crypto";
import type { V1Node } from "@kubernetes/client-node";
import { isNodeEligible } from "../src/model/index.js";
import { parseIPv4 } from "../src/toolkit/index.js";

/** What the election needs to know about a node. */
export interface ElectionNode {
  readonly name: string;
  /** The node's InternalIP (IPv4), where its speaker and its NodePorts listen; undefined when it has none. */
  readonly ip: string | undefined;
  /**
   * May take load-balancer traffic: not being deleted, no exclude-from-external-load-balancers label, no
   * ToBeDeletedByClusterAutoscaler taint (the upstream predicates), and not NetworkUnavailable (MetalLB).
   */
  readonly eligible: boolean;
  /** metadata.labels, for pools limited to some nodes (pool-placement.ts); absent: none. */
  readonly labels?: Readonly<Record<string, string>>;
}

export function toElectionNode(node: V1Node): ElectionNode | undefined {
  const name = node.metadata?.name;
  if (!name) return undefined;
  const networkUnavailable = (node.status?.conditions ?? []).some(
    (c) => c.type === "NetworkUnavailable" && c.status === "True",
  );
  const labels = node.metadata?.labels ?? {};
  return { name, ip: internalIPv4(node), eligible: isNodeEligible(node) && !networkUnavailable, labels };
}

/** The first InternalIP that is IPv4, as the kubelet orders them (the preferred one first). */
export function internalIPv4(node: V1Node): string | undefined {
  const addresses = node.status?.addresses ?? [];
  return addresses.find((a) => a.type === "InternalIP" && parseIPv4(a.address) !== undefined)?.address;
}

/**
 * Orders candidate nodes for `key` (the address) by sha256(node + "#" + key), byte-wise ascending: MetalLB's
 * ordering, so a mixed fleet during migration would agree, and each address lands on a pseudo-random node (the
 * load spreads) while the order of the others stays put when one node leaves (only its addresses move).
 */
export function rankCandidates(key: string, candidates: Iterable<string>): string[] {
  const ranked = [...new Set(candidates)].map((node) => ({
    node,
    hash: createHash("sha256").update(`${node}#${key}`).digest(),
  }));
  ranked.sort((a, b) => Buffer.compare(a.hash, b.hash));
  return ranked.map((r) => r.node);
}

export function electAnnouncer(key: string, candidates: Iterable<string>): string | undefined {
  return rankCandidates(key, candidates)[0];
}
