export { SpeakerMembership } from "./membership.js";
export type { MembershipOptions, PeerAddress, PeerState } from "./membership-options.js";
export { MembershipBindError, MembershipConfigError } from "./membership-errors.js";
