/**
 * Addresses the Service asks for: the deprecated single-valued `spec.loadBalancerIP` and our dual-stack
 * annotation. Validation here is what the apiserver cannot do for an annotation (and does not do strictly for the
 * legacy field), so a bad value becomes an event on the Service instead of a provider error.
 */
import type { V1Service } from "@kubernetes/client-node";
import { InvalidSpecError } from "../errors.js";
import { quote } from "../util/quote.js";
import type { IPFamily } from "../provider.js";
import { REQUESTED_IPS_ANNOTATION } from "./annotations.js";
import { annotationField, checkAnnotationSize } from "../toolkit/annotation-reader.js";
import { formatIP, ipFamilyOf, parseIP } from "../toolkit/ip.js";

const SPEC_FIELD = "spec.loadBalancerIP";
const ANNOTATION_FIELD = annotationField(REQUESTED_IPS_ANNOTATION);

interface Requested {
  readonly text: string;
  readonly family: IPFamily;
}

/**
 * Returns canonical addresses ordered like `ipFamilies` (primary family first), at most one per family.
 * @throws InvalidSpecError for an unparsable, unspecified (0.0.0.0, ::) or IPv4-mapped IPv6 address; two different
 *   addresses of one family; an address of a family the Service does not have; or spec.loadBalancerIP and the
 *   annotation both set to different address sets.
 */
export function parseRequestedIPs(svc: V1Service, ipFamilies: readonly IPFamily[]): string[] {
  const specText = svc.spec?.loadBalancerIP ?? "";
  const rawAnnotation = svc.metadata?.annotations?.[REQUESTED_IPS_ANNOTATION] ?? "";
  checkAnnotationSize(REQUESTED_IPS_ANNOTATION, rawAnnotation);
  const annotationText = rawAnnotation.trim();
  const fromSpec = specText === "" ? [] : [parseOne(specText, SPEC_FIELD)];
  const fromAnnotation =
    annotationText === "" ? [] : annotationText.split(",").map((raw) => parseOne(raw.trim(), ANNOTATION_FIELD));
  if (fromSpec.length > 0 && fromAnnotation.length > 0 && !sameSet(fromSpec, fromAnnotation)) {
    throw new InvalidSpecError(
      ANNOTATION_FIELD,
      `${quote(annotationText)} conflicts with ${SPEC_FIELD} ${quote(specText)}; set only one of them, or make them agree`,
    );
  }
  const [chosen, field] = fromSpec.length > 0 ? [fromSpec, SPEC_FIELD] : [fromAnnotation, ANNOTATION_FIELD];
  return orderByFamily(chosen, ipFamilies, field);
}

function parseOne(text: string, field: string): Requested {
  const ip = parseIP(text);
  if (ip === undefined) throw new InvalidSpecError(field, `invalid IP address ${quote(text)}`);
  if (ip.range() === "unspecified") throw new InvalidSpecError(field, `${quote(text)} is the unspecified address`);
  if (ip.range() === "ipv4Mapped") {
    throw new InvalidSpecError(field, `${quote(text)} is an IPv4-mapped IPv6 address; write the IPv4 address instead`);
  }
  return { text: formatIP(ip), family: ipFamilyOf(ip) };
}

function sameSet(a: readonly Requested[], b: readonly Requested[]): boolean {
  const x = new Set(a.map((r) => r.text));
  const y = new Set(b.map((r) => r.text));
  return x.size === y.size && [...x].every((t) => y.has(t));
}

function orderByFamily(requested: readonly Requested[], ipFamilies: readonly IPFamily[], field: string): string[] {
  const byFamily = new Map<IPFamily, string>();
  for (const { text, family } of requested) {
    const other = byFamily.get(family);
    if (other !== undefined && other !== text) {
      throw new InvalidSpecError(
        field,
        `asks for two ${family} addresses (${quote(other)}, ${quote(text)}); at most one per family`,
      );
    }
    if (!ipFamilies.includes(family)) {
      throw new InvalidSpecError(
        field,
        `${quote(text)} is ${family} but spec.ipFamilies is [${ipFamilies.join(", ")}]`,
      );
    }
    byFamily.set(family, text);
  }
  return ipFamilies.flatMap((f) => {
    const text = byFamily.get(f);
    return text === undefined ? [] : [text];
  });
}
