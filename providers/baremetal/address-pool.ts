/**
 * The address pool model shared by every pool source (file, CLI flag, AddressPool custom object), after
 * MetalLB's IPAddressPool: `addresses` (CIDRs or ranges), `autoAssign` (default true) and `avoidBuggyIPs`
 * (default false) (MLB api/v1beta1/ipaddresspool_types.go). Validation happens here once, so the allocator
 * can trust what it gets.
 */
import { z } from "zod";
import { parseAddressRange, rangesOverlap, type AddressRange } from "./address-range.js";
import { InvalidPoolError } from "./baremetal-errors.js";
import { labelSelectorSchema, type LabelSelector } from "./label-selector.js";

export interface AddressPool {
  /** DNS-1123 subdomain: the AddressPool object's name, and what `lb-operator.io/address-pool` refers to. */
  readonly name: string;
  /** CIDRs and "first-last" ranges, IPv4 and/or IPv6. Never empty. */
  readonly addresses: readonly string[];
  /** Whether Services without a pool annotation or requested address may get addresses from this pool. */
  readonly autoAssign: boolean;
  /** Skip IPv4 addresses ending in .0 and .255. */
  readonly avoidBuggyIPs: boolean;
  /** Which Services may hold the pool's addresses (pool-scope.ts); absent: every Service. */
  readonly serviceAllocation?: ServiceAllocation | undefined;
  /**
   * Nodes that may announce the pool's addresses: any selector matching is enough; absent or empty: every node.
   * MetalLB puts this on L2Advertisement (MLB api/v1beta1/l2advertisement_types.go nodeSelectors).
   */
  readonly nodeSelectors?: readonly LabelSelector[] | undefined;
  /** Interfaces the speaker answers ARP on for the pool's addresses; absent or empty: every eligible one (L2Advertisement interfaces). */
  readonly interfaces?: readonly string[] | undefined;
}

/** MetalLB's IPAddressPool `serviceAllocation` (MLB api/v1beta1/ipaddresspool_types.go ServiceAllocation). */
export interface ServiceAllocation {
  /** Lower is tried first among the scoped pools; 0 (unset) after every positive priority. */
  readonly priority: number;
  readonly namespaces: readonly string[];
  readonly namespaceSelectors: readonly LabelSelector[];
  readonly serviceSelectors: readonly LabelSelector[];
}

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export const poolNameSchema = z
  .string()
  .max(253, "must be at most 253 characters")
  .regex(DNS1123_SUBDOMAIN, "must be a DNS-1123 subdomain (lowercase letters, digits, '-' and '.')");

export const addressEntrySchema = z
  .string()
  .transform((s) => s.trim())
  .superRefine((entry, ctx) => {
    const parsed = parseAddressRange(entry);
    if (!parsed.ok) ctx.addIssue({ code: "custom", message: parsed.error });
  });

/** Fields of a pool other than its name: the shape of a pool in a file and of an AddressPool's spec. */
export const poolSettingsShape = {
  addresses: z.array(addressEntrySchema).min(1, "must list at least one CIDR or range"),
  autoAssign: z.boolean().default(true),
  avoidBuggyIPs: z.boolean().default(false),
  serviceAllocation: z
    .strictObject({
      priority: z.number().int().min(0).default(0),
      namespaces: z.array(z.string().min(1).max(63)).max(1024).default([]),
      namespaceSelectors: z.array(labelSelectorSchema).max(64).default([]),
      serviceSelectors: z.array(labelSelectorSchema).max(64).default([]),
    })
    .optional(),
  nodeSelectors: z.array(labelSelectorSchema).max(64).optional(),
  interfaces: z
    .array(z.string().regex(/^[^\s/]{1,15}$/, "must be an interface name (1-15 characters, no '/' or space)"))
    .max(64)
    .optional(),
};

export const addressPoolSchema = z.strictObject({ name: poolNameSchema, ...poolSettingsShape });

