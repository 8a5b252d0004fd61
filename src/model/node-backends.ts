/** nodePort-mode backends: every eligible node, in a deterministic order. */
import type { V1Node } from "@kubernetes/client-node";
import type { NodeBackend } from "../provider.js";
import { ZONE_LABEL } from "./annotations.js";
import { isNodeEligible } from "./node-eligibility.js";

/**
 * Eligible nodes (isNodeEligible) sorted by name, so informer order never changes the spec. Addresses keep the
 * kubelet's order (it lists the preferred address first); an empty providerID counts as unset. Zero eligible nodes
 * is not an error: upstream still calls EnsureLoadBalancer (with a Warning event), so the address is kept.
 */
export function deriveNodeBackends(nodes: readonly V1Node[]): NodeBackend[] {
  const byName = new Map<string, NodeBackend>();
  for (const node of nodes) {
    const name = node.metadata?.name;
    if (name === undefined || name === "" || byName.has(name) || !isNodeEligible(node)) continue;
    byName.set(name, {
      name,
      addresses: (node.status?.addresses ?? []).map((a) => ({ type: a.type, address: a.address })),
      providerID: node.spec?.providerID || undefined,
      zone: node.metadata?.labels?.[ZONE_LABEL] || undefined,
      labels: { ...node.metadata?.labels },
    });
  }
  return [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
