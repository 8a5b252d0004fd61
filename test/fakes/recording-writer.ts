import type { V1LoadBalancerStatus, V1Service } from "@kubernetes/client-node";
import { KubeApiError } from "../../src/errors.js";
import type { ServiceCondition, ServiceWriter } from "../../src/kube/service-writer.js";
import type { Journal } from "./journal.js";

export type WriterOp = "addFinalizers" | "removeFinalizers" | "patchLoadBalancerStatus" | "setCondition";

export interface WriterCall {
  readonly op: WriterOp;
  /** namespace/name */
  readonly key: string;
  readonly finalizers?: readonly string[];
  readonly status?: V1LoadBalancerStatus;
  readonly condition?: { type: string } & Partial<ServiceCondition>;
}

/** Where the writer applies its changes, standing in for the apiserver (FakeCache implements it). */
export interface ServiceStore {
  get(name: string, namespace?: string): V1Service | undefined;
  upsert(svc: V1Service): void;
  remove(svc: V1Service): void;
}

/**
 * A ServiceWriter that records every call (MetalLB testK8S style) and, given a store, applies it the way the
 * apiserver would: finalizers merged or removed, status.loadBalancer replaced (an empty ingress list clears it,
 * as KubeServiceWriter's merge patch does), and a deleting Service whose last finalizer goes is deleted.
 * Without a store, nothing is applied (a cache that never catches up) and addFinalizers returns a patched copy.
 */
export class RecordingWriter implements ServiceWriter {
  readonly calls: WriterCall[] = [];
  /** Return an error to make that call throw (before anything is applied). */
  fault: (op: WriterOp, key: string) => Error | undefined = () => undefined;

  constructor(
    private readonly store?: ServiceStore,
    private readonly journal?: Journal,
  ) {}

  async addFinalizers(svc: V1Service, finalizers: readonly string[]): Promise<V1Service> {
    const key = this.record({ op: "addFinalizers", key: keyOf(svc), finalizers: [...finalizers] });
    const next = structuredClone(this.current(svc, key));
    next.metadata ??= {};
    const present = next.metadata.finalizers ?? [];
    next.metadata.finalizers = [...present, ...finalizers.filter((f) => !present.includes(f))];
    this.store?.upsert(next);
    return structuredClone(next);
  }

  async removeFinalizers(svc: V1Service, finalizers: readonly string[]): Promise<void> {
    this.record({ op: "removeFinalizers", key: keyOf(svc), finalizers: [...finalizers] });
    const stored = this.store?.get(svc.metadata?.name ?? "", svc.metadata?.namespace);
    if (!this.store || !stored) return; // gone is success
    const next = structuredClone(stored);
    next.metadata ??= {};
    next.metadata.finalizers = (next.metadata.finalizers ?? []).filter((f) => !finalizers.includes(f));
    if (next.metadata.deletionTimestamp != null && next.metadata.finalizers.length === 0) this.store.remove(next);
    else this.store.upsert(next);
  }

  /**
   * Ingress fields this "apiserver" does not store, as one before Kubernetes 1.30 drops `ipMode`. The patch's
   * answer is what was stored, as from the real apiserver.
   */
  droppedIngressFields: readonly string[] = [];

  async patchLoadBalancerStatus(
    svc: V1Service,
    status: V1LoadBalancerStatus,
  ): Promise<V1LoadBalancerStatus | undefined> {
    this.record({ op: "patchLoadBalancerStatus", key: keyOf(svc), status: structuredClone(status) });
    const stored = this.store?.get(svc.metadata?.name ?? "", svc.metadata?.namespace);
    const ingress = (status.ingress ?? []).map((i) => {
      const kept: Record<string, unknown> = { ...structuredClone(i) };
      for (const field of this.droppedIngressFields) delete kept[field];
      return kept;
    });
    const loadBalancer: V1LoadBalancerStatus = ingress.length ? { ingress } : {};
    if (!this.store) return structuredClone(loadBalancer);
    if (!stored) return undefined; // gone is success
    const next = structuredClone(stored);
    next.status = { ...next.status, loadBalancer };
    this.store.upsert(next);
    return structuredClone(loadBalancer);
  }

  async setCondition(svc: V1Service, type: string, condition: ServiceCondition | undefined): Promise<void> {
    this.record({ op: "setCondition", key: keyOf(svc), condition: { type, ...condition } });
    const stored = this.store?.get(svc.metadata?.name ?? "", svc.metadata?.namespace);
    if (!this.store || !stored) return;
    const next = structuredClone(stored);
    const others = (next.status?.conditions ?? []).filter((c) => c.type !== type);
    const added = condition ? [{ type, ...condition, lastTransitionTime: new Date(0) }] : [];
    next.status = { ...next.status, conditions: [...others, ...added] };
    this.store.upsert(next);
  }

  /** Calls of one Service, as "op" strings, in order. */
  opsFor(key: string): WriterOp[] {
    return this.calls.filter((c) => c.key === key).map((c) => c.op);
  }

  clear(): void {
    this.calls.splice(0);
  }

  private record(call: WriterCall): string {
    this.calls.push(call);
    this.journal?.note(`${call.op} ${call.key}`);
    const err = this.fault(call.op, call.key);
    if (err) throw err;
    return call.key;
  }

  private current(svc: V1Service, key: string): V1Service {
    if (!this.store) return svc;
    const stored = this.store.get(svc.metadata?.name ?? "", svc.metadata?.namespace);
    if (!stored)
      throw new KubeApiError(`adding finalizer to ${key}: services "${svc.metadata?.name ?? ""}" not found`, 404);
    return stored;
  }
}

function keyOf(svc: V1Service): string {
  return `${svc.metadata?.namespace ?? "default"}/${svc.metadata?.name ?? ""}`;
}
