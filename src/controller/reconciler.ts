import { createHash } from "node:crypto";
import type { V1EndpointSlice, V1LoadBalancerStatus, V1Node, V1Service } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { InvalidSpecError, RetryAfterError, errorMessage } from "../errors.js";
import type { EventRecorder } from "../kube/event-recorder.js";
import type { Clock } from "../util/clock.js";
import { type ServiceWriter, conditionMessage } from "../kube/service-writer.js";
import type { ControllerMetrics } from "../metrics.js";
import { LOAD_BALANCER_FINALIZERS, SPEC_VALID_CONDITION } from "../model/annotations.js";
import { deriveSpec } from "../model/derive-spec.js";
import { loadBalancerId } from "../model/load-balancer-id.js";
import { type ClassOptions, hasAllFinalizers, needsCleanup, wantsLoadBalancer } from "../model/service-predicates.js";
import { currentStatus, droppedStatusFields, encodeStatus, statusEqual } from "../model/status-codec.js";
import type { LoadBalancerId, LoadBalancerProvider, LoadBalancerSpec } from "../provider.js";
import { DEFAULT_PROGRESS_EVENT_DELAY_MS, progressEvent } from "./progress-event.js";
import { type SyncVerdict, success, verdictFor } from "./sync-verdict.js";

/** Read access to the informer caches, narrowed to what a reconcile needs. */
export interface ClusterView {
  service(namespace: string, name: string): V1Service | undefined;
  endpointSlices(namespace: string, serviceName: string): readonly V1EndpointSlice[];
  nodes(): readonly V1Node[];
}

export interface ReconcilerDeps {
  view: ClusterView;
  writer: ServiceWriter;
  events: EventRecorder;
  provider: LoadBalancerProvider;
  metrics: ControllerMetrics;
  logger: Logger;
  clusterId: string;
  classOptions: ClassOptions;
  clock: Clock;
  /** EnsuringLoadBalancer and DeletingLoadBalancer are written only for work still running after this long
   * (progress-event.ts); 0 writes them at once, as upstream does. Default 1 s. */
  progressEventDelayMs?: number;
}

interface Ensured {
  uid: string;
  specHash: string;
  /** Hash of everything but the backends: a change here is a new load balancer shape, not new hosts. */
  shapeHash: string;
  /** The status as the apiserver keeps it: what the Service's status is compared with. */
  status: V1LoadBalancerStatus;
  /** The status the provider last gave, as written; differs from `status` when the server dropped a field. */
  written: V1LoadBalancerStatus;
}

/**
 * One reconcile of one Service, following the upstream service controller's `syncLoadBalancerIfNeeded`
 * (../shared/reference/upstream.md section 1): finalizer before the first provider call, delete before the
 * finalizer goes, status patched only when it changed. Unlike upstream, an unchanged spec skips the provider
 * call entirely until drift repair forces one (`force`).
 */
export class ServiceReconciler {
  private readonly ensured = new Map<string, Ensured>();
  /** Last invalid-spec message per key, so an unchanged invalid Service yields one Warning event, not one per sync. */
  private readonly lastInvalid = new Map<string, string>();
  /** Load balancers we made, so one whose Service vanished without our finalizer is still deleted. */
  private readonly knownIds = new Map<string, LoadBalancerId>();
  private readonly forced = new Set<string>();
  /** Services whose status the apiserver stored without some of our fields, already reported once. */
  private readonly warnedDropped = new Set<string>();

  constructor(private readonly deps: ReconcilerDeps) {}

  /** The next reconcile of `key` calls the provider even if the spec is unchanged (drift repair). */
  force(key: string): void {
    this.forced.add(key);
  }

  async reconcile(key: string, signal: AbortSignal): Promise<SyncVerdict> {
    const [namespace, name] = splitKey(key);
    const svc = this.deps.view.service(namespace, name);
    if (!svc) return this.forgetVanished(key, signal);
    if (needsCleanup(svc, this.deps.classOptions)) return this.cleanUp(key, svc, signal);
    if (!wantsLoadBalancer(svc, this.deps.classOptions)) {
      this.forget(key);
      return success;
    }
    return this.ensure(key, svc, signal);
  }

