import type { Logger } from "pino";
import { MAX_NODE_NAME_BYTES } from "./datagram.js";
import type { DropReason } from "./drop-reasons.js";
import { DEFAULT_MAX_CLOCK_SKEW_MS, MIN_KEY_BYTES } from "./heartbeat-defaults.js";
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
  /**
   * Shared key, at least MIN_KEY_BYTES: every datagram is HMAC-SHA256 signed and unsigned or badly signed ones are
   * dropped. Absent: unsigned heartbeats, which anyone on the network can forge (the CLI allows that only with
   * --insecure-unsigned-heartbeats).
   */
  readonly secret?: Uint8Array;
  /**
   * Datagrams whose timestamp is further than this from our clock are dropped (inbound.ts states the clock-skew
   * assumption). Default DEFAULT_MAX_CLOCK_SKEW_MS.
   */
  readonly maxClockSkewMs?: number;
  /** Called once per dropped inbound datagram, with why (the heartbeats-dropped counter). */
  readonly onDrop?: (reason: DropReason) => void;
  readonly clock?: Clock;
  readonly logger: Logger;
  readonly onChange: () => void;
}

export type PeerState = "alive" | "dead" | "unknown";

// In a module of their own with no imports: the speaker's command line reads them when the CLI loads, and this file's
// errors import would pull the core's index into that load (an import cycle through src/plugins.ts).
export { DEFAULT_MAX_CLOCK_SKEW_MS, MIN_KEY_BYTES };

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
  if (opts.secret !== undefined && opts.secret.length < MIN_KEY_BYTES) {
    throw new MembershipConfigError(
      `the heartbeat key has ${opts.secret.length} bytes; at least ${MIN_KEY_BYTES} are required`,
    );
  }
  const skew = opts.maxClockSkewMs ?? DEFAULT_MAX_CLOCK_SKEW_MS;
  if (!(skew > 0)) throw new MembershipConfigError(`maxClockSkewMs must be > 0, got ${skew}`);
}
