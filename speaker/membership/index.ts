export { SpeakerMembership } from "./membership.js";
export type { MembershipOptions, PeerAddress, PeerState } from "./membership-options.js";
export { DEFAULT_MAX_CLOCK_SKEW_MS, MIN_KEY_BYTES } from "./membership-options.js";
export { DROP_REASONS, type DropReason } from "./drop-reasons.js";
export { loadHeartbeatKey } from "./heartbeat-key.js";
export { HeartbeatKeyError, MembershipBindError, MembershipConfigError } from "./membership-errors.js";
