import { LbOperatorError } from "../../src/toolkit/index.js";

/** The options cannot work (e.g. a timeout not longer than the send interval): a configuration bug, not retried. */
export class MembershipConfigError extends LbOperatorError {}

/** The heartbeat socket could not be bound (address not on this node, port in use). */
export class MembershipBindError extends LbOperatorError {}

/** The heartbeat key file cannot be read, or holds a key too short to sign with: the speaker does not start. */
export class HeartbeatKeyError extends LbOperatorError {}
