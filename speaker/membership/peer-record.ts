/**
 * What the membership knows of one peer, and how a heartbeat that passed the wire checks updates it: which
 * incarnation is current, whether the datagram is news, and whether the peer may be elected (membership.ts states
 * the contract).
 */
import { seqAfter, type Heartbeat } from "./datagram.js";
import type { PeerState } from "./membership-options.js";
import type { TimerHandle } from "../../src/runtime/index.js";

/** Earlier incarnations remembered per peer, so replayed datagrams of a previous life are not a "restart". */
const RETIRED_INCARNATIONS = 4;

export interface PeerRecord {
  readonly ip: string;
  state: PeerState;
  incarnation: string | undefined;
  seq: number;
  lastHeard: number;
  deadline: TimerHandle | undefined;
  /** The current incarnation's last heartbeat said it is warming. */
  warming: boolean;
  /** The current incarnation was first heard after we had settled (a restart or a join while we ran). */
  joinedLate: boolean;
  readonly retired: string[];
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
    retired: [],
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

/**
 * Records `hb` in `rec` unless it is old (reordered, replayed, or from a retired incarnation). `settled`: whether
 * our own membership had settled, which makes a newly heard incarnation a late joiner. State and deadline are the
 * caller's.
 */
export function observeHeartbeat(rec: PeerRecord, hb: Heartbeat, settled: boolean): Observation {
  let restarted = false;
  let flipped = false;
  if (hb.incarnation === rec.incarnation) {
    if (!seqAfter(hb.seq, rec.seq)) return { news: false };
    flipped = rec.warming !== hb.warming;
  } else {
    if (rec.retired.includes(hb.incarnation)) return { news: false };
    if (rec.incarnation !== undefined) {
      rec.retired.push(rec.incarnation);
      if (rec.retired.length > RETIRED_INCARNATIONS) rec.retired.shift();
      restarted = true;
    }
    rec.incarnation = hb.incarnation;
    rec.joinedLate = settled;
  }
  rec.seq = hb.seq;
  rec.warming = hb.warming;
  return { news: true, restarted, flipped };
}

/** Alive, and not a late joiner that is still warming. */
export function isCandidate(rec: PeerRecord): boolean {
  return rec.state === "alive" && !(rec.warming && rec.joinedLate);
}
