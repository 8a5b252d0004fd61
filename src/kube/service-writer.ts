import type { V1LoadBalancerStatus, V1Service } from "@kubernetes/client-node";
import { KubeApiError } from "../errors.js";
import { capBytes } from "../util/quote.js";
import { isNotFound } from "./api-error.js";
import type { KubeRest, PatchType } from "./kube-rest.js";

/**
 * The narrow port through which the controller changes Services (MetalLB's `service` interface,
 * ../shared/reference/style-anchors.md section 2): finalizers, status and conditions, nothing else.
 */
export interface ServiceWriter {
  /** Adds `finalizers` (those not present) in one write; returns the Service as it now is. */
  addFinalizers(svc: V1Service, finalizers: readonly string[]): Promise<V1Service>;
  /** Removes `finalizers` in one write; a Service that is already gone is success. */
  removeFinalizers(svc: V1Service, finalizers: readonly string[]): Promise<void>;
  /** Replaces status.loadBalancer; a Service that is already gone is success. */
  /**
   * Replaces status.loadBalancer and resolves with status.loadBalancer as the apiserver stored it (which may lack
   * fields it does not know, e.g. ipMode before Kubernetes 1.30), or undefined if the Service is gone.
   */
  patchLoadBalancerStatus(svc: V1Service, status: V1LoadBalancerStatus): Promise<V1LoadBalancerStatus | undefined>;
  /** Sets (or, with `undefined`, removes) one status condition of `type`, leaving the others alone. */
  setCondition(svc: V1Service, type: string, condition: ServiceCondition | undefined): Promise<void>;
}

/**
 * The apiserver refuses a condition message over 32 KiB with a 422 (k8s.io/apimachinery meta/v1 validation,
 * maxConditionMessageLen); setCondition cuts to it, as the last line of defence behind the quoting of user input.
 */
export const MAX_CONDITION_MESSAGE_BYTES = 32 * 1024;

/** The message as setCondition writes it, so a caller can tell whether the stored one is already current. */
export function conditionMessage(message: string): string {
  return capBytes(message, MAX_CONDITION_MESSAGE_BYTES);
}

export interface ServiceCondition {
  status: "True" | "False";
  reason: string;
  message: string;
}

interface WriteOptions {
  body: unknown;
  /** For error messages: "adding finalizers to" ns/name. */
  action: string;
  /** Write the status subresource. */
  status?: boolean;
  goneIsSuccess?: boolean;
  /** JSON merge patch instead of strategic merge. */
  merge?: boolean;
  /** Resolve with the object the server returned (parsed), undefined when gone. */
  returnObject?: boolean;
}

export class KubeServiceWriter implements ServiceWriter {
  constructor(private readonly rest: KubeRest) {}

  async addFinalizers(svc: V1Service, finalizers: readonly string[]): Promise<V1Service> {
    // A strategic-merge patch merges into `finalizers` (patchStrategy=merge), so it cannot drop a finalizer
    // another controller added concurrently, and needs no resourceVersion.
    await this.write(svc, { body: { metadata: { finalizers } }, action: "adding finalizers to" });
    const present = svc.metadata?.finalizers ?? [];
    return {
      ...svc,
      metadata: { ...svc.metadata, finalizers: [...present, ...finalizers.filter((f) => !present.includes(f))] },
    };
  }

  async removeFinalizers(svc: V1Service, finalizers: readonly string[]): Promise<void> {
    await this.write(svc, {
      body: { metadata: { "$deleteFromPrimitiveList/finalizers": finalizers } },
      action: "removing finalizers from",
      goneIsSuccess: true,
    });
  }

  async patchLoadBalancerStatus(
    svc: V1Service,
    status: V1LoadBalancerStatus,
  ): Promise<V1LoadBalancerStatus | undefined> {
    // A merge patch replaces `ingress` as a whole; null removes it (upstream writes an empty status on cleanup).
    const loadBalancer = status.ingress?.length ? { ingress: status.ingress } : { ingress: null };
    const stored = await this.write(svc, {
      status: true,
      body: { status: { loadBalancer } },
      action: "patching status of",
      goneIsSuccess: true,
      merge: true,
      returnObject: true,
    });
    if (stored === undefined) return undefined;
    return (stored as { status?: { loadBalancer?: V1LoadBalancerStatus } }).status?.loadBalancer ?? {};
  }

  async setCondition(svc: V1Service, type: string, condition: ServiceCondition | undefined): Promise<void> {
    // Strategic merge on `conditions` (merge key `type`) touches only our condition, never another writer's.
    const entry = condition
      ? {
          type,
          ...condition,
          message: conditionMessage(condition.message),
          lastTransitionTime: new Date().toISOString(),
          observedGeneration: svc.metadata?.generation,
        }
      : { type, $patch: "delete" };
    await this.write(svc, {
      status: true,
      body: { status: { conditions: [entry] } },
      action: `setting condition ${type} of`,
      goneIsSuccess: true,
    });
  }

  private async write(
    svc: V1Service,
    { body, action, status = false, goneIsSuccess = false, merge = false, returnObject = false }: WriteOptions,
  ): Promise<unknown> {
    const { name, namespace, path, type } = patchRequest(svc, status, merge);
    try {
      if (returnObject) return await this.rest.patchForObject(path, body, type);
      await this.rest.patch(path, body, type);
      return null;
    } catch (err) {
      if (goneIsSuccess && isNotFound(err)) return undefined;
      const code = err instanceof KubeApiError ? err.statusCode : undefined;
      throw new KubeApiError(
        `${action} ${namespace}/${name}: ${err instanceof Error ? err.message : String(err)}`,
        code,
        { cause: err },
      );
    }
  }
}

/** The Service's (or its status subresource's) path and the patch content type. */
function patchRequest(
  svc: V1Service,
  status: boolean,
  merge: boolean,
): { readonly name: string; readonly namespace: string; readonly path: string; readonly type: PatchType } {
  const name = svc.metadata?.name ?? "";
  const namespace = svc.metadata?.namespace ?? "default";
  const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/services/${encodeURIComponent(name)}${status ? "/status" : ""}`;
  const type = merge ? "application/merge-patch+json" : "application/strategic-merge-patch+json";
  return { name, namespace, path, type };
}
