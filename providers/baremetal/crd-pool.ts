/**
 * AddressPool custom objects (lb-operator.io/v1alpha1, cluster-scoped; the CRD is
 * charts/lb-operator/crds/addresspools.lb-operator.io.yaml) to the pool model. Pure: the caller lists or
 * watches the objects and hands them over. The CRD's OpenAPI schema already checks types; this checks
 * what it cannot (address syntax, overlaps) and defends against objects written before the schema.
 */
import { z } from "zod";
import { poolNameSchema, poolSettingsShape, validatePools, zodProblems, type AddressPool } from "./address-pool.js";
import { InvalidPoolError } from "./baremetal-errors.js";

export const ADDRESS_POOL_GROUP = "lb-operator.io";
export const ADDRESS_POOL_VERSION = "v1alpha1";
export const ADDRESS_POOL_KIND = "AddressPool";
export const ADDRESS_POOL_PLURAL = "addresspools";
export const ADDRESS_POOL_API_VERSION = `${ADDRESS_POOL_GROUP}/${ADDRESS_POOL_VERSION}`;

// Not strict outside `spec`: metadata carries much more, and a status may be added later.
const addressPoolObjectSchema = z.object({
  apiVersion: z.literal(ADDRESS_POOL_API_VERSION),
  kind: z.literal(ADDRESS_POOL_KIND),
  metadata: z.object({
    name: poolNameSchema,
    // A string from the API; a Date when @kubernetes/client-node has deserialised the object.
    creationTimestamp: z.union([z.string(), z.date()]).optional(),
  }),
  spec: z.object(poolSettingsShape),
});

export interface RejectedPool {
  /** metadata.name, or "(unnamed)". */
  readonly name: string;
  readonly error: InvalidPoolError;
  /**
   * The Ready condition's reason (pool-status.ts): "InvalidSpec" for an object that is wrong on its own,
   * "Overlap" for one that clashes with an older pool or a flag/file pool (addresses or name).
   */
  readonly reason: "InvalidSpec" | "Overlap";
}

export interface CustomPoolsResult {
  /** Accepted pools, in name order. */
  readonly pools: AddressPool[];
  /** Objects that are invalid or overlap an older pool: report them (event on the object), use the rest. */
  readonly rejected: RejectedPool[];
}

/** One AddressPool object to a pool; throws InvalidPoolError naming the object and the fields. */
export function poolFromCustomObject(obj: unknown): AddressPool {
  return toPool(obj).pool;
}

/**
 * All AddressPool objects to pools. One bad object must not take every pool away, so invalid objects are
 * rejected one by one. Of two overlapping pools the older one (creationTimestamp, then name) is kept:
 * it is the one whose addresses Services may already hold, and a newcomer cannot invalidate it.
 */
export function poolsFromCustomObjects(
  objects: readonly unknown[],
  staticPools: readonly AddressPool[] = [],
): CustomPoolsResult {
  const valid: { pool: AddressPool; created: number }[] = [];
  const rejected: RejectedPool[] = [];
  for (const obj of objects) {
    try {
      valid.push(toPool(obj));
    } catch (err) {
      if (!(err instanceof InvalidPoolError)) throw err;
      rejected.push({ name: objectName(obj), error: err, reason: "InvalidSpec" });
    }
  }
  valid.sort((a, b) => a.created - b.created || (a.pool.name < b.pool.name ? -1 : a.pool.name > b.pool.name ? 1 : 0));
  // Flag and file pools come first: they always apply, so an object clashing with one is the one refused.
  const accepted: AddressPool[] = [...staticPools];
  for (const { pool } of valid) {
    try {
      validatePools([...accepted, pool], `${ADDRESS_POOL_KIND} ${pool.name}`);
      accepted.push(pool);
    } catch (err) {
      if (!(err instanceof InvalidPoolError)) throw err;
      rejected.push({ name: pool.name, error: err, reason: "Overlap" });
    }
  }
  accepted.splice(0, staticPools.length);
  accepted.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { pools: accepted, rejected };
}

function toPool(obj: unknown): { pool: AddressPool; created: number } {
  const source = `${ADDRESS_POOL_KIND} ${objectName(obj)}`;
  const result = addressPoolObjectSchema.safeParse(obj);
  if (!result.success) throw new InvalidPoolError(source, zodProblems(result.error, "object"));
  const { metadata, spec } = result.data;
  // validatePools also catches overlaps between entries of this one pool.
  const [pool] = validatePools([{ name: metadata.name, ...spec }], source);
  if (pool === undefined) throw new InvalidPoolError(source, ["no pool"]);
  const ts = metadata.creationTimestamp;
  const created = ts === undefined ? Number.POSITIVE_INFINITY : new Date(ts).getTime();
  return { pool, created: Number.isNaN(created) ? Number.POSITIVE_INFINITY : created };
}

function objectName(obj: unknown): string {
  if (typeof obj !== "object" || obj === null || !("metadata" in obj)) return "(unnamed)";
  const metadata = obj.metadata;
  if (typeof metadata !== "object" || metadata === null || !("name" in metadata)) return "(unnamed)";
  return typeof metadata.name === "string" ? metadata.name : "(unnamed)";
}
