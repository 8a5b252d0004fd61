/**
 * The few nft lexical rules the renderer depends on. Everything that ends up in the script passes through one of
 * these functions, so the script can only contain dotted quads, prefixes, decimal ports, and identifiers and
 * comments from a fixed alphabet: a Service name or a bad address can never change the script's structure.
 */
import { createHash } from "node:crypto";
import { ipv4ToNumber, parseIPv4 } from "../../src/toolkit/index.js";
import { NftRenderError } from "./nft-errors.js";

/**
 * Table names: a letter first so the name never lexes as a number, and nothing that needs quoting. nft's own
 * identifier alphabet is wider (`/`, `.`), but a table name also reaches shells and log lines.
 */
const TABLE_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;

/** Everything else in chain names is replaced by `_`; nft identifiers accept letters, digits, `_`, `-` and `.`. */
const UNSAFE_IDENTIFIER_CHARS = /[^A-Za-z0-9_.-]/g;
/** Comments are double-quoted strings without escapes; keep them to a plain alphabet. */
const UNSAFE_COMMENT_CHARS = /[^A-Za-z0-9 _.,:/=()-]/g;
/** The kernel caps comments (NFT_USERDATA_MAXLEN); stay well below it. */
const MAX_COMMENT = 120;
/** Readable part of a chain name; the hash before it keeps names unique, so cutting it is safe. */
const MAX_READABLE_NAME = 60;

/** Four decimal octets without leading zeros (parseIPv4): nft (like inet_pton) would read "010" differently than a human. */
export function assertIPv4(value: string, field: string, service?: string): string {
  if (typeof value !== "string" || parseIPv4(value) === undefined) {
    throw new NftRenderError(field, `not an IPv4 dotted quad: ${JSON.stringify(value)}`, service);
  }
  return value;
}

/**
 * An IPv4 CIDR in normal form (`a.b.c.d/len`, no host bits set). nft would silently mask host bits, which would
 * hide a bug in whoever built the plan (DataPlan promises normalised CIDRs), so it is an error here.
 */
export function assertCIDR(value: string, field: string, service?: string): string {
  const match = typeof value === "string" ? /^([^/]+)\/(\d{1,2})$/.exec(value) : null;
  const address = match?.[1];
  const prefixText = match?.[2];
  if (address === undefined || prefixText === undefined || parseIPv4(address) === undefined) {
    throw new NftRenderError(field, `not an IPv4 CIDR: ${JSON.stringify(value)}`, service);
  }
  const prefix = Number(prefixText);
  if (prefix > 32 || String(prefix) !== prefixText) {
    throw new NftRenderError(field, `prefix length out of range in ${JSON.stringify(value)}`, service);
  }
  const hostBits = 32 - prefix;
  if (hostBits > 0 && ipv4ToNumber(address) % 2 ** hostBits !== 0) {
    throw new NftRenderError(field, `host bits set in ${JSON.stringify(value)}`, service);
  }
  return value;
}

export function assertPort(value: number, field: string, service?: string): number {
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    throw new NftRenderError(field, `port must be an integer from 1 to 65535, got ${String(value)}`, service);
  }
  return value;
}

export function assertTableName(value: string): string {
  if (typeof value !== "string" || !TABLE_NAME.test(value)) {
    throw new NftRenderError("table", `not a safe nftables table name: ${JSON.stringify(value)}`);
  }
  return value;
}

/**
 * A chain name that is a valid nft identifier whatever the inputs: `<prefix>-<hash>-<readable>`. The hash of `key`
 * (the rule's `vip/protocol/port`, unique within a plan) makes names unique and stable across applies; the
 * readable tail (Service name, protocol, port) is only for humans reading `nft list`.
 */
export function chainName(prefix: string, key: string, readable: string): string {
  const hash = createHash("sha256").update(key).digest("hex").slice(0, 12);
  const tail = readable.replace(UNSAFE_IDENTIFIER_CHARS, "_").slice(0, MAX_READABLE_NAME);
  return `${prefix}-${hash}-${tail}`;
}

/** `text` as a double-quoted nft comment; characters outside a plain alphabet become `_`. */
export function comment(text: string): string {
  return `comment "${text.replace(UNSAFE_COMMENT_CHARS, "_").slice(0, MAX_COMMENT)}"`;
}
