/**
 * What the membership knows of one peer, and how a heartbeat that passed the wire checks updates it: which
 * incarnation is current, whether the datagram is news, and whether the peer may be elected (membership.ts states
 * the contract).
 *
 * Incarnations only go up (datagram.ts: wall-clock ms at start). A heartbeat of a lower incarnation than the
 * current one is a replay of an earlier life and never retires the current one, so one captured datagram cannot
 * make us drop a live peer's heartbeats (issue 15); memberlist judges its alive messages the same way
 * (hashicorp/memberlist state.go aliveNode: an incarnation not above the known one is ignored). One exception keeps
 * a node whose clock stepped back between two lives from being shut out until we restart: a lower incarnation is
 * taken once the current one has been silent for longer than `reclaimAfterMs`. The caller sets that to twice the
 * allowed clock skew: every datagram we still accept was sent within the skew of now, so one of an earlier life
 * would have been sent after the later life went silent, which only a live process can do.
 */
import { seqAfter, type Heartbeat } from "./datagram.js";
import type { PeerState } from "./membership-options.js";
import type { TimerHandle } from "../../src/runtime/index.js";

export interface PeerRecord {
  readonly ip: string;
  state: PeerState;
  /** The highest incarnation heard (but see the exception above). */
  incarnation: number | undefined;
  seq: number;
  /** Our clock when the current incarnation's last accepted heartbeat (leaving included) arrived. */
  lastHeard: number;
  deadline: TimerHandle | undefined;
  /** The current incarnation's last heartbeat said it is warming. */
  warming: boolean;
  /** The current incarnation was first heard after we had settled (a restart or a join while we ran). */
  joinedLate: boolean;
}

export function newPeerRecord(ip: string): PeerRecord {
  return {
    ip,
    state: "unknown",
    incarnation: undefined,
    seq: 0,
    lastHeard: 0,
    deadline: undefined,
    warming: false,
    joinedLate: false,
  };
}

export type Observation =
  | { readonly news: false }
  | {
      readonly news: true;
      /** A new incarnation replaced one we had heard: the peer lost its state. */
      readonly restarted: boolean;
      /** The same incarnation's warming flag changed: its candidacy may have. */
      readonly flipped: boolean;
    };

export interface ObserveContext {
  /** Our clock now. */
  readonly now: number;
  /** Our own membership had settled, which makes a newly heard incarnation a late joiner. */
  readonly settled: boolean;
  /** Silence after which a lower incarnation is taken (see above). */
  readonly reclaimAfterMs: number;
}

/**
 * Records `hb` in `rec` unless it is old: a sequence number already passed, or a lower incarnation (replayed, or
 * reordered). State and deadline are the caller's.
 */
export function observeHeartbeat(rec: PeerRecord, hb: Heartbeat, ctx: ObserveContext): Observation {
  let restarted = false;
  let flipped = false;
  if (hb.incarnation === rec.incarnation) {
    if (!seqAfter(hb.seq, rec.seq)) return { news: false };
    flipped = rec.warming !== hb.warming;
  } else {
    if (rec.incarnation !== undefined) {
      const reclaim = ctx.now - rec.lastHeard > ctx.reclaimAfterMs;
      if (hb.incarnation < rec.incarnation && !reclaim) return { news: false };
      restarted = true;
    }
    rec.incarnation = hb.incarnation;
    rec.joinedLate = ctx.settled;
  }
  rec.seq = hb.seq;
  rec.warming = hb.warming;
  rec.lastHeard = ctx.now;
  return { news: true, restarted, flipped };
}

/** Alive, and not a late joiner that is still warming. */
export function isCandidate(rec: PeerRecord): boolean {
  return rec.state === "alive" && !(rec.warming && rec.joinedLate);
}
