/**
 * Compute resource references. Compute accepts a full URL ("https://www.googleapis.com/compute/v1/projects/…") or
 * a partial one ("projects/…") in requests and answers with full URLs whose host depends on the endpoint, so
 * references are compared by their path from "projects/" on: comparing raw strings is how a controller ends up
 * recreating a forwarding rule on every restart (kubernetes/kubernetes#96513).
 */
import type { GceLocation } from "./gce-types.js";

/** Base used for references we send; Compute stores and returns its own canonical form either way. */
export const COMPUTE_BASE = "https://www.googleapis.com/compute/v1/";

/** "…/compute/v1/projects/p/regions/r/x/n" -> "projects/p/regions/r/x/n"; a value without "projects/" is returned as is. */
export function resourcePath(ref: string | null | undefined): string {
  if (!ref) return "";
  const at = ref.indexOf("projects/");
  return at < 0 ? ref : ref.slice(at);
}

export function sameResource(a: string | null | undefined, b: string | null | undefined): boolean {
  return resourcePath(a) === resourcePath(b);
}

function url(path: string): string {
  return COMPUTE_BASE + path;
}

export function healthCheckUrl(project: string, name: string): string {
  return url(`projects/${project}/global/healthChecks/${name}`);
}

export function backendServiceUrl(project: string, region: string, name: string): string {
  return url(`projects/${project}/regions/${region}/backendServices/${name}`);
}

export function instanceGroupUrl(project: string, zone: string, name: string): string {
  return url(`projects/${project}/zones/${zone}/instanceGroups/${name}`);
}

export function instanceUrl(project: string, zone: string, instance: string): string {
  return url(`projects/${project}/zones/${zone}/instances/${instance}`);
}

/** The location's network as a URL (it may be given as a short name or a URL). */
export function networkUrl(location: GceLocation): string {
  return location.network.includes("/")
    ? url(resourcePath(location.network))
    : url(`projects/${location.project}/global/networks/${location.network}`);
}

/** A subnetwork of the location's region: the annotation's name, or the location's default (short name or URL). */
export function subnetworkUrl(location: GceLocation, name?: string): string {
  const subnet = name ?? location.subnetwork;
  return subnet.includes("/")
    ? url(resourcePath(subnet))
    : url(`projects/${location.project}/regions/${location.region}/subnetworks/${subnet}`);
}

/** "projects/p/zones/z/instanceGroups/n" -> "z"; undefined when the reference is not zonal. */
export function zoneOf(ref: string | null | undefined): string | undefined {
  const match = /\/zones\/([^/]+)\//.exec(`/${resourcePath(ref)}`);
  return match?.[1];
}
