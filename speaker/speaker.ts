/**
 * The speaker's control loop: every change (Service, EndpointSlice, Node, a speaker appearing or dying, a probe
 * flipping) schedules one coalesced sync that recomputes the whole plan (desired-data-plan.ts, pure) and applies it:
 * nftables first, then ARP, so a client that learns our MAC finds the rules already in place.
 *
 * The parts are narrow ports, in the spirit of MetalLB's speaker (announcer, speakerlist, k8s client are separate),
 * so the loop is tested with fakes and each part with the real kernel.
 */
import type { V1EndpointSlice, V1Node, V1Service } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { internalIPv4 } from "./announcer-election.js";
import { type DataPlan, EMPTY_PLAN, type ProbeTarget } from "./data-plan.js";
import { type SpeakerDecision, decideDataPlan, nodePortKeys } from "./desired-data-plan.js";
import { NodePortSettling } from "./node-port-settling.js";
import { clearPlan, reportPlan } from "./plan-metrics.js";
import type { PlacementOf } from "./pool-placement.js";
import type { SpeakerMetrics } from "./speaker-metrics.js";
import type { Cache, CacheFactory, Clock, EventRecorder, TimerHandle } from "../src/runtime/index.js";
import { errorMessage } from "../src/toolkit/index.js";
import type { ClassOptions } from "../src/model/index.js";

export type MemberState = "alive" | "dead" | "unknown";

export interface MembershipPort {
  start(): Promise<void>;
  setPeers(peers: readonly { readonly node: string; readonly ip: string }[]): void;
  state(node: string): MemberState;
  alive(): ReadonlySet<string>;
  /**
   * Who may be elected: alive() less peers that restarted or joined while we ran and are not ready yet (they
   * would win addresses they cannot serve; the current announcer keeps them until they are).
   */
  candidates(): ReadonlySet<string>;
  /** Tells peers we have settled and programmed our data path once: they may elect us from now on. */
  setReady(): void;
  /** False until the peer timeout has passed once since start: before that we have not heard everyone. */
  settled(): boolean;
  stop(): Promise<void>;
}

export interface ProberPort {
  setTargets(targets: readonly ProbeTarget[]): void;
  isHealthy(target: ProbeTarget): boolean;
  stop(): void;
}

export interface AnnouncerPort {
  start(): void;
  /** `interfaces`: addresses answered on the listed interfaces only (their pool's `interfaces`). */
  setAnnounced(ips: readonly string[], interfaces?: ReadonlyMap<string, readonly string[]>): void;
  stop(): Promise<void>;
}

export interface DataPathPort {
  /**
   * Atomically replaces everything this speaker programmed with `plan`. May skip an unchanged plan unless
   * `force` (the periodic resync: someone may have flushed the ruleset under us).
   */
  apply(plan: DataPlan, options?: { force?: boolean }): Promise<void>;
  /** Idempotent. */
  remove(): Promise<void>;
}

export interface SpeakerOptions {
  readonly nodeName: string;
  readonly classOptions: ClassOptions;
  /** MetalLB-compatible: answer ARP only; kube-proxy forwards. No data path is programmed. */
  readonly announceOnly: boolean;
  readonly caches: CacheFactory;
  readonly membership: MembershipPort;
  readonly prober: ProberPort;
  readonly announcer: AnnouncerPort;
  readonly dataPath: DataPathPort;
  readonly events: EventRecorder;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly metrics: SpeakerMetrics;
  /** How long after start the membership settles (its peer timeout); a sync is scheduled then. */
  readonly settleMs: number;
  /** The pool placement of an address (pool-placement.ts: node selectors, interfaces); absent: no limits. */
  readonly placement?: PlacementOf;
  /** Retry delay after a failed apply. Default 1 s. */
  readonly retryMs?: number;
  /** Re-apply the data path unconditionally this often, repairing rules removed behind our back. Default 30 s. */
  readonly resyncMs?: number;
}

export class Speaker {
  private readonly services: Cache<V1Service>;
  private readonly endpointSlices: Cache<V1EndpointSlice>;
  private readonly nodes: Cache<V1Node>;
  private readonly log: Logger;
  private synced = false;
  /** A sync with a settled membership has been applied (programmed, announced) once; peers were told. */
  private serving = false;
  private stopped = false;
  private pending = false;
  private loop: Promise<void> | undefined;
  private timers = new Set<TimerHandle>();
  private applied: DataPlan = EMPTY_PLAN;
  private reported = new Set<string>();
  private forceNext = false;
  private readonly nodePorts = new NodePortSettling();

  constructor(private readonly options: SpeakerOptions) {
    const handlers = { onAdd: () => this.schedule(), onUpdate: () => this.schedule(), onDelete: () => this.schedule() };
    this.services = options.caches.services(handlers);
    this.endpointSlices = options.caches.endpointSlices(handlers);
    this.nodes = options.caches.nodes(handlers);
    this.log = options.logger.child({ component: "speaker", node: options.nodeName });
  }

  /** Resolves once the caches have listed and the first sync is scheduled; the loop then runs on its own. */
  async start(): Promise<void> {
    await Promise.all([this.services.start(), this.endpointSlices.start(), this.nodes.start()]);
    await this.options.membership.start();
    this.options.announcer.start();
    this.synced = true;
    this.after(this.options.settleMs + 1, () => this.schedule());
    this.schedule();
    this.resyncLoop();
  }

  private resyncLoop(): void {
    this.after(this.options.resyncMs ?? 30_000, () => {
      this.forceNext = true;
      this.schedule();
      this.resyncLoop();
    });
  }

  /** Ready (readiness probe, and what peers are told) once a sync with a settled membership has been applied. */
  ready(): boolean {
    return this.serving;
  }

