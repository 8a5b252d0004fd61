import { type CoreV1Api, PatchStrategy, type V1LoadBalancerStatus, type V1Service } from "@kubernetes/client-node";
import { isNotFound, kubeApiError } from "./api-error.js";
import { callOptions } from "./request-options.js";

/**
 * The narrow port through which the controller changes Services (MetalLB's `service` interface,
 * ../shared/reference/style-anchors.md section 2): finalizers and status, nothing else.
 */
export interface ServiceWriter {
  /** Adds `finalizers` (those not present) in one write; returns the updated object. */
  addFinalizers(svc: V1Service, finalizers: readonly string[]): Promise<V1Service>;
  /** Removes `finalizers` in one write; a Service that is already gone is success. */
  removeFinalizers(svc: V1Service, finalizers: readonly string[]): Promise<void>;
  /** Replaces status.loadBalancer; a Service that is already gone is success. */
  patchLoadBalancerStatus(svc: V1Service, status: V1LoadBalancerStatus): Promise<void>;
  /** Sets (or, with `undefined`, removes) one status condition of `type`, leaving the others alone. */
  setCondition(svc: V1Service, type: string, condition: ServiceCondition | undefined): Promise<void>;
}

export interface ServiceCondition {
  status: "True" | "False";
  reason: string;
  message: string;
}


export class KubeServiceWriter implements ServiceWriter {
  constructor(
    private readonly core: CoreV1Api,
    private readonly fieldManager = "lb-operator",
    private readonly timeoutMs?: number,
  ) {}

  async addFinalizers(svc: V1Service, finalizers: readonly string[]): Promise<V1Service> {
    // A strategic-merge patch merges into `finalizers` (patchStrategy=merge), so it cannot drop a finalizer
    // another controller added concurrently, and needs no resourceVersion.
    const { name, namespace } = nameOf(svc);
    try {
      return await this.core.patchNamespacedService(
        { name, namespace, body: { metadata: { finalizers: [...finalizers] } }, fieldManager: this.fieldManager },
        callOptions(this.timeoutMs, PatchStrategy.StrategicMergePatch),
      );
    } catch (err) {
      throw kubeApiError(`adding finalizer to ${namespace}/${name}`, err);
    }
  }

  async removeFinalizers(svc: V1Service, finalizers: readonly string[]): Promise<void> {
    const { name, namespace } = nameOf(svc);
    try {
      await this.core.patchNamespacedService(
        {
          name,
          namespace,
          body: { metadata: { [`$deleteFromPrimitiveList/finalizers`]: [...finalizers] } },
          fieldManager: this.fieldManager,
        },
        callOptions(this.timeoutMs, PatchStrategy.StrategicMergePatch),
      );
    } catch (err) {
      if (isNotFound(err)) return;
      throw kubeApiError(`removing finalizer from ${namespace}/${name}`, err);
    }
  }

  async patchLoadBalancerStatus(svc: V1Service, status: V1LoadBalancerStatus): Promise<void> {
    const { name, namespace } = nameOf(svc);
    // A merge patch replaces `ingress` as a whole; null removes it (upstream writes an empty status on cleanup).
    const body = { status: { loadBalancer: status.ingress?.length ? { ingress: status.ingress } : { ingress: null } } };
    try {
      await this.core.patchNamespacedServiceStatus(
        { name, namespace, body, fieldManager: this.fieldManager },
        callOptions(this.timeoutMs, PatchStrategy.MergePatch),
      );
    } catch (err) {
      if (isNotFound(err)) return;
      throw kubeApiError(`patching status of ${namespace}/${name}`, err);
    }
  }

  async setCondition(svc: V1Service, type: string, condition: ServiceCondition | undefined): Promise<void> {
    const { name, namespace } = nameOf(svc);
    // Strategic merge on `conditions` (merge key `type`) touches only our condition, never another writer's.
    const entry = condition
      ? { type, ...condition, lastTransitionTime: new Date(), observedGeneration: svc.metadata?.generation }
      : { type, $patch: "delete" };
    try {
      await this.core.patchNamespacedServiceStatus(
        { name, namespace, body: { status: { conditions: [entry] } }, fieldManager: this.fieldManager },
        callOptions(this.timeoutMs, PatchStrategy.StrategicMergePatch),
      );
    } catch (err) {
      if (isNotFound(err)) return;
      throw kubeApiError(`setting condition ${type} of ${namespace}/${name}`, err);
    }
  }
}

function nameOf(svc: V1Service): { name: string; namespace: string } {
  return { name: svc.metadata?.name ?? "", namespace: svc.metadata?.namespace ?? "default" };
}
