/**
 * Shared types of the GCE provider (providers/gce/): an internal passthrough load balancer (regional backend
 * service + forwarding rule, INTERNAL scheme) as cloud-provider-gcp builds it (../shared/reference/gce.md section 1),
 * through `@google-cloud/compute` 7.x. Everything a Service owns carries its ownership in the resource description
 * (ownershipDescription), so deletion and adoption never rely on names alone.
 */
import type * as compute from "@google-cloud/compute";
import type { LoadBalancerId } from "../../src/provider.js";

/** The Compute clients the provider uses; tests point them at the fake Compute API in test/env/. */
export interface GceClients {
  readonly instanceGroups: compute.InstanceGroupsClient;
  readonly healthChecks: compute.HealthChecksClient;
  readonly backendServices: compute.RegionBackendServicesClient;
  readonly forwardingRules: compute.ForwardingRulesClient;
  readonly firewalls: compute.FirewallsClient;
  readonly addresses: compute.AddressesClient;
  /** Read only: the subnet annotation must name a subnetwork, and a requested IP must lie in its range. */
  readonly subnetworks: compute.SubnetworksClient;
  readonly regionOperations: compute.RegionOperationsClient;
  readonly zoneOperations: compute.ZoneOperationsClient;
  readonly globalOperations: compute.GlobalOperationsClient;
}

/** Where the cluster lives: fixed per controller (flags), not per Service. */
export interface GceLocation {
  readonly project: string;
  readonly region: string;
  /** Network and default subnetwork as short names or URLs; the forwarding rule always gets a subnetwork (cloud-provider-gcp#612). */
  readonly network: string;
  readonly subnetwork: string;
  /** Node instance network tags: the firewall rules target them. */
  readonly nodeTags: readonly string[];
  /** Health-check source ranges (L4LoadBalancerSrcRanges): 130.211.0.0/22, 35.191.0.0/16, 209.85.152.0/22, 209.85.204.0/22. */
  readonly healthCheckSourceRanges: readonly string[];
  /** Ranges admitted when a Service gives no loadBalancerSourceRanges and does not opt in to 0.0.0.0/0: the VPC's. */
  readonly defaultSourceRanges: readonly string[];
}

/** A node as an instance-group member: from spec.providerID gce://<project>/<zone>/<instance>. */
export interface GceNodeInstance {
  readonly nodeName: string;
  readonly project: string;
  readonly zone: string;
  readonly instance: string;
}

/** Ownership recorded in every owned resource's description (JSON), as the anchor records kubernetes.io/service-name. */
export interface GceOwnership {
  readonly "lb-operator.io/cluster-id": string;
  readonly "kubernetes.io/service-name": string;
  readonly "lb-operator.io/service-uid": string;
}

export function ownershipDescription(id: LoadBalancerId): string {
  const owner: GceOwnership = {
    "lb-operator.io/cluster-id": id.clusterId,
    "kubernetes.io/service-name": `${id.namespace}/${id.name}`,
    "lb-operator.io/service-uid": id.uid,
  };
  return JSON.stringify(owner);
}

/** Whether `description` records `id` as owner (a resource of another Service or a hand-made one is never touched). */
export function isOwnedBy(description: string | null | undefined, id: LoadBalancerId): boolean {
  try {
    const parsed = JSON.parse(description ?? "") as Partial<GceOwnership>;
    return parsed["lb-operator.io/service-uid"] === id.uid && parsed["lb-operator.io/cluster-id"] === id.clusterId;
  } catch {
    return false;
  }
}