  private async ensure(key: string, svc: V1Service, signal: AbortSignal): Promise<SyncVerdict> {
    let spec: LoadBalancerSpec;
    try {
      spec = this.deriveSpecOf(svc);
    } catch (err) {
      if (err instanceof InvalidSpecError) return await this.invalid(key, svc, err);
      throw err;
    }
    const uid = uidOf(svc);
    // The shape (everything but the backends) is serialised once: the spec's hash is built on top of it, so a Service
    // with large annotations costs one pass over them, not two.
    const shapeHash = hashOf({ ...spec, backends: null });
    const specHash = hashOf([shapeHash, spec.backends]);
    const previous = this.ensured.get(key);
    const forced = this.forced.delete(key);
    if (!forced && upToDate(previous, uid, specHash) && hasAllFinalizers(svc)) {
      await this.repairStatus(key, svc, previous);
      return success;
    }

    // Always add the finalizer before the first provider call, so the Service cannot disappear while a
    // load balancer exists for it (upstream: "Always add a finalizer prior to creating load balancers").
    if (!hasAllFinalizers(svc)) svc = await this.deps.writer.addFinalizers(svc, LOAD_BALANCER_FINALIZERS);
    this.knownIds.set(key, spec.id);

    const firstOrSpecChange = previous?.uid !== uid || previous.shapeHash !== shapeHash;
    const ensuring = firstOrSpecChange
      ? this.progress(svc, "EnsuringLoadBalancer", "Ensuring load balancer")
      : (): void => undefined;
    let status;
    try {
      status = await this.deps.provider.ensure(spec, signal);
      this.countProviderCall("ensure", "success");
    } catch (err) {
      return await this.ensureFailed(key, svc, err);
    } finally {
      ensuring();
    }
    this.deps.metrics.loadBalancerSyncTotal.inc();
    this.lastInvalid.delete(key);

    const written = encodeStatus(status);
    const kept = await this.writeStatus(key, svc, written, previous);
    if (specCondition(svc)) await this.deps.writer.setCondition(svc, SPEC_VALID_CONDITION, undefined);
    this.ensured.set(key, { uid, specHash, shapeHash, status: kept, written });
    if (firstOrSpecChange) this.deps.events.record(svc, "Normal", "EnsuredLoadBalancer", "Ensured load balancer");
    else if (previous.specHash !== specHash) {
      this.deps.events.record(svc, "Normal", "UpdatedLoadBalancer", "Updated load balancer with new backends");
    }
    return success;
  }

  /** A progress Event for provider work; call the result when the work ends. */
  private progress(svc: V1Service, reason: string, message: string): () => void {
    const delayMs = this.deps.progressEventDelayMs ?? DEFAULT_PROGRESS_EVENT_DELAY_MS;
    return progressEvent({ events: this.deps.events, clock: this.deps.clock, delayMs }, svc, reason, message);
  }

  private deriveSpecOf(svc: V1Service): LoadBalancerSpec {
    const endpointSlices = this.deps.view.endpointSlices(
      svc.metadata?.namespace ?? "default",
      svc.metadata?.name ?? "",
    );
    return deriveSpec(svc, endpointSlices, this.deps.view.nodes(), { clusterId: this.deps.clusterId });
  }

  /** Nothing the provider sees changed: no provider call. Repair the status if someone else changed it. */
  private async repairStatus(key: string, svc: V1Service, previous: Ensured): Promise<void> {
    if (statusEqual(currentStatus(svc), previous.status)) return;
    const stored = await this.deps.writer.patchLoadBalancerStatus(svc, previous.status);
    this.ensured.set(key, { ...previous, status: this.acceptStored(key, svc, previous.status, stored) });
  }

  private async ensureFailed(key: string, svc: V1Service, err: unknown): Promise<SyncVerdict> {
    this.countProviderCall("ensure", err instanceof RetryAfterError ? "retryAfter" : "error");
    // A provider's refusal is the same refusal as the model's: one path, so both give event, condition and log.
    if (err instanceof InvalidSpecError) return this.invalid(key, svc, err);
    this.deps.events.record(
      svc,
      "Warning",
      "SyncLoadBalancerFailed",
      `Error syncing load balancer: ${errorMessage(err)}`,
    );
    this.ensured.delete(key);
    return verdictFor(err);
  }

  /** Writes `written` unless the server already holds it; returns what to compare the Service's status with next. */
  private async writeStatus(
    key: string,
    svc: V1Service,
    written: V1LoadBalancerStatus,
    previous: Ensured | undefined,
  ): Promise<V1LoadBalancerStatus> {
    // The provider's answer is unchanged and the server still holds what it kept of it: nothing to write.
    const unchanged =
      previous !== undefined &&
      statusEqual(written, previous.written) &&
      statusEqual(currentStatus(svc), previous.status);
    if (unchanged) return previous.status;
    if (statusEqual(currentStatus(svc), written)) return written;
    return this.acceptStored(key, svc, written, await this.deps.writer.patchLoadBalancerStatus(svc, written));
  }

