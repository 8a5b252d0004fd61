/**
 * Pools for the lab and for clusters without the AddressPool CRD: a YAML or JSON file (`pools: [...]`, each
 * entry shaped like AddressPool in address-pool.ts) and repeatable CLI flags (`lab=192.0.2.100-192.0.2.120`).
 * Everything is validated together, so a flag pool overlapping a file pool is refused like any overlap.
 */
import { readFile } from "node:fs/promises";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { validatePools, zodProblems, type AddressPool } from "./address-pool.js";
import { InvalidPoolError } from "./baremetal-errors.js";

const poolDocumentSchema = z.strictObject({ pools: z.array(z.unknown()) });

const FLAG_FORMAT = "expected NAME=CIDR|RANGE[,CIDR|RANGE...], e.g. lab=192.0.2.100-192.0.2.120";

export interface PoolSources {
  /** Path of a YAML or JSON pool file. */
  readonly file?: string | undefined;
  /** Values of the repeatable pool flag. */
  readonly flags?: readonly string[] | undefined;
  /** The flag's name, for messages. Default "--pool". */
  readonly flagName?: string | undefined;
}

/**
 * Parses a pool file's text (JSON is valid YAML, so one parser reads both). Pools default to
 * autoAssign true and avoidBuggyIPs false, as in MetalLB.
 */
export function parsePoolDocument(text: string, source: string): AddressPool[] {
  return validatePools(rawPoolsOfDocument(text, source), source);
}

/** Reads and parses a pool file. Unreadable files are InvalidPoolError too: for the caller, both mean "bad config". */
export async function loadPoolFile(path: string): Promise<AddressPool[]> {
  return parsePoolDocument(await readText(path), path);
}

/**
 * Parses flag values. A name given twice collects both values into one pool, so a dual-stack lab pool is
 * `--pool lab=192.0.2.0/28 --pool lab=2001:db8::/124`. Flag pools always have autoAssign true and
 * avoidBuggyIPs false; use a file for anything else.
 */
export function parsePoolFlags(values: readonly string[], flagName = "--pool"): AddressPool[] {
  return validatePools(rawPoolsOfFlags(values, flagName), flagName);
}

/** File pools and flag pools together, validated as one set (unique names, no overlaps). */
export async function loadPools(sources: PoolSources): Promise<AddressPool[]> {
  const flagName = sources.flagName ?? "--pool";
  const raw: unknown[] = [];
  const names: string[] = [];
  if (sources.file !== undefined) {
    raw.push(...rawPoolsOfDocument(await readText(sources.file), sources.file));
    names.push(sources.file);
  }
  if (sources.flags !== undefined && sources.flags.length > 0) {
    raw.push(...rawPoolsOfFlags(sources.flags, flagName));
    names.push(flagName);
  }
  return validatePools(raw, names.length === 0 ? "pool configuration" : names.join(" and "));
}

function rawPoolsOfDocument(text: string, source: string): unknown[] {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    const reason = err instanceof Error ? err.message.split("\n")[0] : String(err);
    throw new InvalidPoolError(source, [`not valid YAML or JSON: ${reason}`], { cause: err });
  }
  const result = poolDocumentSchema.safeParse(doc);
  if (!result.success) throw new InvalidPoolError(source, zodProblems(result.error, "document"));
  return result.data.pools;
}

function rawPoolsOfFlags(values: readonly string[], flagName: string): unknown[] {
  const byName = new Map<string, string[]>();
  const problems: string[] = [];
  for (const value of values) {
    const eq = value.indexOf("=");
    const name = value.slice(0, eq).trim();
    const addresses = value
      .slice(eq + 1)
      .split(",")
      .map((a) => a.trim())
      .filter((a) => a !== "");
    if (eq < 0 || name === "" || addresses.length === 0) {
      problems.push(`${JSON.stringify(value)}: ${FLAG_FORMAT}`);
      continue;
    }
    byName.set(name, [...(byName.get(name) ?? []), ...addresses]);
  }
  if (problems.length > 0) throw new InvalidPoolError(flagName, problems);
  return [...byName].map(([name, addresses]) => ({ name, addresses, autoAssign: true, avoidBuggyIPs: false }));
}

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new InvalidPoolError(path, [`cannot read the file: ${reason}`], { cause: err });
  }
}