  /** Stops answering and removes our rules (withdrawal on shutdown), then tells peers we are leaving. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) this.options.clock.clearTimeout(t);
    this.timers.clear();
    await this.loop;
    await this.options.announcer.stop();
    try {
      await this.options.dataPath.remove();
    } catch (err) {
      this.log.error({ err }, "could not remove the data path on shutdown");
    }
    await this.options.membership.stop();
    this.options.prober.stop();
    await Promise.all([this.services.stop(), this.endpointSlices.stop(), this.nodes.stop()]);
    clearPlan(this.options.metrics);
  }

  /** Coalesces: any number of calls while a sync runs cause exactly one more sync. */
  schedule(): void {
    if (this.stopped || !this.synced) return;
    this.pending = true;
    if (this.loop) return;
    this.loop = (async () => {
      while (this.pending && !this.stopped) {
        this.pending = false;
        await this.syncOnce();
      }
      this.loop = undefined;
    })();
  }

  private async syncOnce(): Promise<void> {
    const { membership, prober, dataPath, metrics } = this.options;
    const nodes = this.nodes.list();
    membership.setPeers(
      nodes.flatMap((n) => {
        const name = n.metadata?.name;
        const ip = internalIPv4(n);
        return name && ip && name !== this.options.nodeName ? [{ node: name, ip }] : [];
      }),
    );
    const settled = membership.settled();
    const dead = new Set(
      nodes.flatMap((n) => (n.metadata?.name && membership.state(n.metadata.name) === "dead" ? [n.metadata.name] : [])),
    );
    const services = this.services.list();
    const now = this.options.clock.now();
    const nodePorts = this.nodePorts.observe(nodePortKeys(services, this.options.classOptions), now);
    if (nodePorts.nextAt !== undefined) this.after(Math.max(0, nodePorts.nextAt - now), () => this.schedule());
    const decision = decideDataPlan({
      nodeName: this.options.nodeName,
      services,
      endpointSlices: this.endpointSlices.list(),
      nodes,
      // Before the membership settles we have not heard our peers: announcing now could steal an address
      // from a live announcer, so nobody is a candidate yet.
      liveSpeakers: settled ? membership.candidates() : new Set(),
      deadSpeakers: dead,
      classOptions: this.options.classOptions,
      announceOnly: this.options.announceOnly,
      isHealthy: (t) => prober.isHealthy(t),
      settledNodePorts: nodePorts.settled,
      placement: this.options.placement,
    });
    metrics.livePeers.set(membership.alive().size);
    prober.setTargets(decision.probes);
    this.report(decision);
    try {
      const force = this.forceNext;
      this.forceNext = false;
      if (!this.options.announceOnly) await dataPath.apply(decision.plan, { force });
      metrics.syncTotal.inc({ outcome: "applied" });
    } catch (err) {
      // The previous rules stay in place (apply is atomic), so traffic keeps flowing as before; keep announcing
      // what we announced and try again.
      metrics.syncTotal.inc({ outcome: "error" });
      this.log.error({ err }, `could not program the data path: ${errorMessage(err)}; retrying`);
      this.after(this.options.retryMs ?? 1_000, () => this.schedule());
      return;
    }
    this.announce(decision);
    if (settled && !this.serving) {
      // Only now can we serve what we win: peers that held our addresses while we warmed up hand them over on
      // the heartbeat this sends, after our rules and GARPs are out (a brief overlap where both forward).
      this.serving = true;
      membership.setReady();
    }
  }

  private announce(decision: SpeakerDecision): void {
    const before = new Set(this.applied.announced);
    const now = new Set(decision.plan.announced);
    for (const ip of now) {
      if (before.has(ip)) continue;
      this.options.metrics.takeoversTotal.inc();
      this.log.info({ address: ip }, "announcing");
      for (const svc of this.servicesOn(ip)) {
        this.options.events.record(
          svc,
          "Normal",
          "nodeAssigned",
          `announcing from node "${this.options.nodeName}" with protocol "layer2"`,
        );
      }
    }
    for (const ip of before) {
      if (!now.has(ip)) this.log.info({ address: ip, announcer: decision.announcers.get(ip) ?? null }, "withdrawn");
    }
    this.options.announcer.setAnnounced(decision.plan.announced, decision.interfaces);
    this.applied = decision.plan;
    reportPlan(this.options.metrics, this.options.nodeName, decision.plan, decision.owners);
  }

  /** Logs and records each problem once while it lasts (it returns after it went away and came back). */
  private report(decision: SpeakerDecision): void {
    const current = new Set<string>();
    for (const s of decision.skipped) {
      const key = `${s.service}\u0000${s.reason}`;
      current.add(key);
      if (this.reported.has(key)) continue;
      if (s.kind === "invalid") {
        this.log.debug({ service: s.service }, `not announced: ${s.reason}`);
        continue;
      }
      if (s.kind === "unsupported") {
        this.log.warn({ service: s.service }, s.reason);
        continue;
      }
      this.log.warn({ service: s.service }, s.reason);
      const [namespace, name] = s.service.split("/");
      const svc = name === undefined ? undefined : this.services.get(name, namespace);
      if (svc) this.options.events.record(svc, "Warning", "ForwardingSkipped", s.reason);
    }
    this.reported = current;
  }

  private servicesOn(ip: string): V1Service[] {
    return this.services.list().filter((s) => (s.status?.loadBalancer?.ingress ?? []).some((i) => i.ip === ip));
  }

  private after(ms: number, fn: () => void): void {
    const handle = this.options.clock.setTimeout(() => {
      this.timers.delete(handle);
      fn();
    }, ms);
    handle.unref?.();
    this.timers.add(handle);
  }
}
