/**
 * The shortest key accepted: the HMAC-SHA256 output length, below which RFC 2104 section 3 says keys are "strongly
 * discouraged" (memberlist's keyring takes 16, 24 or 32 bytes, hashicorp/memberlist keyring.go ValidateKey).
 */
export const MIN_KEY_BYTES = 32;

/** Generous against NTP-synced clocks (milliseconds apart), short against replays. */
export const DEFAULT_MAX_CLOCK_SKEW_MS = 30_000;
