/**
 * Semantic comparison of what Compute reports with the desired resources (desired.ts). References are compared by
 * path (resource-paths.ts), lists as sets, enums case-insensitively, absent booleans as false: the forwarding rule is
 * recreated only when an immutable field really differs, never because Compute spells a URL or orders ports
 * differently (kubernetes/kubernetes#96513 recreated it on every controller restart).
 */
import type { protos } from "@google-cloud/compute";
import { HEALTH_CHECK_DEFAULTS } from "./desired.js";
import { resourcePath, sameResource } from "./resource-paths.js";

type IHealthCheck = protos.google.cloud.compute.v1.IHealthCheck;
type IBackendService = protos.google.cloud.compute.v1.IBackendService;
type IForwardingRule = protos.google.cloud.compute.v1.IForwardingRule;
type IFirewall = protos.google.cloud.compute.v1.IFirewall;

export function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const sa = new Set(a);
  const sb = new Set(b);
  return sa.size === sb.size && [...sa].every((x) => sb.has(x));
}

function paths(refs: readonly (string | null | undefined)[] | null | undefined): string[] {
  return (refs ?? []).map(resourcePath);
}

/** Enums arrive as names (or numbers with integer enum encoding); compare names case-insensitively. */
function upper(value: string | number | null | undefined): string {
  return typeof value === "string" ? value.toUpperCase() : value === null || value === undefined ? "" : String(value);
}

/**
 * The health check with our port, path and description, and each parameter at least the default: larger values set
 * by hand are kept, as the anchor's mergeHealthChecks does. Undefined when nothing needs writing.
 */
export function healthCheckUpdate(current: IHealthCheck, desired: IHealthCheck): IHealthCheck | undefined {
  const merged: IHealthCheck = {
    ...desired,
    checkIntervalSec: Math.max(current.checkIntervalSec ?? 0, HEALTH_CHECK_DEFAULTS.checkIntervalSec),
    timeoutSec: Math.max(current.timeoutSec ?? 0, HEALTH_CHECK_DEFAULTS.timeoutSec),
    healthyThreshold: Math.max(current.healthyThreshold ?? 0, HEALTH_CHECK_DEFAULTS.healthyThreshold),
    unhealthyThreshold: Math.max(current.unhealthyThreshold ?? 0, HEALTH_CHECK_DEFAULTS.unhealthyThreshold),
  };
  return sameProbe(current, desired) && sameParameters(current, merged) ? undefined : merged;
}

/** What is probed: type, port, path (Compute's default path is "/") and our description. */
function sameProbe(current: IHealthCheck, desired: IHealthCheck): boolean {
  return (
    upper(current.type) === upper(desired.type) &&
    current.httpHealthCheck?.port === desired.httpHealthCheck?.port &&
    (current.httpHealthCheck?.requestPath ?? "/") === desired.httpHealthCheck?.requestPath &&
    (current.description ?? "") === desired.description
  );
}

function sameParameters(current: IHealthCheck, merged: IHealthCheck): boolean {
  return (
    current.checkIntervalSec === merged.checkIntervalSec &&
    current.timeoutSec === merged.timeoutSec &&
    current.healthyThreshold === merged.healthyThreshold &&
    current.unhealthyThreshold === merged.unhealthyThreshold
  );
}

export function backendServiceDiffers(current: IBackendService, desired: IBackendService): boolean {
  return !(
    upper(current.protocol) === upper(desired.protocol) &&
    upper(current.loadBalancingScheme) === upper(desired.loadBalancingScheme) &&
    upper(current.sessionAffinity ?? "NONE") === upper(desired.sessionAffinity) &&
    (current.description ?? "") === desired.description &&
    sameSet(paths(current.healthChecks), paths(desired.healthChecks)) &&
    sameSet(paths((current.backends ?? []).map((b) => b.group)), paths((desired.backends ?? []).map((b) => b.group)))
  );
}

function portSet(rule: IForwardingRule): string[] {
  return rule.allPorts ? [] : [...(rule.ports ?? [])];
}

/**
 * The fields that differ, all immutable: the rule must be deleted and created again (the anchor treats
 * allowGlobalAccess as immutable too). Empty when the rule is right. `desired.IPAddress` is compared only when set
 * (a requested IP, or the IP of the rule kept across a recreate): with none, whatever address Compute gave is right.
 */
export function forwardingRuleChanges(current: IForwardingRule, desired: IForwardingRule): string[] {
  const recreate: string[] = [];
  if (desired.IPAddress && current.IPAddress !== desired.IPAddress) recreate.push("IPAddress");
  if (upper(current.IPProtocol) !== upper(desired.IPProtocol)) recreate.push("IPProtocol");
  if (upper(current.loadBalancingScheme) !== upper(desired.loadBalancingScheme)) recreate.push("loadBalancingScheme");
  if (Boolean(current.allPorts) !== Boolean(desired.allPorts)) recreate.push("allPorts");
  if (!sameSet(portSet(current), portSet(desired))) recreate.push("ports");
  if (!sameResource(current.backendService, desired.backendService)) recreate.push("backendService");
  if (!sameResource(current.network, desired.network)) recreate.push("network");
  if (!sameResource(current.subnetwork, desired.subnetwork)) recreate.push("subnetwork");
  if (Boolean(current.allowGlobalAccess) !== Boolean(desired.allowGlobalAccess)) recreate.push("allowGlobalAccess");
  return recreate;
}

function allowedKey(allowed: IFirewall["allowed"]): string[] {
  return (allowed ?? []).map((a) => `${(a.IPProtocol ?? "").toLowerCase()}:${[...(a.ports ?? [])].sort().join(",")}`);
}

/** Source, destination and target lists compared as sets; absent is empty. */
function sameFirewallRanges(current: IFirewall, desired: IFirewall): boolean {
  return (
    sameSet(current.sourceRanges ?? [], desired.sourceRanges ?? []) &&
    sameSet(current.destinationRanges ?? [], desired.destinationRanges ?? []) &&
    sameSet(current.targetTags ?? [], desired.targetTags ?? [])
  );
}

/** The fields we manage, when any differs (the PATCH body); undefined when equal. */
export function firewallPatch(current: IFirewall, desired: IFirewall): IFirewall | undefined {
  const same =
    (current.description ?? "") === desired.description &&
    sameResource(current.network, desired.network) &&
    upper(current.direction ?? "INGRESS") === upper(desired.direction) &&
    sameFirewallRanges(current, desired) &&
    sameSet(allowedKey(current.allowed), allowedKey(desired.allowed)) &&
    !current.disabled;
  if (same) return undefined;
  return {
    sourceRanges: desired.sourceRanges,
    destinationRanges: desired.destinationRanges ?? [],
    allowed: desired.allowed,
    targetTags: desired.targetTags,
    description: desired.description,
    disabled: false,
  };
}

export interface MemberDiff {
  readonly add: readonly string[];
  readonly remove: readonly string[];
}

/** Instance-group membership by instance path: only the difference is sent (listInstances, then add/remove). */
export function diffMembers(current: readonly string[], desired: readonly string[]): MemberDiff {
  const have = new Map(current.map((u) => [resourcePath(u), u]));
  const want = new Map(desired.map((u) => [resourcePath(u), u]));
  return {
    add: [...want].filter(([p]) => !have.has(p)).map(([, u]) => u),
    remove: [...have].filter(([p]) => !want.has(p)).map(([, u]) => u),
  };
}
