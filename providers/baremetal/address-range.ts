/**
 * One entry of a pool's `addresses`: a CIDR ("192.0.2.0/24") or an inclusive range
 * ("192.0.2.100-192.0.2.120"), the two forms MetalLB's IPAddressPool accepts
 * (MLB api/v1beta1/ipaddresspool_types.go).
 */
import type { IPFamily } from "../../src/provider.js";
import { FAMILY_BITS, formatIPValue, parseIPValue } from "../../src/toolkit/index.js";

export interface AddressRange {
  readonly family: IPFamily;
  /** First and last address, inclusive. */
  readonly first: bigint;
  readonly last: bigint;
  /** The entry as written (trimmed), for messages. */
  readonly text: string;
}

export type RangeParseResult =
  { readonly ok: true; readonly range: AddressRange } | { readonly ok: false; readonly error: string };

const EXAMPLES = "a CIDR (192.0.2.0/24) or a range (192.0.2.100-192.0.2.120)";

export function parseAddressRange(entry: string): RangeParseResult {
  const text = entry.trim();
  if (text.includes("/")) return parseCidr(text);
  if (text.includes("-")) return parseDashRange(text);
  if (parseIPValue(text) !== undefined) {
    return fail(`${JSON.stringify(text)} is a single address; write it as ${text}/${text.includes(":") ? 128 : 32}`);
  }
  return fail(`${JSON.stringify(text)} is neither ${EXAMPLES}`);
}

/** Number of addresses in the range. */
export function rangeSize(range: AddressRange): bigint {
  return range.last - range.first + 1n;
}

/** Number of IPv4 addresses ending in .0 or .255 in the range (what avoidBuggyIPs takes away). */
export function buggyCount(range: AddressRange): bigint {
  if (range.family !== "IPv4") return 0n;
  return countCongruent(range.first, range.last, 0n) + countCongruent(range.first, range.last, 255n);
}

export function rangesOverlap(a: AddressRange, b: AddressRange): boolean {
  return a.family === b.family && a.first <= b.last && b.first <= a.last;
}

function parseCidr(text: string): RangeParseResult {
  const parts = text.split("/");
  const [ipText, lengthText] = parts;
  if (parts.length !== 2 || ipText === undefined || lengthText === undefined) {
    return fail(`${JSON.stringify(text)} is not a valid CIDR: expected one "/"`);
  }
  const addr = parseIPValue(ipText);
  if (addr === undefined) {
    return fail(`${JSON.stringify(text)} is not a valid CIDR: ${JSON.stringify(ipText)} is not an IP address`);
  }
  const bits = FAMILY_BITS[addr.family];
  if (!/^(0|[1-9][0-9]{0,2})$/.test(lengthText) || Number(lengthText) > bits) {
    return fail(`${JSON.stringify(text)} is not a valid CIDR: prefix length must be 0-${bits}`);
  }
  const hostBits = BigInt(bits - Number(lengthText));
  const hostMask = (1n << hostBits) - 1n;
  if ((addr.value & hostMask) !== 0n) {
    // net.ParseCIDR (and so MetalLB) silently masks host bits; a typo like 192.0.2.5/24 more likely means
    // "this one address" than "the whole /24", so ask instead of guessing.
    const network = formatIPValue({ family: addr.family, value: addr.value & ~hostMask });
    return fail(`${JSON.stringify(text)} has host bits set; the network is ${network}/${lengthText}`);
  }
  return ok({ family: addr.family, first: addr.value, last: addr.value | hostMask, text });
}

function parseDashRange(text: string): RangeParseResult {
  const parts = text.split("-").map((p) => p.trim());
  const [fromText, toText] = parts;
  if (parts.length !== 2 || fromText === undefined || toText === undefined) {
    return fail(`${JSON.stringify(text)} is not a valid range: expected one "-"`);
  }
  const from = parseIPValue(fromText);
  const to = parseIPValue(toText);
  if (from === undefined || to === undefined) {
    const bad = from === undefined ? fromText : toText;
    return fail(`${JSON.stringify(text)} is not a valid range: ${JSON.stringify(bad)} is not an IP address`);
  }
  if (from.family !== to.family) return fail(`${JSON.stringify(text)} mixes IPv4 and IPv6`);
  if (from.value > to.value) {
    return fail(`${JSON.stringify(text)} is reversed: ${formatIPValue(from)} comes after ${formatIPValue(to)}`);
  }
  return ok({ family: from.family, first: from.value, last: to.value, text });
}

/** How many x in [first, last] have x % 256 === residue. */
function countCongruent(first: bigint, last: bigint, residue: bigint): bigint {
  return floorDiv(last - residue, 256n) - floorDiv(first - 1n - residue, 256n);
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

function ok(range: AddressRange): RangeParseResult {
  return { ok: true, range };
}

function fail(error: string): RangeParseResult {
  return { ok: false, error };
}
