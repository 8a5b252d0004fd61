/**
 * The bare-metal provider's Service annotations. MetalLB's keys are read as aliases so Services migrate
 * without edits: `metallb.io/*`, and the older `metallb.universe.tf/*` that MetalLB itself still reads
 * (MLB controller/service.go). Our key wins whenever it is present, even if an alias says otherwise.
 */
import { AnnotationReader, quote } from "../../src/toolkit/index.js";
import type { AnnotationValue, Annotations } from "../../src/toolkit/index.js";
import { poolNameSchema } from "./address-pool.js";

export { annotationField } from "../../src/toolkit/index.js";
export type { AnnotationValue } from "../../src/toolkit/index.js";

/** Services with the same value may share an address if their ports are disjoint (MetalLB's allow-shared-ip). */
export const ANNOTATION_ALLOW_SHARED_IP = "lb-operator.io/allow-shared-ip";
/** Take the address from this pool, even one with autoAssign false. */
export const ANNOTATION_ADDRESS_POOL = "lb-operator.io/address-pool";

/** Aliases in precedence order, after our own key. */
export const ANNOTATION_ALIASES: Readonly<Record<string, readonly string[]>> = {
  [ANNOTATION_ALLOW_SHARED_IP]: ["metallb.io/allow-shared-ip", "metallb.universe.tf/allow-shared-ip"],
  [ANNOTATION_ADDRESS_POOL]: ["metallb.io/address-pool", "metallb.universe.tf/address-pool"],
};

export interface BaremetalAnnotations {
  readonly sharingKey: string | undefined;
  readonly pool: string | undefined;
}

const MAX_SHARING_KEY = 253;

/** Throws InvalidSpecError naming the annotation and the bad value. */
export function parseBaremetalAnnotations(annotations: Annotations): BaremetalAnnotations {
  const reader: AnnotationReader = baremetalReader(annotations);
  return { sharingKey: parseSharingKey(reader), pool: parsePoolName(reader) };
}

/** Our key if present (even blank), else the first alias present. */
export function annotationValue(annotations: Annotations, key: string): AnnotationValue | undefined {
  return baremetalReader(annotations).lookup(key);
}

function baremetalReader(annotations: Annotations): AnnotationReader {
  return new AnnotationReader(annotations, ANNOTATION_ALIASES);
}

/** Read raw: a blank key is an error here, not "no annotation" (see below). */
function parseSharingKey(reader: AnnotationReader): string | undefined {
  const found = reader.raw(ANNOTATION_ALLOW_SHARED_IP);
  if (found === undefined) return undefined;
  const value = found.value.trim();
  // MetalLB compares keys as opaque strings. We refuse only what is surely a mistake: an empty key (MetalLB
  // would treat it as "no sharing", silently) and whitespace or control characters inside the key.
  // The length is checked first, so the character scan never reads more than MAX_SHARING_KEY characters.
  if (value === "" || value.length > MAX_SHARING_KEY || /[\s\p{Cc}]/u.test(value)) {
    reader.fail(
      found.key,
      `invalid sharing key ${quote(found.value)}: must be 1-${MAX_SHARING_KEY} characters without spaces or ` +
        "control characters; remove the annotation to not share the address",
    );
  }
  return value;
}

function parsePoolName(reader: AnnotationReader): string | undefined {
  const found = reader.raw(ANNOTATION_ADDRESS_POOL);
  if (found === undefined) return undefined;
  const value = found.value.trim();
  const result = poolNameSchema.safeParse(value);
  if (!result.success) {
    const reason = result.error.issues.map((i) => i.message).join("; ");
    reader.fail(found.key, `invalid pool name ${quote(found.value)}: ${reason}`);
  }
  return value;
}
