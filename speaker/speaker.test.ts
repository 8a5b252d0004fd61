import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { FakeCacheFactory } from "../test/fakes/fake-caches.js";
import { FakeClock } from "../test/fakes/fake-clock.js";
import { RecordingEvents } from "../test/fakes/recording-events.js";
import { newEndpointSlice, newNode, newService, tweakClass } from "../test/fixtures/services.js";
import { electAnnouncer, rankCandidates } from "./announcer-election.js";
import type { DataPlan, ProbeTarget } from "./data-plan.js";
import {
  type AnnouncerPort,
  type DataPathPort,
  type MemberState,
  type MembershipPort,
  type ProberPort,
  Speaker,
} from "./speaker.js";
import { SpeakerMetrics } from "./speaker-metrics.js";

const CLASS = "lb-operator.io/baremetal";
const VIP = "192.0.2.100";
const NODES = ["node-1", "node-2", "node-3"];
const ANNOUNCER = electAnnouncer(VIP, NODES)!;

class FakeMembership implements MembershipPort {
  peers: { node: string; ip: string }[] = [];
  states = new Map<string, MemberState>();
  isSettled = false;
  stopped = false;
  /** Alive peers that are not candidates (warming late joiners). */
  warming = new Set<string>();
  /** What was announced each time setReady was called. */
  readyCalls: (readonly string[])[] = [];
  constructor(
    private readonly self: string,
    private readonly announcer: FakeAnnouncer,
  ) {}
  async start(): Promise<void> {}
  setPeers(peers: readonly { node: string; ip: string }[]): void {
    this.peers = [...peers];
  }
  state(node: string): MemberState {
    return node === this.self ? "alive" : (this.states.get(node) ?? "unknown");
  }
  alive(): ReadonlySet<string> {
    return new Set([this.self, ...[...this.states].filter(([, s]) => s === "alive").map(([n]) => n)]);
  }
  candidates(): ReadonlySet<string> {
    return new Set([...this.alive()].filter((n) => !this.warming.has(n)));
  }
  setReady(): void {
    this.readyCalls.push(this.announcer.announced);
  }
  settled(): boolean {
    return this.isSettled;
  }
  async stop(): Promise<void> {
    this.stopped = true;
  }
}

class FakeProber implements ProberPort {
  targets: readonly ProbeTarget[] = [];
  setTargets(t: readonly ProbeTarget[]): void {
    this.targets = t;
  }
  isHealthy(): boolean {
    return true;
  }
  stop(): void {}
}

class FakeAnnouncer implements AnnouncerPort {
  announced: readonly string[] = [];
  stopped = false;
  start(): void {}
  setAnnounced(ips: readonly string[]): void {
    this.announced = [...ips];
  }
  async stop(): Promise<void> {
    this.stopped = true;
    this.announced = [];
  }
}

class FakeDataPath implements DataPathPort {
  plans: DataPlan[] = [];
  failNext = 0;
  removed = false;
  async apply(plan: DataPlan): Promise<void> {
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error("nft: Could not process rule");
    }
    this.plans.push(plan);
  }
  async remove(): Promise<void> {
    this.removed = true;
  }
  get last(): DataPlan | undefined {
    return this.plans.at(-1);
  }
}

const running: Speaker[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) await s.stop();
});

async function setup(nodeName = ANNOUNCER, announceOnly = false) {
  const caches = new FakeCacheFactory();
  for (const [i, n] of NODES.entries()) caches.nodeCache.seed(newNode(n, `192.0.2.${11 + i}`));
  caches.serviceCache.seed(
    newService("web", tweakClass(CLASS), (s) => void (s.status = { loadBalancer: { ingress: [{ ip: VIP }] } })),
  );
  caches.sliceCache.seed(
    newEndpointSlice("web", "web-1", [{ name: "http", port: 8080 }], [{ ip: "198.51.100.17", nodeName: "node-1" }]),
  );
  const announcer = new FakeAnnouncer();
  const parts = {
    caches,
    clock: new FakeClock(),
    membership: new FakeMembership(nodeName, announcer),
    prober: new FakeProber(),
    announcer,
    dataPath: new FakeDataPath(),
    events: new RecordingEvents(),
    metrics: new SpeakerMetrics(),
  };
  const speaker = new Speaker({
    ...parts,
    nodeName,
    classOptions: { loadBalancerClass: CLASS, isDefaultClass: false },
    announceOnly,
    logger: pino({ level: "silent" }),
    settleMs: 500,
  });
  running.push(speaker);
  await speaker.start();
  return { speaker, ...parts };
}

const settle = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};

