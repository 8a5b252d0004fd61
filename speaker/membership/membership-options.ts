import type { Logger } from "pino";
import { MAX_NODE_NAME_BYTES } from "./datagram.js";
import { MembershipConfigError } from "./membership-errors.js";
import type { Clock } from "../../src/runtime/index.js";

export interface PeerAddress {
  readonly node: string;
  readonly ip: string;
}

export interface MembershipOptions {
  readonly nodeName: string;
  readonly bindAddress: string;
  /** UDP port, the same on every node (the caller's default is 7946, memberlist's). */
  readonly port: number;
  /** How often a heartbeat goes to every peer. */
  readonly intervalMs: number;
  /** A peer not heard from for this long is dead. Must exceed intervalMs; 3-5 intervals tolerates lost datagrams. */
  readonly timeoutMs: number;
  /** Shared key: every datagram is HMAC-SHA256 signed and unsigned or badly signed ones are dropped. */
  readonly secret?: Uint8Array;
  readonly clock?: Clock;
  readonly logger: Logger;
  readonly onChange: () => void;
}

export type PeerState = "alive" | "dead" | "unknown";

/** Throws MembershipConfigError for options that cannot work. */
export function validateMembershipOptions(opts: MembershipOptions): void {
  if (!(opts.intervalMs > 0) || !(opts.timeoutMs > opts.intervalMs)) {
    throw new MembershipConfigError(
      `membership needs 0 < intervalMs < timeoutMs, got intervalMs=${opts.intervalMs} timeoutMs=${opts.timeoutMs}`,
    );
  }
  if (!Number.isInteger(opts.port) || opts.port < 1 || opts.port > 65535) {
    throw new MembershipConfigError(`membership port must be 1..65535, got ${opts.port}`);
  }
  const nameBytes = Buffer.byteLength(opts.nodeName, "utf8");
  if (nameBytes < 1 || nameBytes > MAX_NODE_NAME_BYTES) {
    throw new MembershipConfigError(`bad node name ${JSON.stringify(opts.nodeName)}`);
  }
}
