/**
 * Resource links, names and IPv4 ranges as Compute handles them. A link in a request body may be a full URL
 * (any host, `.../compute/v1/projects/...`), a partial one (`projects/p/global/healthChecks/x`,
 * `global/healthChecks/x`, `regions/r/subnetworks/s`) or, where Compute allows it, a bare name; the fake
 * resolves all of them to one key and answers with full selfLinks on www.googleapis.com, as Compute does.
 */
import type { Collection, Scope } from "./types.js";
import { invalid } from "./types.js";

export const LINK_BASE = "https://www.googleapis.com/compute/v1/";

/** A resolved reference: `key` is the selfLink without LINK_BASE (`projects/p/regions/r/forwardingRules/x`). */
export interface Ref {
  readonly project: string;
  readonly scope: Scope;
  readonly collection: Collection;
  readonly name: string;
  readonly key: string;
}

export function scopePath(scope: Scope): string {
  return scope.kind === "global" ? "global" : `${scope.kind === "region" ? "regions" : "zones"}/${scope.name}`;
}

export function makeRef(project: string, scope: Scope, collection: Collection, name: string): Ref {
  const key =
    collection === "zones"
      ? `projects/${project}/zones/${name}`
      : `projects/${project}/${scopePath(scope)}/${collection}/${name}`;
  return { project, scope, collection, name, key };
}

export const linkOf = (ref: Ref): string => LINK_BASE + ref.key;
export const scopeLink = (project: string, scope: Scope): string =>
  `${LINK_BASE}projects/${project}/${scope.kind === "global" ? "global" : scopePath(scope)}`;

/**
 * Resolves `value` (field `field` of a request) to a reference of `collection`. A bare name is taken to be in
 * `defaultScope` of `project`. Anything else that does not parse, or names another collection, is a 400
 * "invalid", as Compute answers a malformed link.
 */
export function resolveRef(
  value: string,
  expect: {
    readonly field: string;
    readonly collection: Collection;
    readonly project: string;
    readonly defaultScope: Scope;
  },
): Ref {
  const bad = () => invalid(`Invalid value for field '${expect.field}': '${value}'. The URL is malformed.`);
  let path = value.trim();
  const marker = path.indexOf("/compute/v1/");
  if (/^https?:\/\//.test(path)) {
    if (marker < 0) throw bad();
    path = path.slice(marker + "/compute/v1/".length);
  }
  let project = expect.project;
  const parts = path.split("/").filter((p) => p !== "");
  if (parts[0] === "projects") {
    project = parts[1] ?? "";
    parts.splice(0, 2);
  }
  if (parts.length === 1 && parts[0] !== undefined && project === expect.project) {
    return makeRef(project, expect.defaultScope, expect.collection, parts[0]);
  }
  let scope: Scope;
  if (parts[0] === "global") {
    scope = { kind: "global" };
    parts.splice(0, 1);
  } else if ((parts[0] === "regions" || parts[0] === "zones") && parts[1] !== undefined) {
    scope = { kind: parts[0] === "regions" ? "region" : "zone", name: parts[1] };
    parts.splice(0, 2);
  } else {
    throw bad();
  }
  const [collection, name] = parts;
  if (parts.length !== 2 || collection !== expect.collection || name === undefined || project === "") throw bad();
  return makeRef(project, scope, expect.collection, name);
}

const RFC1035 = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** Compute's name rule: RFC 1035, 1 to 63 characters, `[a-z]([-a-z0-9]*[a-z0-9])?`. */
export function validateName(name: unknown, field = "resource.name"): string {
  if (name === undefined || name === null || name === "") {
    throw invalid(
      `Invalid value for field '${field}': ''. Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)'`,
    );
  }
  if (typeof name !== "string" || !RFC1035.test(name)) {
    throw invalid(
      `Invalid value for field '${field}': '${typeof name === "string" ? name : JSON.stringify(name)}'. Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)'`,
    );
  }
  return name;
}

/** An IPv4 address as an unsigned 32-bit number, or undefined when `text` is not a dotted quad. */
export function parseIpv4(text: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return undefined;
  const octets = m.slice(1).map(Number);
  if (octets.some((o) => o > 255)) return undefined;
  return octets.reduce((acc, o) => acc * 256 + o, 0);
}

export function formatIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join(".");
}

export interface Ipv4Range {
  /** First address (network) and size of the range. */
  readonly first: number;
  readonly size: number;
}

/** `a.b.c.d/n` with the host bits zero (Compute rejects a CIDR with host bits set), or undefined. */
export function parseCidr(text: string): Ipv4Range | undefined {
  const [ip, prefixText, extra] = text.split("/");
  if (ip === undefined || prefixText === undefined || extra !== undefined || !/^\d{1,2}$/.test(prefixText)) {
    return undefined;
  }
  const base = parseIpv4(ip);
  const prefix = Number(prefixText);
  if (base === undefined || prefix > 32) return undefined;
  const size = 2 ** (32 - prefix);
  return base % size === 0 ? { first: base, size } : undefined;
}

/** Whether `ip` may be assigned from a subnetwork range: Compute reserves the first two and the last two. */
export function usableInRange(range: Ipv4Range, ip: number): boolean {
  return ip >= range.first + 2 && ip <= range.first + range.size - 3;
}

/** Source/destination ranges of a firewall: a CIDR or a single address. */
export function isCidrOrIp(text: string): boolean {
  return parseCidr(text) !== undefined || parseIpv4(text) !== undefined;
}
