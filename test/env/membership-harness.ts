/**
 * Speaker memberships over real loopback UDP for the membership unit tests: three nodes on 127.0.0.1-3 sharing
 * one port, raw sockets that send hand-made (or replayed) datagrams from a chosen address, and listeners that
 * capture what a speaker sends to an address where no speaker runs. `stopAll()` (from afterEach) closes all of it.
 */
import dgram from "node:dgram";
import { pino, type Logger } from "pino";
import type { Clock } from "../../src/runtime/index.js";
import { SpeakerMembership, type DropReason, type PeerAddress } from "../../speaker/membership/index.js";

export const INTERVAL = 100;
export const TIMEOUT = 500;
export const PEERS: PeerAddress[] = [
  { node: "a", ip: "127.0.0.1" },
  { node: "b", ip: "127.0.0.2" },
  { node: "c", ip: "127.0.0.3" },
];

export const realDelay = (ms: number): Promise<void> => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function waitFor(cond: () => boolean, what: string, ms = 2000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await realDelay(2);
  }
}

export async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket("udp4");
  await new Promise<void>((resolve) => s.bind(0, "127.0.0.1", resolve));
  const { port } = s.address();
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

export function captureLog(): { logger: Logger; lines: Array<{ msg: string; level: number }> } {
  const lines: Array<{ msg: string; level: number }> = [];
  const logger = pino(
    { level: "info" },
    { write: (s: string) => void lines.push(JSON.parse(s) as { msg: string; level: number }) },
  );
  return { logger, lines };
}

export interface Made {
  readonly m: SpeakerMembership;
  changes(): number;
  /** Datagrams this membership dropped, by reason. */
  readonly drops: Map<DropReason, number>;
}

export interface MakeOptions {
  readonly clock?: Clock;
  readonly secret?: Uint8Array;
  readonly logger?: Logger;
  readonly peers?: PeerAddress[];
  readonly interval?: number;
  readonly timeout?: number;
  readonly maxClockSkewMs?: number;
  readonly onDrop?: (reason: DropReason) => void;
}

export type RawSender = (buf: Uint8Array, port: number, toIp?: string) => Promise<void>;

export class MembershipHarness {
  private readonly running: SpeakerMembership[] = [];
  private readonly sockets: dgram.Socket[] = [];

  /** A started membership for `node` (one of PEERS) with every PEER as its peer unless `peers` says otherwise. */
  async make(port: number, node: string, opts: MakeOptions = {}): Promise<Made> {
    let changes = 0;
    const drops = new Map<DropReason, number>();
    const ip = PEERS.find((p) => p.node === node)?.ip;
    if (!ip) throw new Error(`no test peer ${node}`);
    const m = new SpeakerMembership({
      nodeName: node,
      bindAddress: ip,
      port,
      intervalMs: opts.interval ?? INTERVAL,
      timeoutMs: opts.timeout ?? TIMEOUT,
      secret: opts.secret,
      maxClockSkewMs: opts.maxClockSkewMs,
      clock: opts.clock,
      logger: opts.logger ?? pino({ level: "silent" }),
      onChange: () => void changes++,
      onDrop: (reason) => {
        drops.set(reason, (drops.get(reason) ?? 0) + 1);
        opts.onDrop?.(reason);
      },
    });
    m.setPeers(opts.peers ?? PEERS);
    await m.start();
    this.running.push(m);
    return { m, changes: () => changes, drops };
  }

  /** A raw socket that sends hand-made datagrams from a chosen loopback address (to 127.0.0.1 unless told). */
  async rawFrom(ip: string): Promise<RawSender> {
    const s = await this.bound(ip, 0);
    return (buf, port, toIp = "127.0.0.1") =>
      new Promise<void>((resolve, reject) => s.send(buf, port, toIp, (err) => (err ? reject(err) : resolve())));
  }

  /** Records every datagram sent to `ip`:`port`, where no membership runs (yet): an eavesdropper's capture. */
  async listenAt(ip: string, port: number): Promise<{ readonly captured: Buffer[]; close(): Promise<void> }> {
    const s = await this.bound(ip, port);
    const captured: Buffer[] = [];
    s.on("message", (msg) => captured.push(Buffer.from(msg)));
    return {
      captured,
      close: () => new Promise<void>((resolve) => s.close(() => resolve())),
    };
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.running.splice(0).map((m) => m.stop({ leave: false })));
    for (const s of this.sockets.splice(0)) {
      try {
        s.close();
      } catch {
        // Already closed by its owner (listenAt's close).
      }
    }
  }

  private async bound(ip: string, port: number): Promise<dgram.Socket> {
    const s = dgram.createSocket("udp4");
    this.sockets.push(s);
    await new Promise<void>((resolve) => s.bind(port, ip, resolve));
    return s;
  }
}
