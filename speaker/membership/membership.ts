/**
 * Direct speaker-to-speaker heartbeats over UDP, so a dead announcer is noticed in about `timeoutMs` instead of
 * a Lease duration. MetalLB moved from the Kubernetes API to memberlist for the same reason (MLB #298: minutes;
 * MLB PR #527: "failover around 3s"); we skip gossip and send to every peer directly, because the peer list is
 * known (the Node list) and clusters that use L2 announcement are small.
 *
 * Contract:
 * - Only datagrams naming a node in the peer list, sent from that peer's address, addressed to us, stamped within
 *   maxClockSkewMs of our clock and (with a key) correctly signed are accepted (inbound.ts), and of those only a
 *   peer's current or a higher incarnation with a sequence number not seen yet (peer-record.ts): a replayed datagram
 *   never retires a live incarnation. Anything else is dropped, counted through onDrop by reason and logged at a
 *   limited rate; nothing on the wire can throw.
 * - A peer is "alive" from its first accepted heartbeat until `timeoutMs` passes without one (a per-peer deadline
 *   timer, so detection takes ~timeoutMs, not timeoutMs plus a poll period) or it says it is leaving.
 * - Every incarnation (process start, numbered by the wall clock so later lives are larger) of a peer is told
 *   apart; a new one is reported through onChange even when the peer never looked dead, because a restarted
 *   speaker has lost its state (cf. MLB #584: a rejoining leader that sends no GARP leaves stale ARP caches).
 * - A speaker is "warming" from its start until its owner calls setReady() (it has settled and programmed its data
 *   path once), and says so in every heartbeat. candidates() leaves out a warming peer whose incarnation we first
 *   heard after we had settled ourselves: it restarted, or joined, while we were running, and whoever announces its
 *   addresses now should keep doing so until it can take them over. A warming peer heard during our own settle
 *   window (a cold start: everyone starts, and warms, together) stays a candidate, or every speaker would elect
 *   itself. A flip of a peer's warming flag is reported through onChange.
 * - onChange runs in a microtask after the change, never re-entrantly, coalescing bursts.
 */
import type dgram from "node:dgram";
import { canonicalIP } from "../../src/toolkit/index.js";
import { encodeHeartbeat, type Heartbeat } from "./datagram.js";
import type { DropReason } from "./drop-reasons.js";
import { DROP_MESSAGES, admitDatagram } from "./inbound.js";
import {
  DEFAULT_MAX_CLOCK_SKEW_MS,
  validateMembershipOptions,
  type MembershipOptions,
  type PeerAddress,
  type PeerState,
} from "./membership-options.js";
import { type PeerRecord, isCandidate, newPeerRecord, observeHeartbeat } from "./peer-record.js";
import { RateLimitedLog } from "./rate-limited-log.js";
import { bindUdpSocket, sendDatagram } from "./udp-socket.js";
import { type Clock, CoalescedNotifier, type TimerHandle, systemClock } from "../../src/runtime/index.js";
import { errorMessage } from "../../src/toolkit/index.js";

export type { MembershipOptions, PeerAddress, PeerState } from "./membership-options.js";

/** Drop-log period: one line per problem kind per this many ms. */
const LOG_PERIOD_MS = 30_000;
export class SpeakerMembership {
  private readonly clock: Clock;
  private readonly drops: RateLimitedLog;
  private readonly peers = new Map<string, PeerRecord>();
  /** Our wall-clock ms at construction: peers use it to recognise our restart, and to refuse an earlier life's. */
  readonly incarnation: number;
  private readonly maxClockSkewMs: number;
  private seq = 0;
  private warming = true;
  private socket: dgram.Socket | undefined;
  private startedAt: number | undefined;
  private stopped = false;
  private sendTimer: TimerHandle | undefined;
  private settleTimer: TimerHandle | undefined;
  private readonly changes: CoalescedNotifier;

  constructor(private readonly opts: MembershipOptions) {
    validateMembershipOptions(opts);
    this.clock = opts.clock ?? systemClock;
    this.incarnation = this.clock.now();
    this.maxClockSkewMs = opts.maxClockSkewMs ?? DEFAULT_MAX_CLOCK_SKEW_MS;
    this.drops = new RateLimitedLog(opts.logger, this.clock, LOG_PERIOD_MS);
    this.changes = new CoalescedNotifier(opts.onChange, opts.logger, "membership");
  }