describe("Speaker", () => {
  it("announces nothing until the membership settles, then takes its addresses with rules in place first", async () => {
    const t = await setup();
    await settle();
    expect(t.announcer.announced).toEqual([]);
    expect(t.dataPath.last).toEqual({ announced: [], rules: [] });
    expect(t.speaker.ready()).toBe(false);
    for (const n of NODES) t.membership.states.set(n, "alive");
    t.membership.isSettled = true;
    t.clock.advance(501);
    await settle();
    expect(t.announcer.announced).toEqual([VIP]);
    expect(t.dataPath.last?.rules.map((r) => `${r.vip}:${r.port}`)).toEqual([`${VIP}:80`]);
    expect(t.events.reasons("default/web")).toEqual(["nodeAssigned"]);
    expect(t.membership.peers.map((p) => p.node).sort()).toEqual(NODES.filter((n) => n !== ANNOUNCER));
    // kube-proxy's :10256 on the other two nodes; the announcer's own share goes to its pods, gated by readiness.
    expect(t.prober.targets).toHaveLength(2);
    expect(t.speaker.ready()).toBe(true);
  });

  it("withdraws when the Service goes away, and takes over when the announcer's speaker dies", async () => {
    const other = NODES.find((n) => n !== ANNOUNCER)!;
    const t = await setup(other);
    for (const n of NODES) t.membership.states.set(n, "alive");
    t.membership.isSettled = true;
    t.speaker.schedule();
    await settle();
    const shouldAnnounce = electAnnouncer(VIP, NODES) === other;
    expect(t.announcer.announced).toEqual(shouldAnnounce ? [VIP] : []);
    t.membership.states.set(ANNOUNCER, "dead");
    t.speaker.schedule();
    await settle();
    const next = electAnnouncer(
      VIP,
      NODES.filter((n) => n !== ANNOUNCER),
    );
    expect(t.announcer.announced).toEqual(next === other ? [VIP] : []);
    t.caches.serviceCache.remove(t.caches.serviceCache.get("web", "default")!);
    await settle();
    expect(t.announcer.announced).toEqual([]);
    expect(t.dataPath.last).toEqual({ announced: [], rules: [] });
  });

  it("keeps the old rules and retries when nftables fails, and tells its peers it is ready only once applied", async () => {
    const t = await setup();
    await settle();
    // An applied sync before the membership settled does not make us ready.
    expect(t.dataPath.plans).toHaveLength(1);
    expect(t.membership.readyCalls).toEqual([]);
    for (const n of NODES) t.membership.states.set(n, "alive");
    t.membership.isSettled = true;
    t.dataPath.failNext = 1;
    t.speaker.schedule();
    await settle();
    expect(t.announcer.announced).toEqual([]);
    expect(await t.metrics.registry.getSingleMetricAsString("lb_operator_speaker_sync_total")).toMatch(
      /outcome="error"} 1/,
    );
    expect(t.membership.readyCalls).toEqual([]);
    expect(t.speaker.ready()).toBe(false);
    t.clock.advance(1_000);
    await settle();
    expect(t.announcer.announced).toEqual([VIP]);
    // Rules and ARP first, then the ready heartbeat; once.
    expect(t.membership.readyCalls).toEqual([[VIP]]);
    expect(t.speaker.ready()).toBe(true);
    t.speaker.schedule();
    await settle();
    expect(t.membership.readyCalls).toHaveLength(1);
  });

  it("elects among candidates: a warming peer's addresses stay with the next in rank until it is ready", async () => {
    const runnerUp = rankCandidates(VIP, NODES)[1]!;
    const t = await setup(runnerUp);
    for (const n of NODES) t.membership.states.set(n, "alive");
    t.membership.warming.add(ANNOUNCER);
    t.membership.isSettled = true;
    t.speaker.schedule();
    await settle();
    expect(t.announcer.announced).toEqual([VIP]);
    t.membership.warming.clear();
    t.speaker.schedule();
    await settle();
    expect(t.announcer.announced).toEqual([]);
  });

  it("in announce-only mode answers ARP and programs nothing", async () => {
    const t = await setup(ANNOUNCER, true);
    for (const n of NODES) t.membership.states.set(n, "alive");
    t.membership.isSettled = true;
    t.speaker.schedule();
    await settle();
    expect(t.announcer.announced).toEqual([VIP]);
    expect(t.dataPath.plans).toEqual([]);
    expect(t.membership.readyCalls).toEqual([[VIP]]);
  });

  it("on stop stops answering, removes its rules and leaves the membership", async () => {
    const t = await setup();
    await running.pop()!.stop();
    expect(t.announcer.stopped).toBe(true);
    expect(t.dataPath.removed).toBe(true);
    expect(t.membership.stopped).toBe(true);
  });
});
