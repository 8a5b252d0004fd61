/**
 * May a Service use an address other Services already hold? MetalLB's rules (MLB
 * internal/allocator/allocator.go sharingOK, checkSharing): every user sets the same sharing key, has the
 * same backend key (externalTrafficPolicy Local Services must select the same pods, because the address is
 * announced from the nodes that run them), and no (protocol, port) pair is used twice.
 */
import { quote } from "../../src/toolkit/index.js";
import { ANNOTATION_ALLOW_SHARED_IP } from "./annotations.js";
import type { PortKey } from "./allocation-types.js";
import { AddressInUseError, PortCollisionError } from "./baremetal-errors.js";

export interface SharingParty {
  /** namespace/name */
  readonly key: string;
  readonly sharingKey: string | undefined;
  readonly backendKey: string | undefined;
  /** False for allocations rebuilt by restore(), whose backend key the Service status does not record. */
  readonly backendKnown: boolean;
  readonly ports: readonly PortKey[];
}

/** The first reason `self` may not join `others` on `ip` (others in key order, so the answer is stable), or undefined. */
export function sharingConflict(
  ip: string,
  self: SharingParty,
  others: readonly SharingParty[],
  retryAfterMs: number,
): AddressInUseError | undefined {
  const sorted = others.filter((o) => o.key !== self.key).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  for (const other of sorted) {
    const reason = keyMismatch(ip, self, other);
    if (reason !== undefined) return new AddressInUseError(ip, [other.key], reason, retryAfterMs);
    const colliding = collidingPorts(self.ports, other.ports);
    if (colliding.length > 0) {
      const [noun, verb] = colliding.length === 1 ? ["port", "is"] : ["ports", "are"];
      const message =
        `${noun} ${colliding.join(", ")} on shared address ${ip} ${verb} already used by ${other.key}; ` +
        "shared Services need distinct ports";
      return new PortCollisionError(ip, [other.key], colliding, message, retryAfterMs);
    }
  }
  return undefined;
}

export function formatPort(port: PortKey): string {
  return `${port.protocol}/${port.port}`;
}

function keyMismatch(ip: string, self: SharingParty, other: SharingParty): string | undefined {
  const used = `address ${ip} is already used by ${other.key}`;
  const ann = ANNOTATION_ALLOW_SHARED_IP;
  if (self.sharingKey === undefined && other.sharingKey === undefined) {
    return `${used}; to share it, set ${ann} to the same value on both Services`;
  }
  if (self.sharingKey === undefined) {
    return `${used}, which shares it under ${ann}=${quote(other.sharingKey ?? "")}; this Service does not set ${ann}`;
  }
  if (other.sharingKey === undefined) return `${used}, which does not allow sharing (no ${ann})`;
  if (self.sharingKey !== other.sharingKey) {
    return `${used} under ${ann}=${quote(other.sharingKey)}, not ${quote(self.sharingKey)}`;
  }
  if (self.backendKnown && other.backendKnown && self.backendKey !== other.backendKey) {
    return (
      `${used}; Services sharing an address must have the same externalTrafficPolicy, ` +
      "and with Local they must select the same pods"
    );
  }
  return undefined;
}

function collidingPorts(mine: readonly PortKey[], theirs: readonly PortKey[]): string[] {
  const taken = new Set(theirs.map(formatPort));
  return [...new Set(mine.map(formatPort))].filter((p) => taken.has(p)).sort();
}
