import type { V1LoadBalancerStatus, V1Service } from "@kubernetes/client-node";
import type { LoadBalancerStatus } from "../provider.js";

/** The provider's status in the API's shape, with only the fields we own and no undefined members. */
export function toApiStatus(status: LoadBalancerStatus): V1LoadBalancerStatus {
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
