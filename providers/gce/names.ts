/**
 * Resource names, as cloud-provider-gcp names them (gce_loadbalancer_naming.go, ../shared/reference/gce.md
 * section 1), so an operator migrating from the CCM recognises every resource. Every name is checked against
 * Compute's rule (RFC 1035 label, at most 63 characters) before anything is sent: a bad cluster id fails here with
 * a clear message instead of as a 400 half-way through a reconcile.
 */
import type { LoadBalancerId } from "../../src/provider.js";

const RFC1035 = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;
const LB_NAME_LENGTH = 32;

/** A name Compute would refuse. A configuration error (cluster id), not the user's: the Service cannot fix it. */
export class InvalidGceNameError extends RangeError {
  constructor(readonly resourceName: string) {
    super(
      `"${resourceName}" is not a valid Compute resource name (RFC 1035: lowercase letter first, then [-a-z0-9], at most 63 characters, no trailing dash)`,
    );
    this.name = "InvalidGceNameError";
  }
}

export function isValidGceName(name: string): boolean {
  return RFC1035.test(name);
}

function checked(name: string): string {
  if (!isValidGceName(name)) throw new InvalidGceNameError(name);
  return name;
}

/**
 * `cloudprovider.DefaultLoadBalancerName`: "a" + the Service uid without dashes, cut to 32 characters. Names the
 * backend service, forwarding rule and (Local) health check of one Service.
 */
export function lbName(id: LoadBalancerId): string {
  return checked(`a${id.uid.replaceAll("-", "")}`.slice(0, LB_NAME_LENGTH));
}

/** The zonal unmanaged instance group shared by every Service of the cluster (and by ingress-gce): `k8s-ig--{clusterId}`. */
export function instanceGroupName(clusterId: string): string {
  return checked(clusterId === "" ? "k8s-ig" : `k8s-ig--${clusterId}`);
}

/** The shared kube-proxy health check of externalTrafficPolicy=Cluster Services: `k8s-{clusterId}-node`. */
export function sharedHealthCheckName(clusterId: string): string {
  return checked(`k8s-${clusterId}-node`);
}

/** Health check of a Service: shared for Cluster, the Service's own (named lbName) for Local. */
export function healthCheckName(id: LoadBalancerId, policy: "Cluster" | "Local"): string {
  return policy === "Local" ? lbName(id) : sharedHealthCheckName(id.clusterId);
}

/** The firewall that admits the health checkers: `{hcName}-hc` (`k8s-{clusterId}-node-hc` when shared). */
export function healthCheckFirewallName(id: LoadBalancerId, policy: "Cluster" | "Local"): string {
  return checked(`${healthCheckName(id, policy)}-hc`);
}

/** The firewall that admits client traffic to the VIP: `k8s-fw-{lbName}`. */
export function trafficFirewallName(id: LoadBalancerId): string {
  return checked(`k8s-fw-${lbName(id)}`);
}
