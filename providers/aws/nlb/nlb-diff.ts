/**
 * Pure diffs between what AWS reports and the desired NLB (desired-nlb.ts). The deployer writes only what these
 * return, so a converged Service costs no mutating call: cloud-provider-aws rewrites the target group of every
 * ETP=Local Service on each reconcile because it compares against an empty input (reference section 3); here
 * every write is preceded by a field-by-field comparison.
 */
import type { TargetGroup } from "@aws-sdk/client-elastic-load-balancing-v2";
import type { HealthCheckSettings } from "../aws-types.js";
import type { DesiredListener, DesiredTarget } from "./desired-nlb.js";

/**
 * Records which keys came from additional-resource-tags, so a key removed from the annotation is removed from
 * AWS while tags added by someone else are never touched. Tag keys cannot contain commas.
 */
export { TAG_ADDITIONAL_KEYS } from "../aws-types.js";
import { TAG_ADDITIONAL_KEYS } from "../aws-types.js";
const MAX_TAG_VALUE = 256;

/** `owned` plus the record of the additional keys; ownership tags win over a user tag with the same key. */
export function withAdditionalTags(
  additional: Readonly<Record<string, string>>,
  owned: Readonly<Record<string, string>>,
): Record<string, string> {
  let record = "";
  for (const key of Object.keys(additional)
    .filter((k) => !(k in owned))
    .sort()) {
    const next = record === "" ? key : `${record},${key}`;
    if (next.length > MAX_TAG_VALUE) break;
    record = next;
  }
  return { ...additional, ...owned, [TAG_ADDITIONAL_KEYS]: record };
}

export interface TagDiff {
  readonly add: Readonly<Record<string, string>>;
  readonly remove: readonly string[];
}

/**
 * Adds missing or different desired tags; removes only keys we own that are no longer desired: ownership keys
 * (`ownedKeys`) and keys the current record says came from additional-resource-tags.
 */
export function diffTags(
  current: Readonly<Record<string, string>>,
  desired: Readonly<Record<string, string>>,
  ownedKeys: ReadonlySet<string>,
): TagDiff {
  const add: Record<string, string> = {};
  for (const [k, v] of Object.entries(desired)) if (current[k] !== v) add[k] = v;
  const previouslyAdded = new Set((current[TAG_ADDITIONAL_KEYS] ?? "").split(",").filter((k) => k !== ""));
  const remove = Object.keys(current)
    .filter((k) => !(k in desired) && (ownedKeys.has(k) || previouslyAdded.has(k)))
    .sort();
  return { add, remove };
}

export function isTagDiffEmpty(diff: TagDiff): boolean {
  return Object.keys(diff.add).length === 0 && diff.remove.length === 0;
}

/** The desired keys whose current value differs (attributes we do not manage are left alone). */
export function diffAttributes(
  current: Readonly<Record<string, string>>,
  desired: Readonly<Record<string, string>>,
): Record<string, string> {
  const changed: Record<string, string> = {};
  for (const [k, v] of Object.entries(desired)) if (current[k] !== v) changed[k] = v;
  return changed;
}

export function healthCheckPortString(settings: HealthCheckSettings): string {
  return settings.port === "traffic-port" ? "traffic-port" : String(settings.port);
}

/**
 * True when any health-check field differs. The path only counts for HTTP(S) checks: AWS keeps a stale path
 * after a switch to TCP, and we never send one for TCP.
 */
export function healthCheckDiffers(current: TargetGroup, desired: HealthCheckSettings): boolean {
  const http = desired.protocol !== "TCP";
  return (
    current.HealthCheckEnabled === false ||
    current.HealthCheckProtocol !== desired.protocol ||
    current.HealthCheckPort !== healthCheckPortString(desired) ||
    (http && current.HealthCheckPath !== (desired.path ?? "/")) ||
    current.HealthCheckIntervalSeconds !== desired.intervalSeconds ||
    current.HealthCheckTimeoutSeconds !== desired.timeoutSeconds ||
    current.HealthyThresholdCount !== desired.healthyThreshold ||
    current.UnhealthyThresholdCount !== desired.unhealthyThreshold
  );
}

export interface TargetDiff {
  readonly register: readonly DesiredTarget[];
  readonly deregister: readonly DesiredTarget[];
}

function targetKey(t: DesiredTarget): string {
  return `${t.id}|${t.port}`;
}

/** Targets are identified by (id, port), as AWS does. */
export function diffTargets(current: readonly DesiredTarget[], desired: readonly DesiredTarget[]): TargetDiff {
  const have = new Set(current.map(targetKey));
  const want = new Set(desired.map(targetKey));
  return {
    register: desired.filter((t) => !have.has(targetKey(t))),
    deregister: current.filter((t) => !want.has(targetKey(t))),
  };
}

export function chunk<T>(items: readonly T[], size: number): T[][] {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`chunk size must be a positive integer, got ${size}`);
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const sa = new Set(a);
  const sb = new Set(b);
  return sa.size === sb.size && [...sa].every((x) => sb.has(x));
}

/** A listener as AWS reports it, reduced to what we manage. */
export interface CurrentListener {
  readonly arn: string;
  readonly port: number;
  readonly protocol: string;
  readonly certificateArn: string | undefined;
  readonly sslPolicy: string | undefined;
  /** Target groups of the default forward action (empty for any other action). */
  readonly targetGroupArns: readonly string[];
}

export interface ListenerPlan {
  readonly create: readonly DesiredListener[];
  readonly modify: readonly { readonly arn: string; readonly desired: DesiredListener }[];
  /** Listeners on ports we no longer serve, and duplicates on one port (moto accepts those, AWS does not). */
  readonly remove: readonly string[];
}

function listenerMatches(current: CurrentListener, desired: DesiredListener, targetGroupArn: string): boolean {
  return (
    current.protocol === desired.protocol &&
    current.certificateArn === desired.certificateArn &&
    (desired.protocol !== "TLS" || current.sslPolicy === desired.sslPolicy) &&
    current.targetGroupArns.length === 1 &&
    current.targetGroupArns[0] === targetGroupArn
  );
}

/** `targetGroupArns` maps desired target group names to ARNs; every desired listener's group must be in it. */
export function planListeners(
  current: readonly CurrentListener[],
  desired: readonly DesiredListener[],
  targetGroupArns: ReadonlyMap<string, string>,
): ListenerPlan {
  const byPort = new Map<number, CurrentListener[]>();
  for (const l of current) byPort.set(l.port, [...(byPort.get(l.port) ?? []), l]);
  const create: DesiredListener[] = [];
  const modify: { arn: string; desired: DesiredListener }[] = [];
  const remove: string[] = [];
  const wanted = new Set(desired.map((d) => d.port));
  for (const d of desired) {
    const tgArn = targetGroupArns.get(d.targetGroupName);
    if (tgArn === undefined) throw new Error(`no target group ARN for ${d.targetGroupName}`);
    const existing = byPort.get(d.port) ?? [];
    // Keep a matching duplicate if there is one, so a converged listener is never rewritten.
    const keep = existing.find((l) => listenerMatches(l, d, tgArn)) ?? existing[0];
    if (keep === undefined) create.push(d);
    else if (!listenerMatches(keep, d, tgArn)) modify.push({ arn: keep.arn, desired: d });
    for (const l of existing) if (l !== keep) remove.push(l.arn);
  }
  for (const l of current) if (!wanted.has(l.port)) remove.push(l.arn);
  return { create, modify, remove };
}

export function isListenerPlanEmpty(plan: ListenerPlan): boolean {
  return plan.create.length === 0 && plan.modify.length === 0 && plan.remove.length === 0;
}