/** Parses one pool; `source` names it in errors ("pools.yaml", "--pool"). */
export function parseAddressPool(input: unknown, source: string): AddressPool {
  const result = addressPoolSchema.safeParse(input);
  if (!result.success) throw new InvalidPoolError(source, zodProblems(result.error, poolLabel(input)));
  return result.data;
}

/**
 * Validates a whole pool set: each pool, unique names, and no address in two entries. Overlaps are refused
 * rather than resolved because an address in two pools has two sets of rules (autoAssign, avoidBuggyIPs)
 * and the allocator could not say which one applies.
 */
export function validatePools(pools: readonly unknown[], source: string): AddressPool[] {
  const parsed: AddressPool[] = [];
  const problems: string[] = [];
  pools.forEach((input, i) => {
    const result = addressPoolSchema.safeParse(input);
    if (result.success) parsed.push(result.data);
    else problems.push(...zodProblems(result.error, poolLabel(input, i)));
  });
  problems.push(...duplicateNames(parsed), ...overlaps(parsed));
  if (problems.length > 0) throw new InvalidPoolError(source, problems);
  return parsed;
}

/** The parsed ranges of a pool that went through validation. */
export function poolRanges(pool: AddressPool): AddressRange[] {
  return pool.addresses.map((entry) => {
    const parsed = parseAddressRange(entry);
    if (!parsed.ok) throw new InvalidPoolError(`pool ${JSON.stringify(pool.name)}`, [parsed.error]);
    return parsed.range;
  });
}

/** "lab 192.0.2.100-192.0.2.120, 2001:db8::/120", for event messages. */
export function describePool(pool: AddressPool): string {
  return `${pool.name} ${pool.addresses.join(", ")}`;
}

/** Zod issues as "pool \"lab\": addresses[1]: <message>" lines. */
export function zodProblems(error: z.ZodError, label: string): string[] {
  return error.issues.map((issue) => {
    const path = formatPath(issue.path);
    return `${label}${path === "" ? "" : `: ${path}`}: ${issue.message}`;
  });
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out === "" ? String(part) : `.${String(part)}`;
  }
  return out;
}

function poolLabel(input: unknown, index?: number): string {
  if (typeof input === "object" && input !== null && "name" in input && typeof input.name === "string") {
    return `pool ${JSON.stringify(input.name)}`;
  }
  return index === undefined ? "pool" : `pools[${index}]`;
}

function duplicateNames(pools: readonly AddressPool[]): string[] {
  const seen = new Set<string>();
  const problems: string[] = [];
  for (const pool of pools) {
    if (seen.has(pool.name)) problems.push(`pool ${JSON.stringify(pool.name)} is defined more than once`);
    seen.add(pool.name);
  }
  return problems;
}

interface OwnedRange {
  readonly pool: string;
  readonly range: AddressRange;
}

/** Sweep over all ranges sorted by start: a range overlaps an earlier one iff it starts before the furthest end so far. */
function overlaps(pools: readonly AddressPool[]): string[] {
  const all: OwnedRange[] = pools.flatMap((pool) => poolRanges(pool).map((range) => ({ pool: pool.name, range })));
  all.sort((a, b) =>
    a.range.family !== b.range.family
      ? a.range.family < b.range.family
        ? -1
        : 1
      : compare(a.range.first, b.range.first),
  );
  const problems: string[] = [];
  let furthest: OwnedRange | undefined;
  for (const cur of all) {
    if (furthest !== undefined && rangesOverlap(furthest.range, cur.range)) {
      const [a, b] = [furthest, cur];
      problems.push(
        a.pool === b.pool
          ? `pool ${JSON.stringify(b.pool)}: ${a.range.text} and ${b.range.text} overlap`
          : `pools ${JSON.stringify(a.pool)} (${a.range.text}) and ${JSON.stringify(b.pool)} (${b.range.text}) overlap`,
      );
    }
    if (furthest === undefined || furthest.range.family !== cur.range.family || cur.range.last > furthest.range.last) {
      furthest = cur;
    }
  }
  return problems;
}

function compare(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
