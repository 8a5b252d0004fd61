/**
 * Answers ARP for the service VIPs this node announces, MetalLB layer-2 style (MLB internal/layer2/arp.go,
 * announcer.go): the VIP is never put on an interface; a raw session per eligible interface answers who-has
 * requests for announced addresses with that interface's MAC, and a newly announced address is spammed with
 * gratuitous ARP so neighbours and switches move to this node at once (failover).
 *
 * Failure contract: an interface that errors or vanishes never takes the process down. Its session is closed
 * with a warning naming it, the others keep serving, and the periodic rescan reopens it if it comes back.
 */
import type { Logger } from "pino";
import { ARP_REQUEST, BROADCAST_MAC, buildArpReply, buildGratuitousArp, isIPv4, parseArpFrame } from "./arp-packet.js";
import { captureProcessOpener } from "./capture-process.js";
import { type ArpInterface, listArpInterfaces } from "./network-interfaces.js";
import { CaptureError, InvalidAnnounceAddressError, type OpenCapture, type PacketSession } from "./packet-session.js";
import { type Clock, type TimerHandle, systemClock } from "../../src/runtime/index.js";

export type ArpStatsEvent = "request" | "response" | "gratuitous";

export interface ArpResponderOptions {
  readonly logger: Logger;
  /** Allow-list of interface names; default every eligible interface (network-interfaces.ts). */
  readonly interfaces?: readonly string[];
  /** Names skipped when there is no allow-list; default MetalLB's exclusions (DEFAULT_EXCLUDED_INTERFACES). */
  readonly excludeInterfaces?: readonly RegExp[];
  /** How often interfaces are re-listed; MetalLB rescans every 10 s (MLB announcer.go). */
  readonly rescanIntervalMs?: number;
  /** Gratuitous ARP spacing; MetalLB spamLoop uses 1100 ms (MLB announcer.go, timing rationale MLB #172). */
  readonly garpIntervalMs?: number;
  /** How long a new address keeps being spammed; MetalLB: 5 s. */
  readonly garpDurationMs?: number;
  /** Opens the session for one interface; default libpcap in a child process with the filter "arp". */
  readonly openCapture?: OpenCapture;
  /** Lists eligible interfaces; default reads sysfs (tests inject a fixed list). */
  readonly listInterfaces?: () => Promise<readonly ArpInterface[]>;
  readonly clock?: Clock;
  /** Counts like MetalLB's metallb_layer2_{requests_received,responses_sent,gratuitous_sent} (MLB stats.go). */
  readonly onStats?: (event: ArpStatsEvent, iface: string) => void;
}

interface OpenSession {
  readonly iface: ArpInterface;
  readonly session: PacketSession;
  /** Set once the session is closed or failed, so late frames and errors are ignored. */
  closed: boolean;
}

interface GarpLoop {
  readonly startedAt: number;
  timer: TimerHandle | undefined;
}

export class ArpResponder {
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly openCapture: OpenCapture;
  private readonly listInterfaces: () => Promise<readonly ArpInterface[]>;
  private readonly rescanIntervalMs: number;
  private readonly garpIntervalMs: number;
  private readonly garpDurationMs: number;
  private readonly sessions = new Map<string, OpenSession>();
  private readonly closing = new Set<Promise<void>>();
  private readonly garpLoops = new Map<string, GarpLoop>();
  private announcedSet = new Set<string>();
  /** Address -> the only interfaces it is answered on (its pool's `interfaces`); absent: every session. */
  private onlyOn = new Map<string, ReadonlySet<string>>();
  private started = false;
  private stopped = false;
  private rescanTimer: TimerHandle | undefined;
  private scanning: Promise<void> = Promise.resolve();

  constructor(private readonly options: ArpResponderOptions) {
    this.log = options.logger;
    this.clock = options.clock ?? systemClock;
    this.openCapture = options.openCapture ?? captureProcessOpener({ filter: "arp" });
    this.listInterfaces =
      options.listInterfaces ??
      (() => listArpInterfaces({ allow: options.interfaces, exclude: options.excludeInterfaces }));
    this.rescanIntervalMs = options.rescanIntervalMs ?? 10_000;
    this.garpIntervalMs = options.garpIntervalMs ?? 1_100;
    this.garpDurationMs = options.garpDurationMs ?? 5_000;
  }

  /** Opens sessions on the eligible interfaces (asynchronously) and rescans every rescanIntervalMs. */
  start(): void {
    if (this.started) return;
    this.started = true;
    void this.rescan();
  }