  /** Binds the socket and starts sending at once. Rejects with MembershipBindError when the bind fails. */
  async start(): Promise<void> {
    if (this.socket) return;
    const socket = await bindUdpSocket(this.opts.bindAddress, this.opts.port);
    socket.on("error", (err) => this.drops.warn("socket", { err: errorMessage(err) }, "heartbeat socket error"));
    socket.on("message", (msg, rinfo) => this.receive(msg, rinfo.address));
    this.socket = socket;
    this.startedAt = this.clock.now();
    this.settleTimer = this.arm(() => this.changes.notify(), this.opts.timeoutMs);
    this.opts.logger.info(
      { port: this.opts.port, bindAddress: this.opts.bindAddress, incarnation: this.incarnation },
      "speaker membership started",
    );
    this.sendRound();
  }

  /**
   * Replaces the peer list (self is ignored). New peers start "unknown" and are sent a heartbeat at once; a peer
   * whose address changed starts over as a new peer.
   */
  setPeers(peers: readonly PeerAddress[]): void {
    const next = new Map<string, string>();
    for (const p of peers) {
      if (p.node === this.opts.nodeName) continue;
      const ip = canonicalIP(p.ip);
      if (ip === undefined) {
        this.drops.warn(`bad-peer:${p.node}`, { node: p.node, ip: p.ip }, "ignoring peer with an invalid address");
        continue;
      }
      next.set(p.node, ip);
    }
    let changed = false;
    for (const [node, rec] of this.peers) {
      if (next.get(node) === rec.ip) continue;
      if (rec.deadline) this.clock.clearTimeout(rec.deadline);
      if (rec.state !== "unknown") changed = true;
      this.peers.delete(node);
      this.drops.forget(`send:${node}`);
    }
    for (const [node, ip] of next) {
      if (this.peers.has(node)) continue;
      const rec = newPeerRecord(ip);
      this.peers.set(node, rec);
      if (this.socket && !this.stopped) void this.send(node, rec, false);
    }
    if (changed) this.changes.notify();
  }

  /** Self is always "alive"; a node never heard from (or not in the peer list) is "unknown". */
  state(node: string): PeerState {
    if (node === this.opts.nodeName) return "alive";
    return this.peers.get(node)?.state ?? "unknown";
  }

  /** The current incarnation of a peer (or ours for self), undefined when never heard. */
  incarnationOf(node: string): number | undefined {
    if (node === this.opts.nodeName) return this.incarnation;
    return this.peers.get(node)?.incarnation;
  }

  /** Self plus every alive peer. */
  alive(): ReadonlySet<string> {
    const out = new Set<string>([this.opts.nodeName]);
    for (const [node, rec] of this.peers) if (rec.state === "alive") out.add(node);
    return out;
  }

  /**
   * Who may be elected to announce: alive() less the warming peers that joined late (see the contract above). Self
   * is always in: our own warming is for our peers to judge, and we only announce after settling anyway.
   */
  candidates(): ReadonlySet<string> {
    const out = new Set<string>([this.opts.nodeName]);
    for (const [node, rec] of this.peers) if (isCandidate(rec)) out.add(node);
    return out;
  }

  /**
   * Ends our warming: heartbeats say ready from now on, and a round goes out at once so peers that were holding
   * our addresses for us hand them over without waiting for the next interval. Idempotent.
   */
  setReady(): void {
    if (!this.warming) return;
    this.warming = false;
    this.opts.logger.info("speaker membership ready: peers may elect us");
    if (!this.socket || this.stopped) return;
    if (this.sendTimer) this.clock.clearTimeout(this.sendTimer);
    this.sendRound();
  }

  /**
   * True once timeoutMs has passed since start (onChange fires then). Before that we may not have heard peers
   * that are alive, so a speaker must not take over their addresses.
   */
  settled(): boolean {
    return this.startedAt !== undefined && this.clock.now() - this.startedAt >= this.opts.timeoutMs;
  }

