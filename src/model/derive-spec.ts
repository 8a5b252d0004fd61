/**
 * Service + EndpointSlices + Nodes -> the provider-neutral LoadBalancerSpec (DESIGN.md "The contract"). Pure:
 * no I/O, inputs never mutated, output deeply frozen and deterministic (same inputs in any list order give a
 * deep-equal spec), because the controller hashes it to skip ensures that would change nothing.
 */
import type { V1EndpointSlice, V1Node, V1Service } from "@kubernetes/client-node";
import type { Backends, LoadBalancerSpec } from "../provider.js";
import { deepFreeze } from "./freeze.js";
import { loadBalancerId } from "./load-balancer-id.js";
import { deriveNodeBackends } from "./node-backends.js";
import { derivePodEndpoints } from "./pod-endpoints.js";
import { derivePorts } from "./ports.js";
import { parseRequestedIPs } from "./requested-ips.js";
import { isPodMode } from "./service-predicates.js";
import {
  copyAnnotations,
  copySelector,
  copyLabels,
  deriveExternalTrafficPolicy,
  deriveHealthCheck,
  deriveIPFamilies,
  deriveSessionAffinity,
} from "./service-settings.js";
import { parseSourceRanges } from "./source-ranges.js";

export interface DeriveOptions {
  /** Identifies this cluster in every resource a provider creates; must not be empty. */
  readonly clusterId: string;
}

/**
 * @param endpointSlices may contain slices of other Services; only this Service's are used (pod mode only).
 * @param nodes all nodes; ineligible ones are filtered out (nodePort mode only).
 * @throws InvalidSpecError when the Service asks for something that cannot be built; its `field` names the
 *   offending field or annotation. The controller turns it into a Warning event and does not retry.
 */
export function deriveSpec(
  service: V1Service,
  endpointSlices: readonly V1EndpointSlice[],
  nodes: readonly V1Node[],
  options: DeriveOptions,
): LoadBalancerSpec {
  const id = loadBalancerId(service, options.clusterId);
  const podMode = isPodMode(service);
  const ports = derivePorts(service, podMode);
  const ipFamilies = deriveIPFamilies(service);
  const externalTrafficPolicy = deriveExternalTrafficPolicy(service);
  const healthCheck = deriveHealthCheck(service, podMode, externalTrafficPolicy);
  const backends: Backends = podMode
    ? { mode: "pod", endpoints: derivePodEndpoints(service, ports, endpointSlices, ipFamilies) }
    : { mode: "nodePort", nodes: deriveNodeBackends(nodes) };
  return deepFreeze({
    id,
    ports,
    backends,
    healthCheck,
    externalTrafficPolicy,
    sourceRanges: parseSourceRanges(service),
    requestedIPs: parseRequestedIPs(service, ipFamilies),
    ipFamilies,
    sessionAffinity: deriveSessionAffinity(service),
    annotations: copyAnnotations(service),
    selector: copySelector(service),
    labels: copyLabels(service),
  });
}
