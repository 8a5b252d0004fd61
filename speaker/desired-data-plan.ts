/**
 * The speaker's pure core: cluster state + live speakers + probe results -> what this node announces and forwards.
 * No I/O; the same inputs give the same plan on every node, which is what keeps exactly one announcer per address.
 *
 * Per address (shared addresses merge the Services on them):
 * - candidates (MetalLB ShouldAnnounce, ../shared/reference/baremetal.md section 2): live speakers on eligible nodes
 *   with an InternalIP; the Service must have at least one serving endpoint; with externalTrafficPolicy Local only
 *   nodes with a local endpoint; for a shared address, the nodes every Service on it accepts;
 * - the announcer is the first candidate by sha256(node#address) (announcer-election.ts);
 * - on the announcer, one ForwardingRule per port (forwarding-backends.ts):
 *     nodePort mode, Cluster: every OTHER eligible node's NodePort whose kube-proxy `:10256/healthz` passes and whose
 *       speaker was not seen dying, plus this node's own serving endpoints as `podIP:targetPort`; masqueraded, so
 *       replies come back through us;
 *     nodePort mode, Local: this node's serving endpoints as `podIP:targetPort`, by EndpointSlice readiness; no
 *       masquerade, so the backend sees the client's address;
 *     pod mode: serving endpoints' target ports (Local: this node's only, unmasqueraded); TCP ports are probed
 *       with a TCP connect, UDP ports only by EndpointSlice readiness.
 *
 * Why the announcer never DNATs to its own `nodeIP:nodePort` (DESIGN.md, "Bare metal": traffic the announcer keeps
 * for itself goes to its ready local endpoints, as kube-proxy does for load-balancer traffic; NodePorts are reached
 * only on other nodes): since v1.24 (kubernetes/kubernetes#108496) kube-proxy holds no socket on a NodePort, which
 * is only a DNAT rule in its nat prerouting chain, and the kernel runs the nat chains of one hook only until one
 * binds a mapping (nf_nat_inet_fn, net/netfilter/nf_nat_core.c). After our DNAT to the own NodePort kube-proxy's rule
 * never runs and the client is reset (../shared/reference/nat-first-binding.sh reproduces it). Measured in the lab
 * beside a real kube-proxy v1.36.3 with the old table: Local answered 0/30 (nftables and iptables modes), Cluster
 * 38/60 (nftables; the 22 refused were exactly the connections DNATed to the announcer's own NodePort, per
 * conntrack) and 40/60 (iptables). Sending the announcer's own share straight to its local pods gave 30/30 and 60/60.
 * In Cluster the own pods and the other nodes weigh one destination each; kube-proxy on those nodes spreads on.
 *
 * Endpoint readiness follows kube-proxy (src/model/pod-endpoints.ts derivePodEndpoints): ready endpoints, the serving
 * (terminating) ones only when none is ready. A destination without a probe is judged by that readiness alone.
 */
import type { V1EndpointSlice, V1Node, V1Service } from "@kubernetes/client-node";
import { type ElectionNode, electAnnouncer, toElectionNode } from "./announcer-election.js";
import type { DataPlan, Destination, ForwardingRule, L4Protocol, ProbeTarget } from "./data-plan.js";
import { KUBE_PROXY_HEALTH_PORT, backendsFor, isIPv4 } from "./forwarding-backends.js";
import { nodePortKey } from "./node-port-settling.js";
import { probeKey } from "./health/probe-target.js";
import { type PlacementOf, nodeMayAnnounce } from "./pool-placement.js";
import type { LoadBalancerSpec, PodEndpoint } from "../src/index.js";
import { InvalidSpecError, errorMessage } from "../src/toolkit/index.js";
import { type ClassOptions, derivePodEndpoints, deriveSpec, isOurs } from "../src/model/index.js";

export { KUBE_PROXY_HEALTH_PORT };

export interface SpeakerInputs {
  readonly nodeName: string;
  readonly services: readonly V1Service[];
  readonly endpointSlices: readonly V1EndpointSlice[];
  readonly nodes: readonly V1Node[];
  /** Speakers heard recently, this one included. Only they may announce. */
  readonly liveSpeakers: ReadonlySet<string>;
  /** Speakers that were heard and then went silent: their nodes stop being nodePort destinations. */
  readonly deadSpeakers: ReadonlySet<string>;
  readonly classOptions: ClassOptions;
  /** MetalLB-compatible mode: announce only, forward nothing (kube-proxy does, ipMode VIP). */
  readonly announceOnly: boolean;
  readonly isHealthy: (target: ProbeTarget) => boolean;
  /** NodePorts other nodes' kube-proxies have had time to program (node-port-settling.ts); absent: all of them. */
  readonly settledNodePorts?: ReadonlySet<string>;
  /** The pool placement of an address (pool-placement.ts); absent, or undefined for an address: no limit. */
  readonly placement?: PlacementOf;
}