  /**
   * What to compare the Service's status with from now on: what the apiserver stored. A server that drops a field
   * we write (ipMode before Kubernetes 1.30) would otherwise make every later comparison see a difference and
   * re-patch forever. Said once per Service, as a Warning event and a log line, since it changes who forwards.
   */
  private acceptStored(
    key: string,
    svc: V1Service,
    written: V1LoadBalancerStatus,
    stored: V1LoadBalancerStatus | undefined,
  ): V1LoadBalancerStatus {
    if (stored === undefined || statusEqual(stored, written)) return written;
    const dropped = droppedStatusFields(written, stored);
    if (!this.warnedDropped.has(key)) {
      this.warnedDropped.add(key);
      const hint = dropped.includes("ingress[].ipMode")
        ? "; this apiserver does not keep ipMode (Kubernetes before 1.30), so kube-proxy also handles this address: run the bare-metal provider with --announce-only on such clusters"
        : "";
      const message = `the apiserver did not store ${dropped.join(", ") || "the status as written"}${hint}`;
      this.deps.events.record(svc, "Warning", "LoadBalancerStatusFieldsDropped", message);
      this.deps.logger.warn({ key, dropped }, "the apiserver dropped load balancer status fields");
    }
    return stored;
  }

  /**
   * Every InvalidSpecError, the model's or a provider's, ends here: a Warning event and a log line once per distinct
   * problem, the SpecValid=False condition while it lasts, and no retry until the Service changes. The message is
   * bounded (quoted values are cut where they are quoted, src/util/quote.ts; the writers cut again).
   */
  private async invalid(key: string, svc: V1Service, err: InvalidSpecError): Promise<SyncVerdict> {
    const reason = conditionMessage(err.message);
    if (this.lastInvalid.get(key) !== reason) {
      this.lastInvalid.set(key, reason);
      this.deps.events.record(svc, "Warning", "SyncLoadBalancerFailed", `Error syncing load balancer: ${reason}`);
      this.deps.logger.warn({ key, field: err.field, reason }, "invalid load balancer spec");
    }
    if (specCondition(svc)?.message !== reason) {
      await this.deps.writer.setCondition(svc, SPEC_VALID_CONDITION, {
        status: "False",
        reason: "InvalidSpec",
        message: reason,
      });
    }
    this.ensured.delete(key);
    return verdictFor(err);
  }

  private async cleanUp(key: string, svc: V1Service, signal: AbortSignal): Promise<SyncVerdict> {
    const id = loadBalancerId(svc, this.deps.clusterId);
    const deleting = this.progress(svc, "DeletingLoadBalancer", "Deleting load balancer");
    try {
      await this.deps.provider.delete(id, signal);
      this.countProviderCall("delete", "success");
    } catch (err) {
      this.countProviderCall("delete", "error");
      this.deps.events.record(
        svc,
        "Warning",
        "DeleteLoadBalancerFailed",
        `Error deleting load balancer: ${errorMessage(err)}`,
      );
      return verdictFor(err);
    } finally {
      deleting();
    }
    this.deps.events.record(svc, "Normal", "DeletedLoadBalancer", "Deleted load balancer");
    await this.deps.writer.removeFinalizers(svc, LOAD_BALANCER_FINALIZERS);
    // A Service that stays (type changed away from LoadBalancer) must not keep advertising an address.
    if (!svc.metadata?.deletionTimestamp && currentStatus(svc)?.ingress?.length) {
      await this.deps.writer.patchLoadBalancerStatus(svc, { ingress: [] });
    }
    this.forget(key);
    return success;
  }

  /** The Service is gone. If it went without our finalizer (force-removed), still delete what we made. */
  private async forgetVanished(key: string, signal: AbortSignal): Promise<SyncVerdict> {
    const id = this.knownIds.get(key);
    if (id) {
      try {
        await this.deps.provider.delete(id, signal);
        this.countProviderCall("delete", "success");
      } catch (err) {
        this.countProviderCall("delete", "error");
        return verdictFor(err);
      }
    }
    this.forget(key);
    return success;
  }

  private forget(key: string): void {
    this.warnedDropped.delete(key);
    this.ensured.delete(key);
    this.lastInvalid.delete(key);
    this.knownIds.delete(key);
    this.forced.delete(key);
  }

  private countProviderCall(operation: string, outcome: string): void {
    this.deps.metrics.providerCallsTotal.inc({ provider: this.deps.provider.name, operation, outcome });
  }
}

function specCondition(svc: V1Service): { message?: string } | undefined {
  return svc.status?.conditions?.find((c) => c.type === SPEC_VALID_CONDITION);
}

export function splitKey(key: string): [string, string] {
  const slash = key.indexOf("/");
  return slash < 0 ? ["", key] : [key.slice(0, slash), key.slice(slash + 1)];
}

function hashOf(value: unknown): string {
  return createHash("sha256").update(JSON.stringify(value)).digest("base64url");
}

/** The provider last saw exactly this spec for this incarnation of the Service. */
function upToDate(previous: Ensured | undefined, uid: string, specHash: string): previous is Ensured {
  return previous?.uid === uid && previous.specHash === specHash;
}

const uidOf = (svc: V1Service): string => svc.metadata?.uid ?? "";
