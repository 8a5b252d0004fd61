/**
 * What an AddressPool's status should say (pure; pool-status-writer.ts writes it). The counts are MetalLB's
 * IPAddressPoolStatus fields (MLB api/v1beta1/ipaddresspool_types.go: assignedIPv4, assignedIPv6,
 * availableIPv4, availableIPv6); the Ready condition is ours, after the metav1.Condition convention: False with
 * the reason when the controller refused the pool, which it then does not use.
 */
import type { PoolUsage } from "./allocation-types.js";

export const READY_CONDITION = "Ready";

/** Ready's reasons. "Accepted" is True; the others are False and name why the pool is not used. */
export type ReadyReason = "Accepted" | "InvalidSpec" | "Overlap";

/** Conditions carry short messages; a pool with many bad entries must not produce a huge one. */
export const MAX_CONDITION_MESSAGE = 1024;

export interface PoolCondition {
  readonly type: string;
  readonly status: "True" | "False";
  readonly reason: ReadyReason;
  readonly message: string;
  readonly observedGeneration?: number | undefined;
  readonly lastTransitionTime: string;
}

export interface PoolStatus {
  readonly assignedIPv4: number;
  readonly assignedIPv6: number;
  readonly availableIPv4: number;
  readonly availableIPv6: number;
  readonly conditions: readonly PoolCondition[];
}

/** How the controller judged the pool: in use (with its usage), or refused and why. */
export type PoolVerdict =
  | { readonly accepted: true; readonly usage: PoolUsage | undefined }
  | { readonly accepted: false; readonly reason: Exclude<ReadyReason, "Accepted">; readonly message: string };

/**
 * The status to write. `current` is the object's status as read; its Ready transition time is kept when the
 * condition's status did not change.
 */
export function desiredPoolStatus(
  verdict: PoolVerdict,
  generation: number | undefined,
  current: unknown,
  now: Date,
): PoolStatus {
  const usage = verdict.accepted ? verdict.usage : undefined;
  const status = verdict.accepted ? "True" : "False";
  const reason: ReadyReason = verdict.accepted ? "Accepted" : verdict.reason;
  const message = verdict.accepted ? "the pool's addresses are in use by the allocator" : cut(verdict.message);
  const previous = readyOf(current);
  const lastTransitionTime =
    previous !== undefined && previous.status === status && typeof previous.lastTransitionTime === "string"
      ? previous.lastTransitionTime
      : now.toISOString();
  return {
    assignedIPv4: usage?.used.IPv4 ?? 0,
    assignedIPv6: usage?.used.IPv6 ?? 0,
    availableIPv4: available(usage, "IPv4"),
    availableIPv6: available(usage, "IPv6"),
    conditions: [
      { type: READY_CONDITION, status, reason, message, observedGeneration: generation, lastTransitionTime },
    ],
  };
}

/** Whether writing `desired` would change what `current` says (transition times aside). */
export function statusDiffers(current: unknown, desired: PoolStatus): boolean {
  return fingerprint(current) !== fingerprint(desired);
}

/** The Ready condition of a status as read from the API, if any. */
export function readyOf(
  status: unknown,
): { status?: unknown; reason?: unknown; message?: unknown; lastTransitionTime?: unknown } | undefined {
  if (typeof status !== "object" || status === null || !("conditions" in status)) return undefined;
  const conditions = status.conditions;
  if (!Array.isArray(conditions)) return undefined;
  const ready: unknown = conditions.find(
    (c: unknown) => typeof c === "object" && c !== null && "type" in c && c.type === READY_CONDITION,
  );
  return typeof ready === "object" && ready !== null ? ready : undefined;
}

function fingerprint(status: unknown): string {
  if (typeof status !== "object" || status === null) return "";
  const s = status as Partial<Record<keyof PoolStatus, unknown>>;
  const ready = readyOf(status);
  const generation =
    ready !== undefined && "observedGeneration" in ready
      ? (ready as { observedGeneration?: unknown }).observedGeneration
      : undefined;
  return JSON.stringify([
    s.assignedIPv4,
    s.assignedIPv6,
    s.availableIPv4,
    s.availableIPv6,
    ready?.status,
    ready?.reason,
    ready?.message,
    generation,
  ]);
}

/** Free addresses; an IPv6 pool can hold more than a JSON integer, so the count stops at 2^53 - 1. */
function available(usage: PoolUsage | undefined, family: "IPv4" | "IPv6"): number {
  if (usage === undefined) return 0;
  const free = usage.capacity[family] - BigInt(usage.used[family]);
  return free > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(free);
}

function cut(message: string): string {
  if (message.length <= MAX_CONDITION_MESSAGE) return message;
  return `${message.slice(0, MAX_CONDITION_MESSAGE - 40)}... (${message.length} characters in all)`;
}