/** The NodePort keys (node-port-settling.ts) of every Service this speaker may forward, for NodePortSettling. */
export function nodePortKeys(services: readonly V1Service[], classOptions: ClassOptions): string[] {
  return services
    .filter((svc) => announceable(svc, classOptions))
    .flatMap((svc) =>
      (svc.spec?.ports ?? []).flatMap((p) =>
        p.nodePort ? [nodePortKey(svc.metadata?.uid ?? "", p.protocol ?? "TCP", p.nodePort)] : [],
      ),
    );
}

export interface SkippedService {
  readonly service: string;
  /**
   * "invalid": the Service cannot be derived at all (the controller reports it); "forwarding": the announcer cannot
   * forward part of it; "unsupported": an address this speaker cannot announce (IPv6: no NDP yet).
   */
  readonly kind: "invalid" | "forwarding" | "unsupported";
  readonly reason: string;
}

export interface SpeakerDecision {
  readonly plan: DataPlan;
  /**
   * What to keep probing: the probes gating the backends of every rule this node forwards (unfiltered by health).
   * Backends without a probe (UDP pods, this node's own pods in nodePort Cluster) are judged by readiness alone.
   */
  readonly probes: readonly ProbeTarget[];
  /** Every IPv4 address of ours -> its announcer (undefined: no candidate). */
  readonly announcers: ReadonlyMap<string, string | undefined>;
  /** Announced addresses whose pool lists interfaces -> those interfaces (the ARP responder answers there only). */
  readonly interfaces: ReadonlyMap<string, readonly string[]>;
  /** Announced addresses -> the `namespace/name` of each Service on them (for the per-Service metrics). */
  readonly owners: ReadonlyMap<string, readonly string[]>;
  readonly skipped: readonly SkippedService[];
}

interface ServiceOnAddress {
  readonly key: string;
  readonly spec: LoadBalancerSpec;
  readonly endpoints: readonly PodEndpoint[];
  readonly candidates: ReadonlySet<string>;
}

export function decideDataPlan(inputs: SpeakerInputs): SpeakerDecision {
  const nodes = electionNodes(inputs.nodes);
  const skipped: SkippedService[] = [];
  const byAddress = servicesByAddress(inputs, nodes, skipped);

  const self = nodes.get(inputs.nodeName);
  const announcers = new Map<string, string | undefined>();
  const announced: string[] = [];
  const interfaces = new Map<string, readonly string[]>();
  const owners = new Map<string, readonly string[]>();
  const builder: RuleBuilder | undefined =
    self === undefined ? undefined : { inputs, self, nodes, rules: [], probes: new Map(), taken: new Map(), skipped };
  for (const [address, services] of [...byAddress].sort(([a], [b]) => compareIPv4(a, b))) {
    const shared = services.map((s) => s.candidates).reduce((acc, c) => new Set([...acc].filter((n) => c.has(n))));
    // A pool tied to some nodes: the others are no candidates at all, so they are never elected for it.
    const placement = inputs.placement?.(address);
    const allowed = [...shared].filter((n) => nodeMayAnnounce(placement, nodes.get(n)?.labels ?? {}));
    const announcer = electAnnouncer(address, allowed);
    announcers.set(address, announcer);
    if (announcer !== inputs.nodeName || builder === undefined) continue;
    announced.push(address);
    owners.set(
      address,
      services.map((x) => x.key),
    );
    if (placement !== undefined && placement.interfaces.length > 0) interfaces.set(address, placement.interfaces);
    if (inputs.announceOnly) continue;
    for (const s of services) addForwardingRules(address, s, builder);
  }
  const rules = builder?.rules ?? [];
  rules.sort((a, b) => compareIPv4(a.vip, b.vip) || a.protocol.localeCompare(b.protocol) || a.port - b.port);
  const probes = [...(builder?.probes.values() ?? [])];
  return { plan: { announced, rules }, probes, announcers, interfaces, owners, skipped };
}

/** Our announceable Services' IPv4 addresses -> the Services on each, in Service-key order; the rest go to skipped. */
function servicesByAddress(
  inputs: SpeakerInputs,
  nodes: ReadonlyMap<string, ElectionNode>,
  skipped: SkippedService[],
): Map<string, ServiceOnAddress[]> {
  const byAddress = new Map<string, ServiceOnAddress[]>();
  for (const svc of [...inputs.services].sort((a, b) => serviceKey(a).localeCompare(serviceKey(b)))) {
    if (!announceable(svc, inputs.classOptions)) continue;
    const key = serviceKey(svc);
    let spec: LoadBalancerSpec;
    try {
      spec = deriveSpec(svc, inputs.endpointSlices, inputs.nodes, { clusterId: "speaker" });
    } catch (err) {
      if (!(err instanceof InvalidSpecError)) throw err;
      skipped.push({ service: key, kind: "invalid", reason: errorMessage(err) });
      continue;
    }
    // derivePodEndpoints already applies kube-proxy's ready-else-serving rule (the one place it is decided).
    const endpoints = derivePodEndpoints(svc, spec.ports, inputs.endpointSlices, spec.ipFamilies);
    const candidates = candidatesFor(spec, endpoints, nodes, inputs.liveSpeakers);
    for (const ip of ingressIPv6s(svc)) {
      skipped.push({
        service: key,
        kind: "unsupported",
        reason: `address ${ip} is not announced: the speaker answers ARP (IPv4) only, NDP is not implemented`,
      });
    }
    for (const address of ingressIPv4s(svc)) {
      const list = byAddress.get(address) ?? [];
      list.push({ key, spec, endpoints, candidates });
      byAddress.set(address, list);
    }
  }
  return byAddress;
}

