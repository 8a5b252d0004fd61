/**
 * The identity providers tag resources with and name them by. Like cloud-provider-kind's loadBalancerName
 * (sha256 of cluster/namespace/name), but the UID is hashed too: a Service deleted and re-created under the same
 * name must not adopt, or be confused with, the old load balancer still being torn down.
 */
import { createHash } from "node:crypto";
import type { V1Service } from "@kubernetes/client-node";
import { InvalidSpecError } from "../errors.js";
import type { LoadBalancerId } from "../provider.js";

/** RFC 4648 base32 alphabet, lowercased: letters and 2-7 only, so the name is RFC 1035 (DNS label) safe. */
const BASE32 = "abcdefghijklmnopqrstuvwxyz234567";
const PREFIX = "lb";
const SHORT_NAME_LENGTH = 20;

/**
 * `shortName` is "lb" + the first 18 base32 characters of sha256("clusterId/namespace/name/uid"): 20 characters,
 * starts with a letter, 90 bits of hash. 20 fits the tightest provider limit we target (AWS load balancer and
 * target group names are at most 32 characters, leaving room for a suffix).
 * @throws InvalidSpecError when the Service lacks namespace, name or uid (never true for an object read from the apiserver).
 * @throws RangeError when clusterId is empty (a configuration error, not the user's).
 */
export function loadBalancerId(svc: V1Service, clusterId: string): LoadBalancerId {
  if (clusterId === "") throw new RangeError("clusterId must not be empty");
  const namespace = required(svc.metadata?.namespace, "metadata.namespace");
  const name = required(svc.metadata?.name, "metadata.name");
  const uid = required(svc.metadata?.uid, "metadata.uid");
  const digest = createHash("sha256").update(`${clusterId}/${namespace}/${name}/${uid}`).digest();
  const shortName = PREFIX + base32(digest).slice(0, SHORT_NAME_LENGTH - PREFIX.length);
  return Object.freeze({ clusterId, namespace, name, uid, shortName });
}

function required(value: string | undefined, field: string): string {
  if (value === undefined || value === "") throw new InvalidSpecError(field, "must be set");
  return value;
}

/** Unpadded RFC 4648 base32, lowercase. */
export function base32(bytes: Uint8Array): string {
  let out = "";
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = ((buffer << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += BASE32.charAt((buffer >> bits) & 31);
    }
  }
  if (bits > 0) out += BASE32.charAt((buffer << (5 - bits)) & 31);
  return out;
}
