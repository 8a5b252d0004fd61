/**
 * The one converter between the provider's LoadBalancerStatus and the Service's status.loadBalancer, both ways.
 *
 * Contract: for every status in canonical form (no undefined members, no empty strings, no empty `ports` list,
 * which is what every provider returns), `decodeStatus(encodeStatus(x))` equals `x`, field for field: ip,
 * hostname, ipMode and ports (port, protocol, error). The reverse holds for every status an apiserver stores
 * from what we wrote. Decoding is lenient rather than strict: it reads whatever a Service holds, so what
 * the provider contract cannot express (an unknown ipMode or protocol, empty strings) is left out, never thrown.
 */
import type { V1LoadBalancerIngress, V1LoadBalancerStatus, V1PortStatus, V1Service } from "@kubernetes/client-node";
import type { IngressStatus, LoadBalancerStatus, PortStatus, Protocol } from "../provider.js";

/** The provider's status in the API's shape, with only the fields we own and no undefined members. */
export function encodeStatus(status: LoadBalancerStatus): V1LoadBalancerStatus {
  return {
    ingress: status.ingress.map((ing) => ({
      ...(ing.ip !== undefined ? { ip: ing.ip } : {}),
      ...(ing.hostname !== undefined ? { hostname: ing.hostname } : {}),
      ...(ing.ipMode !== undefined ? { ipMode: ing.ipMode } : {}),
      ...(ing.ports?.length
        ? {
            ports: ing.ports.map((p) => ({
              port: p.port,
              protocol: p.protocol,
              ...(p.error !== undefined ? { error: p.error } : {}),
            })),
          }
        : {}),
    })),
  };
}

/**
 * A Service's status.loadBalancer as the provider contract's LoadBalancerStatus, in canonical form: empty
 * strings, an empty `ports` list, ipModes other than VIP and Proxy and port entries with a protocol other than
 * TCP, UDP or SCTP are left out. An absent status is no ingress. A missing ipMode stays missing rather than
 * defaulted to VIP (as `statusEqual` does): the result says what the Service holds, and what an apiserver before
 * 1.30 dropped stays visible as dropped.
 */
export function decodeStatus(status: V1LoadBalancerStatus | undefined): LoadBalancerStatus {
  return { ingress: (status?.ingress ?? []).map(decodeIngress) };
}

function decodeIngress(ing: V1LoadBalancerIngress): IngressStatus {
  const ports = (ing.ports ?? []).flatMap(decodePort);
  return {
    ...(ing.ip ? { ip: ing.ip } : {}),
    ...(ing.hostname ? { hostname: ing.hostname } : {}),
    ...(ing.ipMode === "VIP" || ing.ipMode === "Proxy" ? { ipMode: ing.ipMode } : {}),
    ...(ports.length ? { ports } : {}),
  };
}

function decodePort(p: V1PortStatus): PortStatus[] {
  const protocol = asProtocol(p.protocol);
  if (protocol === undefined) return [];
  return [{ port: p.port, protocol, ...(p.error ? { error: p.error } : {}) }];
}

function asProtocol(value: string): Protocol | undefined {
  return value === "TCP" || value === "UDP" || value === "SCTP" ? value : undefined;
}

/**
 * Semantic equality of two load balancer statuses, as upstream's `LoadBalancerStatusEqual`: field by field,
 * so key order and absent-vs-empty lists do not cause a needless patch.
 */
export function statusEqual(a: V1LoadBalancerStatus | undefined, b: V1LoadBalancerStatus | undefined): boolean {
  return canonical(a) === canonical(b);
}

export function currentStatus(svc: V1Service): V1LoadBalancerStatus | undefined {
  return svc.status?.loadBalancer;
}

function canonical(status: V1LoadBalancerStatus | undefined): string {
  const ingress = (status?.ingress ?? []).map((ing) => [
    ing.ip ?? "",
    ing.hostname ?? "",
    // The apiserver defaults ipMode to VIP for an ip ingress (KEP-1860); treat absent and VIP alike.
    ing.ipMode ?? (ing.ip ? "VIP" : ""),
    (ing.ports ?? []).map((p) => [p.port, p.protocol, p.error ?? ""]),
  ]);
  return JSON.stringify(ingress);
}

/**
 * Ingress fields we wrote that the apiserver did not store (`ipMode` on Kubernetes before 1.30, where the
 * LoadBalancerIPMode gate is off), as `ingress[].<field>` names, sorted. Empty when it kept everything.
 */
export function droppedStatusFields(written: V1LoadBalancerStatus, stored: V1LoadBalancerStatus): string[] {
  const dropped = new Set<string>();
  (written.ingress ?? []).forEach((w, i) => {
    const s = stored.ingress?.[i] ?? {};
    for (const [field, value] of Object.entries(w)) {
      if (value !== undefined && (s as Record<string, unknown>)[field] === undefined) dropped.add(`ingress[].${field}`);
    }
  });
  return [...dropped].sort();
}
