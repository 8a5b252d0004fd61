import { LbOperatorError } from "../../src/toolkit/index.js";
/**
 * The seam between the ARP responder and the wire: one capture+send session per interface. The default is
 * a libpcap session in a child process (capture-process.ts); unit tests inject a fake that records frames.
 */

export interface PacketHandlers {
  /** One received Ethernet frame (filtered to ARP by the default session). */
  onFrame(frame: Buffer): void;
  /**
   * The session failed and delivers nothing more (interface deleted or down, capture process died, a send
   * failed). Called at most once; never after close().
   */
  onError(error: CaptureError): void;
}

export interface PacketSession {
  /**
   * Queues one Ethernet frame for sending. Throws CaptureError when the session is already known to be
   * dead; failures found later are reported through onError.
   */
  send(frame: Buffer): void;
  /** Stops capturing and releases the interface; resolves once it is released. Idempotent. */
  close(): Promise<void>;
}

export type OpenCapture = (iface: string, handlers: PacketHandlers) => PacketSession;

/** Capturing on or sending to an interface failed. */
export class CaptureError extends LbOperatorError {
  readonly iface: string;
  constructor(iface: string, message: string, options?: { cause?: unknown }) {
    super(`ARP capture on interface ${iface}: ${message}`, options);
    this.iface = iface;
  }
}

/** setAnnounced() was given something that is not an IPv4 address. */
export class InvalidAnnounceAddressError extends LbOperatorError {
  readonly addresses: readonly string[];
  constructor(addresses: readonly string[]) {
    super(`ARP can only announce IPv4 addresses; not IPv4: ${addresses.map((a) => JSON.stringify(a)).join(", ")}`);
    this.addresses = addresses;
  }
}
