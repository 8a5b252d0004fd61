/**
 * Which NodePorts the other nodes' kube-proxies have had time to program. A NodePort exists on another node only
 * once its kube-proxy has synced (at most once per --min-sync-period, 1 s by default in both the nftables and the
 * iptables proxier, plus the time to write the rules). Until then nothing answers there: a connection we DNAT to
 * it is refused, which `npm run lab` showed as a new Service answering 1 request in 6 in its first second.
 *
 * So a NodePort the speaker sees appear while it runs counts as settled only SETTLE_MS later; one that already
 * existed when the speaker started (a restart, a failover) is settled at once. Keys name the Service too
 * (uid/protocol/nodePort), since a freed NodePort can be allocated to another Service.
 */

/** kube-proxy's default minSyncPeriod (1 s) plus the time to program it. */
export const NODE_PORT_SETTLE_MS = 2_000;

export const nodePortKey = (uid: string, protocol: string, nodePort: number): string =>
  `${uid}/${protocol}/${nodePort}`;

export interface SettlingView {
  readonly settled: ReadonlySet<string>;
  /** When the next unsettled key settles (epoch ms), for a re-plan then; undefined when none is pending. */
  readonly nextAt: number | undefined;
}

export class NodePortSettling {
  private readonly firstSeen = new Map<string, number>();
  private started = false;

  constructor(private readonly settleMs: number = NODE_PORT_SETTLE_MS) {}

  /** Records the NodePorts present now; forgets those gone. */
  observe(keys: Iterable<string>, now: number): SettlingView {
    const present = new Set(keys);
    for (const key of this.firstSeen.keys()) if (!present.has(key)) this.firstSeen.delete(key);
    for (const key of present)
      if (!this.firstSeen.has(key)) this.firstSeen.set(key, this.started ? now : Number.NEGATIVE_INFINITY);
    this.started = true;
    const settled = new Set<string>();
    let nextAt: number | undefined;
    for (const [key, seen] of this.firstSeen) {
      const at = seen + this.settleMs;
      if (at <= now) settled.add(key);
      else nextAt = Math.min(nextAt ?? at, at);
    }
    return { settled, nextAt };
  }
}