  /**
   * Stops sending and closes the socket. By default first tells every peer we are leaving, so they mark us dead
   * at once instead of after timeoutMs. `leave: false` goes silent as a crash would (tests, or a process that
   * is exiting on a fatal error and should not claim an orderly hand-over).
   */
  async stop(options: { readonly leave?: boolean } = {}): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.changes.stop();
    for (const t of [this.sendTimer, this.settleTimer]) if (t) this.clock.clearTimeout(t);
    for (const rec of this.peers.values()) if (rec.deadline) this.clock.clearTimeout(rec.deadline);
    const socket = this.socket;
    if (!socket) return;
    if (options.leave ?? true) await Promise.all([...this.peers].map(([node, rec]) => this.send(node, rec, true)));
    await new Promise<void>((resolve) => socket.close(() => resolve()));
    this.opts.logger.info({ leave: options.leave ?? true }, "speaker membership stopped");
  }

  private sendRound(): void {
    if (this.stopped) return;
    for (const [node, rec] of this.peers) void this.send(node, rec, false);
    this.sendTimer = this.arm(() => this.sendRound(), this.opts.intervalMs);
  }

  /** Resolves when the datagram has left (or failed to); never rejects. */
  private async send(node: string, rec: PeerRecord, leaving: boolean): Promise<void> {
    const socket = this.socket;
    if (!socket) return;
    this.seq = (this.seq + 1) >>> 0;
    const hb: Heartbeat = {
      node: this.opts.nodeName,
      incarnation: this.incarnation,
      seq: this.seq,
      leaving,
      warming: this.warming,
      sentAt: this.clock.now(),
      to: node,
    };
    const err = await sendDatagram(socket, encodeHeartbeat(hb, this.opts.secret), this.opts.port, rec.ip);
    // EHOSTUNREACH, ENETUNREACH, an interface gone: expected while a peer is down, so rate-limited.
    if (err) {
      this.drops.warn(`send:${node}`, { node, ip: rec.ip, err: errorMessage(err) }, "cannot send heartbeat to peer");
    }
  }

  private receive(msg: Buffer, source: string): void {
    if (this.stopped) return;
    const admitted = admitDatagram(msg, source, {
      nodeName: this.opts.nodeName,
      secret: this.opts.secret,
      now: this.clock.now(),
      maxClockSkewMs: this.maxClockSkewMs,
      peers: this.peers,
    });
    if (admitted.ok) this.accept(admitted.heartbeat, admitted.peer);
    else this.dropped(admitted.reason, admitted.fields);
  }

  private dropped(reason: DropReason, fields: Record<string, unknown>): void {
    this.opts.onDrop?.(reason);
    this.drops.warn(reason, { ...fields, reason }, DROP_MESSAGES[reason]);
  }

  private accept(hb: Heartbeat, rec: PeerRecord): void {
    const seen = observeHeartbeat(rec, hb, {
      now: this.clock.now(),
      settled: this.settled(),
      // Twice the skew: see peer-record.ts on a node whose clock stepped back between two lives.
      reclaimAfterMs: 2 * this.maxClockSkewMs,
    });
    if (!seen.news) {
      this.dropped("replayed", { node: hb.node, incarnation: hb.incarnation, seq: hb.seq });
      return;
    }
    if (seen.restarted) this.opts.logger.info({ node: hb.node, incarnation: hb.incarnation }, "peer speaker restarted");
    if (hb.leaving) {
      if (rec.deadline) this.clock.clearTimeout(rec.deadline);
      rec.deadline = undefined;
      this.transition(hb.node, rec, "dead", "leaving", seen.restarted);
      return;
    }
    rec.deadline ??= this.armDeadline(hb.node, rec, this.opts.timeoutMs);
    if (seen.flipped) this.opts.logger.info({ node: hb.node, warming: hb.warming }, "peer speaker readiness changed");
    // A flip changes who is a candidate (for a late joiner) even though the peer stays alive.
    this.transition(hb.node, rec, "alive", "heartbeat", seen.restarted || seen.flipped);
  }

  /**
   * The deadline is armed once and, when it fires, re-armed for whatever is left since the last heartbeat, so a
   * steady stream of heartbeats costs one timer per timeoutMs rather than one per datagram.
   */
  private armDeadline(node: string, rec: PeerRecord, delayMs: number): TimerHandle {
    return this.arm(() => {
      rec.deadline = undefined;
      if (this.stopped || this.peers.get(node) !== rec) return;
      const remaining = rec.lastHeard + this.opts.timeoutMs - this.clock.now();
      if (remaining > 0) {
        rec.deadline = this.armDeadline(node, rec, remaining);
        return;
      }
      this.transition(node, rec, "dead", "timeout", false);
    }, delayMs);
  }

  /** `notify`: report even without a state change (a restart, a readiness flip). */
  private transition(node: string, rec: PeerRecord, to: PeerState, reason: string, notify: boolean): void {
    if (rec.state === to && !notify) return;
    const from = rec.state;
    rec.state = to;
    if (from !== to) this.opts.logger.info({ node, from, to, reason }, "peer speaker state changed");
    this.changes.notify();
  }

  private arm(fn: () => void, ms: number): TimerHandle {
    const handle = this.clock.setTimeout(fn, ms);
    handle.unref?.();
    return handle;
  }
}