  /**
   * Lists interfaces now and opens/closes sessions to match; serialized with the periodic rescan. Resolves
   * when done (never rejects: a failed listing is logged and the current sessions are kept).
   */
  rescan(): Promise<void> {
    this.scanning = this.scanning.then(() => this.scanOnce());
    return this.scanning;
  }

  /**
   * Answer for exactly `ips` from now on. Addresses new to the set get gratuitous ARP at once and then every
   * garpIntervalMs for garpDurationMs on every interface (MetalLB SetBalancer -> spamLoop); withdrawn ones
   * stop their loop and are not answered again. Throws InvalidAnnounceAddressError (changing nothing) when an
   * entry is not IPv4. `interfaces` limits an address to the named interfaces (MetalLB's L2Advertisement
   * `interfaces`, MLB api/v1beta1/l2advertisement_types.go): no answer and no GARP on the others.
   */
  setAnnounced(ips: readonly string[], interfaces?: ReadonlyMap<string, readonly string[]>): void {
    const invalid = ips.filter((ip) => !isIPv4(ip));
    if (invalid.length > 0) throw new InvalidAnnounceAddressError(invalid);
    this.onlyOn = new Map(
      [...(interfaces ?? [])].filter(([, names]) => names.length > 0).map(([ip, names]) => [ip, new Set(names)]),
    );
    const next = new Set(ips);
    const added = [...next].filter((ip) => !this.announcedSet.has(ip));
    const removed = [...this.announcedSet].filter((ip) => !next.has(ip));
    this.announcedSet = next;
    for (const ip of removed) this.stopGarpLoop(ip);
    if (added.length > 0 || removed.length > 0) {
      this.log.info({ added, removed, announced: this.announced() }, "ARP announcement set changed");
    }
    if (this.stopped) return;
    for (const ip of added) this.startGarpLoop(ip);
  }

  announced(): readonly string[] {
    return [...this.announcedSet].sort();
  }

  /** Interfaces with an open session, sorted. */
  interfacesInUse(): readonly string[] {
    return [...this.sessions.keys()].sort();
  }

