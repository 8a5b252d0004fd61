import type { V1Service } from "@kubernetes/client-node";
import type { ExistingLoadBalancer, PortSpec, Protocol } from "../provider.js";
import { loadBalancerId } from "./load-balancer-id.js";
import { copyAnnotations, copySelector } from "./service-settings.js";
import { type ClassOptions, hasFinalizer, isOurs } from "./service-predicates.js";
import { decodeStatus } from "./status-codec.js";

/**
 * What a Service records about the load balancer this controller made for it: its status (decoded by
 * status-codec, so what the provider reported comes back whole, ports included) and the ports, annotations,
 * traffic policy and selector it had. Lenient on purpose: a Service that has since become invalid still holds
 * its address, and a restarted controller must not hand that address to anyone else.
 * Returns undefined for Services that are not ours or hold no address.
 */
export function existingLoadBalancer(
  svc: V1Service,
  clusterId: string,
  classOptions: ClassOptions,
): ExistingLoadBalancer | undefined {
  const ingress = svc.status?.loadBalancer?.ingress ?? [];
  if (!hasFinalizer(svc) || !isOurs(svc, classOptions) || ingress.length === 0) return undefined;
  const ports: PortSpec[] = (svc.spec?.ports ?? []).map((p) => ({
    name: p.name ?? "",
    protocol: (p.protocol ?? "TCP") as Protocol,
    port: p.port,
    nodePort: p.nodePort,
    appProtocol: p.appProtocol,
  }));
  return {
    id: loadBalancerId(svc, clusterId),
    ports,
    annotations: copyAnnotations(svc),
    externalTrafficPolicy: svc.spec?.externalTrafficPolicy === "Local" ? "Local" : "Cluster",
    selector: copySelector(svc),
    status: decodeStatus(svc.status?.loadBalancer),
  };
}
