/**
 * What one speaker programs on its node: the addresses it answers ARP for and the forwarding rules behind them.
 * Derived purely from the cluster (Services, EndpointSlices, Nodes), the live speakers and the probe results
 * (desired-data-plan.ts); applied by the ARP responder (arp/) and the nftables writer (nft/). Everything is
 * plain data so a plan can be compared, logged and rendered without I/O.
 *
 * The speaker shares its node with kube-proxy (DESIGN.md, "Bare metal"), and that shapes the contract below: a rule
 * never DNATs to this node's own `nodeIP:nodePort`. Since v1.24 (kubernetes/kubernetes#108496) kube-proxy holds no
 * socket there; a NodePort is a DNAT rule in kube-proxy's nat prerouting chain, and once our DNAT has bound the
 * connection the kernel skips the other nat chains of that hook (nf_nat_inet_fn, net/netfilter/nf_nat_core.c), so
 * the client would be reset. Lab measurement beside a real kube-proxy v1.36.3 with such a rule: Local 0/30
 * answered (nftables and iptables modes), Cluster 38/60 (nftables; the 22 refused were exactly the connections
 * DNATed to the announcer's own NodePort, per conntrack) and 40/60 (iptables); with the announcer's own share sent
 * to its local pods instead, 30/30 and 60/60. So traffic this node keeps goes to its ready local pods; NodePorts
 * are used on other nodes only.
 */

export type L4Protocol = "TCP" | "UDP";

/**
 * An address and port traffic is DNATed to: another node's `nodeIP:nodePort`, or a pod's `podIP:targetPort`
 * (pod mode, and this node's own pods in nodePort mode). Never this node's own NodePort (see the file header).
 */
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
   * Whatever this says, a connection DNATed to its own source (a pod reaching itself through the VIP: hairpin) is
   * masqueraded, as kube-proxy does; otherwise the pod would get a packet from its own address and never answer
   * back through us.
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
 * connection opens. nodePort mode probes this node's `healthCheckNodePort/healthz` (Local) or each other node's
 * kube-proxy `:10256/healthz` (Cluster); pod mode connects to each pod's TCP target port. UDP ports, and this
 * node's own pods in nodePort Cluster, have no probe: their health is EndpointSlice readiness, as for kube-proxy
 * (a TCP connect says nothing about a UDP server, and would fail a healthy UDP-only pod).
 */
export type ProbeTarget =
  | { readonly kind: "http"; readonly ip: string; readonly port: number; readonly path: string }
  | { readonly kind: "tcp"; readonly ip: string; readonly port: number };