/** What the announcer accumulates over its addresses: the rules, the probes gating them, and which Service owns each rule. */
interface RuleBuilder {
  readonly inputs: SpeakerInputs;
  readonly self: ElectionNode;
  readonly nodes: ReadonlyMap<string, ElectionNode>;
  readonly rules: ForwardingRule[];
  /** probeKey -> probe. */
  readonly probes: Map<string, ProbeTarget>;
  /** `address/protocol/port` -> the Service key that forwards it (first in Service-key order wins). */
  readonly taken: Map<string, string>;
  readonly skipped: SkippedService[];
}

/** One ForwardingRule per port of a Service on an address this node announces. */
function addForwardingRules(address: string, s: ServiceOnAddress, b: RuleBuilder): void {
  const { inputs, self, nodes } = b;
  for (const port of s.spec.ports) {
    if (port.protocol === "SCTP") {
      b.skipped.push({
        service: s.key,
        kind: "forwarding",
        reason: `port ${port.port}/SCTP: the nftables data path forwards TCP and UDP only`,
      });
      continue;
    }
    const ruleKey = `${address}/${port.protocol}/${port.port}`;
    const owner = b.taken.get(ruleKey);
    if (owner !== undefined) {
      b.skipped.push({ service: s.key, kind: "forwarding", reason: `${ruleKey} is already forwarded for ${owner}` });
      continue;
    }
    b.taken.set(ruleKey, s.key);
    const backends = backendsFor(s, port, {
      self,
      nodes,
      dead: inputs.deadSpeakers,
      settledNodePorts: inputs.settledNodePorts,
    });
    for (const probe of backends.flatMap((x) => (x.probe === undefined ? [] : [x.probe])))
      b.probes.set(probeKey(probe), probe);
    b.rules.push({
      vip: address,
      protocol: port.protocol,
      port: port.port,
      destinations: sortDestinations(
        backends.filter((x) => x.probe === undefined || inputs.isHealthy(x.probe)).map((x) => x.destination),
      ),
      clientIPAffinity: s.spec.sessionAffinity.type === "ClientIP",
      masquerade: s.spec.externalTrafficPolicy === "Cluster",
      sourceRanges: s.spec.sourceRanges.filter((r) => !r.includes(":")),
      service: s.key,
    });
  }
}

function announceable(svc: V1Service, classOptions: ClassOptions): boolean {
  return svc.spec?.type === "LoadBalancer" && svc.metadata?.deletionTimestamp == null && isOurs(svc, classOptions);
}

function serviceKey(svc: V1Service): string {
  return `${svc.metadata?.namespace ?? ""}/${svc.metadata?.name ?? ""}`;
}

function ingressIPv4s(svc: V1Service): string[] {
  const ips = (svc.status?.loadBalancer?.ingress ?? []).flatMap((i) => (i.ip && isIPv4(i.ip) ? [i.ip] : []));
  return [...new Set(ips)];
}

function ingressIPv6s(svc: V1Service): string[] {
  return (svc.status?.loadBalancer?.ingress ?? []).flatMap((i) => (i.ip?.includes(":") ? [i.ip] : []));
}

function electionNodes(list: readonly V1Node[]): Map<string, ElectionNode> {
  const nodes = new Map<string, ElectionNode>();
  for (const n of list) {
    const e = toElectionNode(n);
    if (e) nodes.set(e.name, e);
  }
  return nodes;
}

function candidatesFor(
  spec: LoadBalancerSpec,
  endpoints: readonly PodEndpoint[],
  nodes: ReadonlyMap<string, ElectionNode>,
  live: ReadonlySet<string>,
): Set<string> {
  if (endpoints.length === 0) return new Set();
  const local = spec.externalTrafficPolicy === "Local" ? new Set(endpoints.map((e) => e.nodeName)) : undefined;
  const out = new Set<string>();
  for (const n of nodes.values()) {
    if (n.eligible && n.ip !== undefined && live.has(n.name) && (local === undefined || local.has(n.name)))
      out.add(n.name);
  }
  return out;
}

function sortDestinations(list: Destination[]): Destination[] {
  const unique = new Map(list.map((d) => [`${d.ip}:${d.port}`, d]));
  return [...unique.values()].sort((a, b) => compareIPv4(a.ip, b.ip) || a.port - b.port);
}

function compareIPv4(a: string, b: string): number {
  const pa = a.split(".").map(Number);
  const pb = b.split(".").map(Number);
  for (let i = 0; i < 4; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

export type { L4Protocol };
