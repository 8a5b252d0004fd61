/**
 * What one speaker programs on its node: the addresses it answers ARP for and the forwarding rules behind them.
 * Derived purely from the cluster (Services, EndpointSlices, Nodes), the live speakers and the probe results
 * (desired-data-plan.ts); applied by the ARP responder (arp/) and the nftables writer (nft/). Everything is
 * plain data so a plan can be compared, logged and rendered without I/O.
 */

export type L4Protocol = "TCP" | "UDP";

/** An address and port traffic is DNATed to: a node's NodePort, or a pod's target port in pod mode. */
export interface Destination {
  readonly ip: string;
  readonly port: number;
}

/** One `VIP:port/protocol` this node forwards. */
export interface ForwardingRule {
  /** IPv4 only for now: ARP and the `ip` nftables family. */
  readonly vip: string;
  readonly protocol: L4Protocol;
  readonly port: number;
  /**
   * Healthy destinations, sorted; traffic is spread across them. Empty means the Service has nowhere to go:
   * new connections are dropped rather than answered by this node.
   */
  readonly destinations: readonly Destination[];
  /** `sessionAffinity: ClientIP`: a client address always maps to the same destination while the set is unchanged. */
  readonly clientIPAffinity: boolean;
  /**
   * Source-NAT forwarded packets to this node's address. True for externalTrafficPolicy Cluster (the destination
   * may be another node, whose replies must come back through us); false for Local, where every destination is
   * on this node and the client address must reach the backend unchanged.
   */
  readonly masquerade: boolean;
  /** Normalised IPv4 CIDRs allowed to reach this rule; empty means everyone. Others are dropped. */
  readonly sourceRanges: readonly string[];
  /** `namespace/name` of the Service, for comments in the ruleset and logs. */
  readonly service: string;
}

export interface DataPlan {
  /** Addresses this node answers ARP for (sorted). */
  readonly announced: readonly string[];
  /** Rules for announced addresses only (sorted by vip, protocol, port). Empty in announce-only mode. */
  readonly rules: readonly ForwardingRule[];
}

export const EMPTY_PLAN: DataPlan = Object.freeze({ announced: Object.freeze([]), rules: Object.freeze([]) });

/**
 * A backend health check (health/): HTTP is healthy on 200 only (kube-proxy's /healthz semantics), TCP when a
 * connection opens. nodePort mode probes `healthCheckNodePort/healthz` (Local) or kube-proxy's `:10256/healthz`
 * (Cluster) on each node; pod mode connects to each pod's target port.
 */
export type ProbeTarget =
  | { readonly kind: "http"; readonly ip: string; readonly port: number; readonly path: string }
  | { readonly kind: "tcp"; readonly ip: string; readonly port: number };