  /** Stops answering, clears every timer and closes every session. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.rescanTimer !== undefined) this.clock.clearTimeout(this.rescanTimer);
    this.rescanTimer = undefined;
    for (const ip of [...this.garpLoops.keys()]) this.stopGarpLoop(ip);
    await this.scanning;
    for (const name of [...this.sessions.keys()]) this.closeSession(name);
    await Promise.all(this.closing);
  }

  private async scanOnce(): Promise<void> {
    if (this.stopped) return;
    if (this.rescanTimer !== undefined) this.clock.clearTimeout(this.rescanTimer);
    this.rescanTimer = undefined;
    try {
      const found = await this.listInterfaces();
      if (!this.stopped) this.reconcile(found);
    } catch (err) {
      this.log.warn({ err }, "listing network interfaces for ARP failed; keeping the current sessions");
    }
    if (!this.stopped && this.started) {
      this.rescanTimer = this.clock.setTimeout(() => void this.rescan(), this.rescanIntervalMs);
    }
  }

  private reconcile(found: readonly ArpInterface[]): void {
    const wanted = new Map(found.map((iface) => [iface.name, iface]));
    for (const [name, open] of this.sessions) {
      const now = wanted.get(name);
      if (now === undefined) {
        this.log.info({ iface: name }, "interface no longer eligible for ARP; closing its session");
        this.closeSession(name);
      } else if (now.ifindex !== open.iface.ifindex || now.mac !== open.iface.mac) {
        // Re-created under the same name, or its MAC changed: the old socket is bound to the old device.
        this.log.info(
          { iface: name, mac: now.mac, ifindex: now.ifindex },
          "interface changed; reopening its ARP session",
        );
        this.closeSession(name);
      }
    }
    for (const iface of found) {
      if (!this.sessions.has(iface.name)) this.openSession(iface);
    }
  }

  private openSession(iface: ArpInterface): void {
    let session: PacketSession;
    const entry: { current?: OpenSession } = {};
    try {
      session = this.openCapture(iface.name, {
        onFrame: (frame) => {
          if (entry.current !== undefined && !entry.current.closed) this.onFrame(entry.current, frame);
        },
        onError: (error) => {
          if (entry.current !== undefined) this.onSessionError(entry.current, error);
        },
      });
    } catch (err) {
      this.log.warn(
        { iface: iface.name, err },
        `cannot open ARP session on interface ${iface.name}; retrying on the next rescan`,
      );
      return;
    }
    const open: OpenSession = { iface, session, closed: false };
    entry.current = open;
    this.sessions.set(iface.name, open);
    this.log.info({ iface: iface.name, mac: iface.mac, ipv4: iface.ipv4 }, "answering ARP on interface");
    // A new interface (or one that came back) has neighbours with stale or no entries: one GARP round each.
    for (const ip of this.announced()) this.sendGratuitous(open, ip);
  }

  private onSessionError(open: OpenSession, error: CaptureError): void {
    if (open.closed) return;
    this.log.warn(
      { iface: open.iface.name, err: error },
      `ARP session on interface ${open.iface.name} failed; closing it and retrying on the next rescan`,
    );
    if (this.sessions.get(open.iface.name) === open) this.closeSession(open.iface.name);
  }

  private closeSession(name: string): void {
    const open = this.sessions.get(name);
    if (open === undefined) return;
    this.sessions.delete(name);
    open.closed = true;
    const closing = open.session
      .close()
      .catch((err: unknown) => this.log.warn({ iface: name, err }, `closing the ARP session on ${name} failed`))
      .finally(() => this.closing.delete(closing));
    this.closing.add(closing);
  }

  /**
   * MetalLB's filter (MLB internal/layer2/arp.go processRequest): requests only, Ethernet destination
   * broadcast or our MAC, target an announced address. Frames we sent ourselves come back through the
   * capture (libpcap sees outgoing packets) and are dropped, or our own GARP request would be answered.
   */
  private onFrame(open: OpenSession, frame: Buffer): void {
    const arp = parseArpFrame(frame);
    if (arp === undefined || arp.operation !== ARP_REQUEST) return;
    const mac = open.iface.mac;
    if (arp.ethernetSource === mac || arp.senderMac === mac) return;
    if (arp.ethernetDestination !== BROADCAST_MAC && arp.ethernetDestination !== mac) return;
    if (!this.announcedSet.has(arp.targetIp) || !this.answersOn(arp.targetIp, open)) return;
    const iface = open.iface.name;
    this.options.onStats?.("request", iface);
    this.log.debug(
      { iface, ip: arp.targetIp, senderIp: arp.senderIp, senderMac: arp.senderMac, responseMac: mac },
      "got ARP request for an announced address, sending response",
    );
    if (this.sendOn(open, buildArpReply(arp, mac))) this.options.onStats?.("response", iface);
  }

  private startGarpLoop(ip: string): void {
    const loop: GarpLoop = { startedAt: this.clock.now(), timer: undefined };
    this.garpLoops.set(ip, loop);
    this.garpRound(ip, loop);
  }

  /** MetalLB spamLoop: a round now, then every interval while less than the duration has passed. */
  private garpRound(ip: string, loop: GarpLoop): void {
    loop.timer = undefined;
    if (this.garpLoops.get(ip) !== loop || !this.announcedSet.has(ip)) return;
    for (const open of [...this.sessions.values()]) this.sendGratuitous(open, ip);
    if (this.clock.now() + this.garpIntervalMs - loop.startedAt < this.garpDurationMs) {
      loop.timer = this.clock.setTimeout(() => this.garpRound(ip, loop), this.garpIntervalMs);
    } else {
      this.garpLoops.delete(ip);
    }
  }

  private answersOn(ip: string, open: OpenSession): boolean {
    const only = this.onlyOn.get(ip);
    return only === undefined || only.has(open.iface.name);
  }

  private stopGarpLoop(ip: string): void {
    const loop = this.garpLoops.get(ip);
    if (loop === undefined) return;
    if (loop.timer !== undefined) this.clock.clearTimeout(loop.timer);
    this.garpLoops.delete(ip);
  }

  private sendGratuitous(open: OpenSession, ip: string): void {
    if (!this.answersOn(ip, open)) return;
    const [request, reply] = buildGratuitousArp(open.iface.mac, ip);
    if (this.sendOn(open, request) && this.sendOn(open, reply)) this.options.onStats?.("gratuitous", open.iface.name);
  }

  /** Sends one frame; a failure closes that session (with a warning) and returns false. */
  private sendOn(open: OpenSession, frame: Buffer): boolean {
    if (open.closed) return false;
    try {
      open.session.send(frame);
      return true;
    } catch (err) {
      const error =
        err instanceof CaptureError ? err : new CaptureError(open.iface.name, "send failed", { cause: err });
      this.onSessionError(open, error);
      return false;
    }
  }
}
