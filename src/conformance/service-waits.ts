/**
 * Service helpers every case shares: creating the case's Service and the upstream jig's waits for a load balancer
 * to appear or go. Kept apart from the case lists so the control-plane cases (cases.ts) and the data-path cases
 * (data-path-cases.ts) use them without importing each other.
 */
import type { V1LoadBalancerIngress, V1Service } from "@kubernetes/client-node";
import { LOAD_BALANCER_CLEANUP_FINALIZER } from "../model/annotations.js";
import type { CaseContext } from "./cases.js";
import { eventually } from "../../testing/eventually.js";

export const ingressOf = (svc: V1Service | undefined): V1LoadBalancerIngress[] =>
  svc?.status?.loadBalancer?.ingress ?? [];
export const addressOf = (svc: V1Service | undefined): string =>
  ingressOf(svc)
    .map((i) => i.ip ?? i.hostname)
    .join(",");

export async function createService(ctx: CaseContext, svc: V1Service): Promise<void> {
  await ctx.kube.core.createNamespacedService({ namespace: ctx.namespace, body: svc });
}

export async function waitForLoadBalancer(ctx: CaseContext, name: string): Promise<V1Service> {
  // upstream jig WaitForLoadBalancer: ingress non-empty and every entry has an IP or a hostname.
  return eventually(
    `${ctx.namespace}/${name} to get a load balancer`,
    async () => {
      const svc = await ctx.kube.service(ctx.namespace, name);
      const ingress = ingressOf(svc);
      return ingress.length > 0 && ingress.every((i) => i.ip || i.hostname) ? svc : undefined;
    },
    { timeoutMs: ctx.timeoutMs },
  );
}

export async function waitForLoadBalancerDestroy(ctx: CaseContext, name: string): Promise<V1Service> {
  return eventually(
    `${ctx.namespace}/${name} to lose its load balancer`,
    async () => {
      const svc = await ctx.kube.service(ctx.namespace, name);
      return svc && ingressOf(svc).length === 0 && !svc.metadata?.finalizers?.includes(LOAD_BALANCER_CLEANUP_FINALIZER)
        ? svc
        : undefined;
    },
    { timeoutMs: ctx.timeoutMs },
  );
}
