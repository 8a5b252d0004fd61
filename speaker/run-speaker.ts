/**
 * `lb-operator speaker`: wires the real parts (informers, UDP membership, probes, libpcap ARP, nftables) into the
 * Speaker loop and runs it until the signal aborts. Runs on every node: host network, NET_ADMIN + NET_RAW.
 */
import { readFile } from "node:fs/promises";
import type { Logger } from "pino";
import { ArpResponder } from "./arp/index.js";
import { HealthProber } from "./health/index.js";
import { SpeakerMembership, loadHeartbeatKey } from "./membership/index.js";
import { NftTable } from "./nft/index.js";
import { Speaker } from "./speaker.js";
import { SpeakerMetrics } from "./speaker-metrics.js";
import type { PlacementOf, PlacementSource } from "./pool-placement.js";
import { type Clock, KubeEventRecorder, KubeRest, kubeCacheFactory, startHttpServer } from "../src/runtime/index.js";
import type { ClassOptions } from "../src/model/index.js";
import type { KubeConfigData } from "../src/runtime/index.js";

export interface SpeakerConfig {
  readonly nodeName: string;
  readonly classOptions: ClassOptions;
  readonly announceOnly: boolean;
  /** ARP is answered on these interfaces only; empty: every eligible interface (MetalLB's default). */
  readonly interfaces: readonly string[];
  readonly heartbeatPort: number;
  readonly heartbeatIntervalMs: number;
  readonly peerTimeoutMs: number;
  /** The shared heartbeat key; undefined only when the user chose --insecure-unsigned-heartbeats. */
  readonly heartbeatSecretFile: string | undefined;
  readonly heartbeatMaxClockSkewMs: number;
  readonly probeIntervalMs: number;
  readonly probeTimeoutMs: number;
  readonly nftTable: string;
  readonly metricsHost: string;
  readonly metricsPort: number;
  /** Pool sources for placement, as the controller's `--address-pool` and `--address-pool-file`. */
  readonly addressPools?: readonly string[];
  readonly addressPoolFile?: string | undefined;
  /** Reads those sources (the bare-metal plugin's); absent: no placement limits. */
  readonly placementSource?: PlacementSource | undefined;
}

export interface SpeakerRuntime {
  readonly kubeConfig: KubeConfigData;
  readonly logger: Logger;
  readonly clock: Clock;
}

export async function runSpeaker(config: SpeakerConfig, runtime: SpeakerRuntime, signal: AbortSignal): Promise<void> {
  const { logger } = runtime;
  // First: a missing or short key stops the speaker before it binds or announces anything.
  const secret =
    config.heartbeatSecretFile === undefined ? undefined : await loadHeartbeatKey(config.heartbeatSecretFile);
  if (!secret) logger.warn("heartbeats are unsigned (--insecure-unsigned-heartbeats): anyone can forge them");
  const metrics = new SpeakerMetrics();
  await warnIfNotForwarding(config, logger);
  // The speaker is built after the pools load, and the pools report changes to it: bind late.
  const wake = { speaker: undefined as Speaker | undefined };
  const placement = await config.placementSource?.({
    flags: config.addressPools ?? [],
    file: config.addressPoolFile,
    kubeConfig: runtime.kubeConfig,
    logger,
    clock: runtime.clock,
    signal,
    onChange: () => wake.speaker?.schedule(),
  });
  const s = buildSpeaker(config, runtime, metrics, secret, placement);
  wake.speaker = s;
  const server = await startHttpServer({
    host: config.metricsHost,
    port: config.metricsPort,
    registry: metrics.registry,
    health: { live: () => true, ready: () => s.ready() },
  });
  try {
    logger.info(
      { node: config.nodeName, announceOnly: config.announceOnly, class: config.classOptions },
      "speaker starting",
    );
    await s.start();
    logger.info("speaker running");
    await new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      else signal.addEventListener("abort", () => resolve(), { once: true });
    });
  } finally {
    await s.stop();
    server.close();
    logger.info("speaker stopped: rules removed, addresses withdrawn");
  }
}

/** The Speaker over the real parts (not started). */
function buildSpeaker(
  config: SpeakerConfig,
  runtime: SpeakerRuntime,
  metrics: SpeakerMetrics,
  secret: Uint8Array | undefined,
  placement: PlacementOf | undefined,
): Speaker {
  const { kubeConfig, logger, clock } = runtime;
  // The parts below report changes to the speaker, which is built from them: bind late.
  const wake = { speaker: undefined as Speaker | undefined };
  const schedule = (): void => wake.speaker?.schedule();
  const membership = new SpeakerMembership({
    nodeName: config.nodeName,
    bindAddress: "0.0.0.0",
    port: config.heartbeatPort,
    intervalMs: config.heartbeatIntervalMs,
    timeoutMs: config.peerTimeoutMs,
    secret,
    maxClockSkewMs: config.heartbeatMaxClockSkewMs,
    clock,
    logger,
    onChange: schedule,
    onDrop: (reason) => metrics.heartbeatsDroppedTotal.inc({ reason }),
  });
  const prober = new HealthProber({
    intervalMs: config.probeIntervalMs,
    timeoutMs: config.probeTimeoutMs,
    logger,
    onChange: schedule,
  });
  const announcer = new ArpResponder({
    logger,
    interfaces: config.interfaces.length > 0 ? config.interfaces : undefined,
    onStats: (kind, iface) => metrics.arpTotal.inc({ kind, interface: iface }),
  });
  const dataPath = new NftTable({ table: config.nftTable, logger, onApply: (r) => metrics.observeNftApply(r) });
  const s = new Speaker({
    nodeName: config.nodeName,
    classOptions: config.classOptions,
    announceOnly: config.announceOnly,
    caches: kubeCacheFactory({ kubeConfig, logger, clock, metrics }),
    membership,
    prober,
    announcer,
    dataPath,
    events: speakerEvents(runtime, config.nodeName),
    logger,
    clock,
    metrics,
    settleMs: config.peerTimeoutMs,
    placement,
  });
  wake.speaker = s;
  return s;
}

function speakerEvents({ kubeConfig, clock, logger }: SpeakerRuntime, nodeName: string): KubeEventRecorder {
  return new KubeEventRecorder({
    rest: new KubeRest(kubeConfig),
    clock,
    logger,
    component: "lb-operator-speaker",
    instance: nodeName,
  });
}

/** Cluster policy forwards to other nodes; without IPv4 forwarding the kernel drops those packets silently. */
async function warnIfNotForwarding(config: SpeakerConfig, logger: Logger): Promise<void> {
  if (config.announceOnly) return;
  const value = await readFile("/proc/sys/net/ipv4/ip_forward", "utf8").catch(() => undefined);
  if (value?.trim() === "0") {
    logger.warn(
      "net.ipv4.ip_forward is 0: traffic for externalTrafficPolicy Cluster cannot be forwarded to other nodes",
    );
  }
}
