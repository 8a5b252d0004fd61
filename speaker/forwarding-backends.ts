/**
 * Where the announcer sends one Service port, and what decides whether each destination is used. Pure; called by
 * desired-data-plan.ts for the announcer only. Why the shapes are what they are is in that file's header; the
 * contracts here:
 *
 * - The announcer's own NodePort is never a destination. On a real node nothing listens on it: it is a DNAT rule in
 *   kube-proxy's nat prerouting chain, which the kernel skips once our DNAT has bound the connection.
 * - The announcer's own share goes to its serving local endpoints' `podIP:targetPort`, as kube-proxy itself does
 *   for load-balancer traffic. Other nodes are reached through their NodePorts (there kube-proxy does the rest).
 * - A destination carries the probe that gates it, or none: then the EndpointSlice readiness it was chosen by is
 *   its health, the signal kube-proxy uses. UDP is never judged by a TCP connect (a UDP-only pod refuses every
 *   TCP connection, so such a probe would drop a healthy Service about a second after it got its address).
 */
import type { ElectionNode } from "./announcer-election.js";
import type { Destination, ProbeTarget } from "./data-plan.js";
import { nodePortKey } from "./node-port-settling.js";
import type { LoadBalancerSpec, PodEndpoint, PortSpec } from "../src/index.js";
import { parseIPv4 } from "../src/toolkit/index.js";
import { KUBE_PROXY_HEALTHZ_PORT } from "../src/model/index.js";

/** kube-proxy's node health (`--healthz-bind-address`, default :10256); fails on draining nodes (KEP-3836). */
export const KUBE_PROXY_HEALTH_PORT = KUBE_PROXY_HEALTHZ_PORT;

export interface Backend {
  readonly destination: Destination;
  /** The probe that must pass for the destination to be used; undefined: EndpointSlice readiness only. */
  readonly probe: ProbeTarget | undefined;
}

/** The announcing node and the others, as the election sees them. */
export interface NodeView {
  readonly self: ElectionNode;
  readonly nodes: ReadonlyMap<string, ElectionNode>;
  /** Nodes whose speaker was heard and then went silent (a dead speaker usually means a dead node). */
  readonly dead: ReadonlySet<string>;
  /**
   * NodePorts (node-port-settling.ts keys) the other nodes' kube-proxies have had time to program; absent: all.
   * An unsettled one is left out while this node has ready pods of its own to send to.
   */
  readonly settledNodePorts?: ReadonlySet<string>;
}

export interface ServiceBackends {
  readonly spec: LoadBalancerSpec;
  /** The Service's endpoints as derivePodEndpoints returns them (all nodes, every protocol). */
  readonly endpoints: readonly PodEndpoint[];
}

/**
 * Endpoints that may take new connections, by kube-proxy's rule (pkg/proxy/topology.go CategorizeEndpoints,
 * KEP-1669 ProxyTerminatingEndpoints): the ready ones; only when none is ready, the serving ones (which are then
 * terminating), so a rollout that momentarily has only terminating pods does not black-hole traffic.
 * derivePodEndpoints already returns that choice (its `ready: false` entries are the serving-terminating
 * fallback); applying the rule again here keeps this module's contract independent of that.
 */
export function servingEndpoints(endpoints: readonly PodEndpoint[]): PodEndpoint[] {
  const ready = endpoints.filter((e) => e.ready);
  return ready.length > 0 ? ready : endpoints.filter((e) => e.serving);
}

/**
 * The announcer's backends for one TCP or UDP Service port (SCTP is filtered out by the caller), unfiltered by
 * health: the caller probes every `probe` and keeps the destinations whose probe passes or that have none.
 *
 * - pod mode: serving endpoints' target ports (Local: this node's only); TCP ports probed with a TCP connect.
 * - nodePort mode, Cluster: every other eligible, not-dead node's `nodeIP:nodePort` gated by its kube-proxy
 *   `:10256/healthz`, plus this node's serving endpoints' `podIP:targetPort` (readiness only); while the NodePort
 *   is too new for the other kube-proxies to have programmed it, only this node's own pods if it has any.
 * - nodePort mode, Local: this node's serving endpoints' `podIP:targetPort`, by readiness only, as kube-proxy sends
 *   load-balancer traffic for a Local Service to its node's ready endpoints (pkg/proxy/topology.go). Not gated by
 *   this node's healthCheckNodePort: that is kube-proxy's own view of the same endpoints, which lags the
 *   EndpointSlice by up to a sync period. Gated by it, a new Service was answered, then dropped for about a second
 *   when the first probe found kube-proxy not yet caught up (503), then answered again: in the lab, the first fresh
 *   connection after the address appeared lost its SYN in about half of the runs under load (the table flipped
 *   dnat -> drop -> dnat, seen with nft monitor and tcpdump on the node). The probe also could not help: the
 *   announcer stays the announcer whatever it says, so failing it only black-holed the address.
 */
export function backendsFor(
  s: ServiceBackends,
  servicePort: PortSpec,
  { self, nodes, dead, settledNodePorts }: NodeView,
): Backend[] {
  const endpoints = servingEndpoints(s.endpoints).filter((e) => isIPv4(e.ip));
  const local = endpoints.filter((e) => e.nodeName === self.name);
  const policyLocal = s.spec.externalTrafficPolicy === "Local";
  if (s.spec.backends.mode === "pod") {
    return targetPorts(policyLocal ? local : endpoints, servicePort).map((d) => ({
      destination: d,
      probe: servicePort.protocol === "TCP" ? { kind: "tcp", ip: d.ip, port: d.port } : undefined,
    }));
  }
  const { nodePort } = servicePort;
  if (nodePort === undefined || self.ip === undefined) return [];
  const own = targetPorts(local, servicePort).map((d): Backend => ({ destination: d, probe: undefined }));
  if (policyLocal) return own;
  const others = [...nodes.values()]
    .filter(
      (n): n is ElectionNode & { ip: string } =>
        n.name !== self.name && n.eligible && n.ip !== undefined && !dead.has(n.name),
    )
    .map((n): Backend => ({
      destination: { ip: n.ip, port: nodePort },
      probe: { kind: "http", ip: n.ip, port: KUBE_PROXY_HEALTH_PORT, path: "/healthz" },
    }));
  const settled =
    settledNodePorts === undefined || settledNodePorts.has(nodePortKey(s.spec.id.uid, servicePort.protocol, nodePort));
  return settled || own.length === 0 ? [...others, ...own] : own;
}

/**
 * Each endpoint's port for this Service port (resolved per EndpointSlice by name and protocol); none: skipped.
 * Own keys only: a port named "constructor" must not read Object.prototype.
 */
function targetPorts(endpoints: readonly PodEndpoint[], servicePort: PortSpec): Destination[] {
  return endpoints.flatMap((e) => {
    const port = Object.hasOwn(e.ports, servicePort.name) ? e.ports[servicePort.name] : undefined;
    return port === undefined ? [] : [{ ip: e.ip, port }];
  });
}

export function isIPv4(ip: string): boolean {
  return parseIPv4(ip) !== undefined;
}
