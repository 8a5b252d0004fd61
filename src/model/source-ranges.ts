/**
 * Client source ranges. Ported from k8s.io/cloud-provider service/helpers GetLoadBalancerSourceRanges: the spec
 * field wins, else the annotation (comma-separated), each entry trimmed. Unlike upstream we return [] rather than
 * ["0.0.0.0/0"] when neither is set (LoadBalancerSpec: empty means allow all, for both families).
 */
import type { V1Service } from "@kubernetes/client-node";
import { InvalidSpecError } from "../errors.js";
import { quote } from "../util/quote.js";
import { SOURCE_RANGES_ANNOTATION } from "./annotations.js";
import { compareCIDRs, formatCIDR, parseCIDR } from "../toolkit/ip.js";
import { annotationField, checkAnnotationSize } from "../toolkit/annotation-reader.js";
import type { CIDR } from "../toolkit/ip.js";

interface Entry {
  readonly text: string;
  /** The field to blame in InvalidSpecError. */
  readonly field: string;
  /** Human position, e.g. "entry 2 of the annotation", or "" when the field already says it. */
  readonly where: string;
}

/**
 * Returns canonical CIDRs:
 * - host bits cleared: "10.0.0.1/8" becomes "10.0.0.0/8", which is what Go's net.ParseCIDR hands kube-proxy, so
 *   the allowed clients are unchanged, and providers diff against one form a cloud API will not reject or rewrite
 *   into a permanent difference;
 * - IPv6 in RFC 5952 form; duplicates removed;
 * - sorted (IPv4 first, then by address and prefix), so reordering the list does not change the derived spec;
 * - "0.0.0.0/0" and "::/0" kept as written: each opens one family only, which is not the same as an empty list.
 * @throws InvalidSpecError naming the spec index or the annotation and quoting the bad entry.
 */
export function parseSourceRanges(svc: V1Service): string[] {
  const byText = new Map<string, CIDR>();
  for (const entry of sourceRangeEntries(svc)) {
    const cidr = parseCIDR(entry.text);
    if (cidr === undefined) {
      const where = entry.where === "" ? "" : ` (${entry.where})`;
      throw new InvalidSpecError(
        entry.field,
        `invalid CIDR ${quote(entry.text)}${where}: want an IPv4 or IPv6 CIDR such as 203.0.113.0/24 or 2001:db8::/32`,
      );
    }
    byText.set(formatCIDR(cidr), cidr);
  }
  return [...byText.values()].sort(compareCIDRs).map(formatCIDR);
}

function sourceRangeEntries(svc: V1Service): Entry[] {
  const fromSpec = svc.spec?.loadBalancerSourceRanges ?? [];
  if (fromSpec.length > 0) {
    return fromSpec.map((raw, i) => ({ text: raw.trim(), field: `spec.loadBalancerSourceRanges[${i}]`, where: "" }));
  }
  const raw = svc.metadata?.annotations?.[SOURCE_RANGES_ANNOTATION] ?? "";
  checkAnnotationSize(SOURCE_RANGES_ANNOTATION, raw);
  const annotation = raw.trim();
  if (annotation === "") return [];
  const field = annotationField(SOURCE_RANGES_ANNOTATION);
  // An empty element ("a,,b" or a trailing comma) is an error, as in upstream (ParseIPNets on "").
  return annotation.split(",").map((raw, i) => ({ text: raw.trim(), field, where: `entry ${i + 1}` }));
}
