/**
 * One typed reader of Service annotations for every provider, so a user meets the same rules whichever provider
 * serves the Service:
 *  - a value is trimmed, and a blank value is the same as no annotation (the anchors treat most empty strings as
 *    unset, and Helm charts render unset values as "");
 *  - booleans take Go's strconv.ParseBool forms (1 t T TRUE true True, 0 f F FALSE false False), as the upstream
 *    AWS and GCE controllers parse them;
 *  - lists are comma-separated and each entry trimmed; an empty entry or a duplicate is an error (a stray comma is a
 *    typo, not a wish), and maps are lists of key=value;
 *  - integers are decimal digits within a stated range; durations are "500ms", "30s", "1m30s" (src/util/duration.ts);
 *  - every error is an InvalidSpecError whose `field` is `metadata.annotations[<key>]`, the key the value came
 *    from (ours or an alias), and whose message quotes the bad value, cut to a bounded length (src/util/quote.ts);
 *  - a value over MAX_ANNOTATION_VALUE_BYTES is refused before it is parsed, and every parse here is linear, so a
 *    huge value costs no more than a small one.
 * `raw` gives the untrimmed value for the rare annotation whose blank value means something of its own; `lookup`
 * gives it without the size check, for lenient readers that must not throw.
 */
import { InvalidSpecError } from "../errors.js";
import { parseDuration } from "../util/duration.js";
import { quote, utf8Bytes } from "../util/quote.js";
import { parseGoBool } from "./go-bool.js";

export type Annotations = Readonly<Record<string, string>>;

/**
 * The largest annotation value any parser reads. The apiserver allows 256 KiB for all of an object's annotations
 * together (k8s.io/apimachinery validation TotalAnnotationSizeLimitB); no annotation we or the anchors define needs
 * near 32 KiB (the largest, AWS's additional-resource-tags, holds at most 50 tags of 128 + 256 characters).
 */
export const MAX_ANNOTATION_VALUE_BYTES = 32 * 1024;

/**
 * @throws InvalidSpecError when `value` is over MAX_ANNOTATION_VALUE_BYTES. O(1) for a value too long in UTF-16
 *   units, so the 256 KiB case never reaches a parser.
 */
export function checkAnnotationSize(key: string, value: string): void {
  if (value.length > MAX_ANNOTATION_VALUE_BYTES || utf8Bytes(value) > MAX_ANNOTATION_VALUE_BYTES) {
    throw new InvalidSpecError(
      annotationField(key),
      `${quote(value)} is over the ${MAX_ANNOTATION_VALUE_BYTES}-byte limit for one annotation value`,
    );
  }
}

/** The field path InvalidSpecError names for an annotation, as the core's model does. */
export function annotationField(key: string): string {
  return `metadata.annotations[${key}]`;
}

export interface AnnotationValue {
  /** The key the value came from (ours or an alias), for error messages. */
  readonly key: string;
  readonly value: string;
}

/** Inclusive bounds of an integer annotation. */
export interface IntRange {
  readonly min: number;
  readonly max: number;
}

export class AnnotationReader {
  /**
   * @param aliases other keys read for a key, in precedence order after the key itself (e.g. MetalLB's), so
   *   Services migrate without edits; the key wins whenever it is present, even if an alias says otherwise.
   */
  constructor(
    private readonly annotations: Annotations,
    private readonly aliases: Readonly<Record<string, readonly string[]>> = {},
  ) {}

  /**
   * The untrimmed value under `key`, else under its first alias present; a blank value counts as present. Does not
   * check the size: for lenient readers only (restoring state), never for a value that is then parsed.
   */
  lookup(key: string): AnnotationValue | undefined {
    for (const candidate of [key, ...(this.aliases[key] ?? [])]) {
      const value = this.annotations[candidate];
      if (value !== undefined) return { key: candidate, value };
    }
    return undefined;
  }

  /** As `lookup`, but refuses a value over MAX_ANNOTATION_VALUE_BYTES. */
  raw(key: string): AnnotationValue | undefined {
    const found = this.lookup(key);
    if (found !== undefined) checkAnnotationSize(found.key, found.value);
    return found;
  }

  /** The trimmed value; undefined when absent or blank. */
  string(key: string): string | undefined {
    return this.found(key)?.value;
  }

  bool(key: string): boolean | undefined {
    const found = this.found(key);
    if (found === undefined) return undefined;
    const value = parseGoBool(found.value);
    return value ?? this.fail(found.key, `${quote(found.value)} is not a boolean: want true or false`);
  }

  /** @param what how the message words the expected value; default "an integer in <min>-<max>". */
  int(key: string, range: IntRange, what = `an integer in ${range.min}-${range.max}`): number | undefined {
    const found = this.found(key);
    if (found === undefined) return undefined;
    if (!isIntInRange(found.value, range)) this.fail(found.key, `${quote(found.value)}: want ${what}`);
    return Number(found.value);
  }

  /** Milliseconds. */
  duration(key: string): number | undefined {
    const found = this.found(key);
    if (found === undefined) return undefined;
    try {
      return parseDuration(found.value);
    } catch (err) {
      return this.fail(
        found.key,
        `${quote(found.value)} is not a duration: want a number with a unit, e.g. 500ms, 30s, 10m, 1h`,
        err,
      );
    }
  }

  list(key: string): string[] | undefined {
    const found = this.found(key);
    if (found === undefined) return undefined;
    const items = found.value.split(",").map((s) => s.trim());
    // A Set, not indexOf per item: the check stays linear in the number of entries.
    const seen = new Set<string>();
    items.forEach((item, i) => {
      if (item === "") this.fail(found.key, `${quote(found.value)}: entry ${i + 1} is empty`);
      if (seen.has(item)) this.fail(found.key, `${quote(found.value)}: ${quote(item)} is listed twice`);
      seen.add(item);
    });
    return items;
  }

  /** `k=v,k2=v2`; a value may contain "=" (split at the first one) or be empty. Keys sorted for a stable result. */
  map(key: string): Record<string, string> | undefined {
    const items = this.list(key);
    const from = this.found(key)?.key ?? key;
    if (items === undefined) return undefined;
    const entries = items.map((item): [string, string] => {
      const eq = item.indexOf("=");
      const name = eq < 0 ? "" : item.slice(0, eq).trim();
      if (name === "") this.fail(from, `${quote(item)} is not key=value`);
      return [name, item.slice(eq + 1).trim()];
    });
    const names = new Set<string>();
    for (const [name] of entries) {
      if (names.has(name)) this.fail(from, `key ${quote(name)} is given twice`);
      names.add(name);
    }
    return Object.fromEntries(entries.sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)));
  }

  /** @throws InvalidSpecError naming annotation `key`. */
  fail(key: string, message: string, cause?: unknown): never {
    throw new InvalidSpecError(annotationField(key), message, cause === undefined ? undefined : { cause });
  }

  private found(key: string): AnnotationValue | undefined {
    const raw = this.raw(key);
    const value = raw?.value.trim();
    return raw === undefined || value === undefined || value === "" ? undefined : { key: raw.key, value };
  }
}

/** Decimal digits only (no sign, no exponent) and within `range`. */
export function isIntInRange(value: string, range: IntRange): boolean {
  return /^[0-9]+$/.test(value) && Number(value) >= range.min && Number(value) <= range.max;
}
