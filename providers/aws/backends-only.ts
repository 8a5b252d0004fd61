/**
 * When a Service's load balancer may take the narrow "backends only" path instead of a full ensure.
 *
 * cloud-provider-aws gets this from the service controller, which calls UpdateLoadBalancer (not
 * EnsureLoadBalancer) when only the node set changed (syncNodes, ../shared/reference/upstream.md); for a classic ELB
 * that only describes it and registers or deregisters instances. Our contract has no such entry, so the provider
 * remembers the spec it last ensured per Service and compares.
 *
 * Contract: true only when `last` is known (no memory after a restart -> full ensure), both are in nodePort mode,
 * everything but `backends` is the same, and `backends` differs. An identical spec is a drift resync (or a retry)
 * and takes the full ensure, so drift in the frontend group, attributes or tags is still repaired on the next one.
 */
import type { LoadBalancerSpec } from "../../src/provider.js";

export function onlyBackendsChanged(last: LoadBalancerSpec | undefined, next: LoadBalancerSpec): boolean {
  if (last === undefined) return false;
  if (last.backends.mode !== "nodePort" || next.backends.mode !== "nodePort") return false;
  // A key-order difference reads as a change: that costs a full ensure, never a skipped one.
  if (JSON.stringify(withoutBackends(last)) !== JSON.stringify(withoutBackends(next))) return false;
  return JSON.stringify(last.backends) !== JSON.stringify(next.backends);
}

function withoutBackends(spec: LoadBalancerSpec): Omit<LoadBalancerSpec, "backends"> & { backends: null } {
  return { ...spec, backends: null };
}
