/**
 * Why the membership dropped an inbound heartbeat datagram: the `reason` label of
 * lb_operator_speaker_heartbeats_dropped_total. A closed list, so the metric's cardinality is fixed and an alert can
 * name a reason (bad_signature: a forger or a key mismatch; stale_timestamp: clock skew or a late replay).
 */
export const DROP_REASONS = [
  /** Not a heartbeat: too short or long, bad magic, lengths that disagree with the header, a name not UTF-8. */
  "malformed",
  /** A datagram version we do not speak: a speaker of another release (see datagram.ts on rolling upgrades). */
  "unsupported_version",
  /** No MAC, but we hold a key. */
  "unsigned",
  /** The MAC does not match under our key: forged, tampered, or a peer with another key. */
  "bad_signature",
  /** The sender's timestamp is further from our clock than the allowed skew: a late replay, or clocks apart. */
  "stale_timestamp",
  /** Addressed to another node: a datagram sent to a peer, replayed to us. */
  "wrong_destination",
  /** An incarnation lower than the live one, or a sequence number already seen: a replay (or a reordering). */
  "replayed",
  /** The sender's node name is not in our peer list. */
  "unknown_node",
  /** Sent from an address that is not the named peer's. */
  "wrong_source",
  /** Carries our own node name but not our incarnation: another speaker claims to be us. */
  "self_name",
] as const;

export type DropReason = (typeof DROP_REASONS)[number];
