/**
 * Checks a request's shape before the allocator looks at pools: IP families, and requested addresses that
 * match them one to one. MetalLB refuses requested addresses whose families differ from the Service's
 * ("does not match the ipFamily of the service", MLB controller/service.go allocateIPs); so do we.
 */
import { InvalidSpecError } from "../../src/errors.js";
import type { IPFamily } from "../../src/provider.js";
import { formatIPValue, parseIPValue, quote, type IPValue } from "../../src/toolkit/index.js";

/** Families must be one or two distinct values out of IPv4 and IPv6. */
export function checkFamilies(families: readonly IPFamily[]): void {
  const distinct = new Set(families);
  const known = families.every((f) => f === "IPv4" || f === "IPv6");
  if (families.length === 0 || distinct.size !== families.length || !known) {
    const message = `must be one or two distinct families out of IPv4 and IPv6, got [${families.join(", ")}]`;
    throw new InvalidSpecError("spec.ipFamilies", message);
  }
}

/**
 * The requested addresses in `families` order, or [] when none were requested. `field` is where they came
 * from (spec.loadBalancerIP or the annotation), so the event points at what to edit.
 */
export function parseRequestedAddresses(
  requested: readonly string[],
  families: readonly IPFamily[],
  field: string,
): IPValue[] {
  const wanted = families.join(", ");
  if (requested.length === 0) return [];
  const byFamily = new Map<IPFamily, IPValue>();
  for (const text of requested) {
    const addr = parseIPValue(text.trim());
    if (addr === undefined) throw new InvalidSpecError(field, `${quote(text)} is not an IP address`);
    const previous = byFamily.get(addr.family);
    if (previous !== undefined) {
      const both = `${formatIPValue(previous)}, ${formatIPValue(addr)}`;
      const message = `requests two ${addr.family} addresses (${both}); request at most one per IP family`;
      throw new InvalidSpecError(field, message);
    }
    if (!families.includes(addr.family)) {
      const message = `address ${formatIPValue(addr)} is ${addr.family}, but the Service's ipFamilies are ${wanted}`;
      throw new InvalidSpecError(field, message);
    }
    byFamily.set(addr.family, addr);
  }
  return families.map((family) => {
    const addr = byFamily.get(family);
    if (addr === undefined) {
      throw new InvalidSpecError(
        field,
        `requests no ${family} address, but the Service's ipFamilies are ${wanted}; request one address per family`,
      );
    }
    return addr;
  });
}
