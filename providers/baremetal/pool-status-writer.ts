/**
 * Writes AddressPool status (pool-status.ts) and an Event when a pool's Ready condition changes. Runs in every
 * controller replica but writes only while `active()` (the leader, once it has restored its allocations: a
 * standby's counts would be zeros). Writes are coalesced (one pass per `delayMs` at most) and skipped when the
 * object already says what it should, so allocation churn and our own status updates cause no write storm.
 */
import type { KubernetesObject } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { isNotFound } from "../../src/kube/api-error.js";
import type { KubeRest } from "../../src/kube/kube-rest.js";
import type { Clock } from "../../src/util/clock.js";
import { ADDRESS_POOL_API_VERSION, ADDRESS_POOL_KIND, ADDRESS_POOL_PLURAL } from "./crd-pool.js";
import { type PoolStatus, type PoolVerdict, desiredPoolStatus, readyOf, statusDiffers } from "./pool-status.js";

export interface PoolStatusWriterOptions {
  readonly rest: KubeRest;
  readonly logger: Logger;
  readonly clock: Clock;
  /** The AddressPool objects as last listed or watched (with their status). */
  readonly objects: () => readonly KubernetesObject[];
  /** The verdict on each pool by name; pools without one are left alone. */
  readonly verdict: (name: string) => PoolVerdict | undefined;
  readonly active: () => boolean;
  /** Reported as the Events' source. */
  readonly instance: string;
  /** Coalescing delay. Default 500 ms. */
  readonly delayMs?: number;
  /** Delay before trying again after a failed write. Default 5 s. */
  readonly retryMs?: number;
}

/** Events about cluster-scoped objects go to "default", as the kubelet's Node events do. */
const EVENT_NAMESPACE = "default";

export class PoolStatusWriter {
  /** uid -> what we last wrote and the resourceVersion the object had then (the informer may lag our write). */
  private readonly written = new Map<string, { resourceVersion: string | undefined; status: PoolStatus }>();
  /** uid -> the last Ready event's "reason\0message", so a condition is announced once. */
  private readonly announced = new Map<string, string>();
  private timer: ReturnType<Clock["setTimeout"]> | undefined;
  private running: Promise<void> | undefined;
  private pending = false;
  private stopped = false;

  constructor(private readonly options: PoolStatusWriterOptions) {}

  /** Asks for a pass soon; any number of calls before it runs cause one. */
  schedule(delayMs = this.options.delayMs ?? 500): void {
    if (this.stopped || this.timer !== undefined) return;
    this.timer = this.options.clock.setTimeout(() => {
      this.timer = undefined;
      this.run();
    }, delayMs);
    this.timer.unref?.();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.options.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Resolves when no pass is running (tests). */
  async idle(): Promise<void> {
    while (this.running !== undefined) await this.running;
  }

  private run(): void {
    this.pending = true;
    if (this.running !== undefined) return;
    this.running = this.drain().finally(() => {
      this.running = undefined;
    });
  }

  private async drain(): Promise<void> {
    while (this.pending && !this.stopped) {
      this.pending = false;
      if (this.options.active()) await this.pass();
    }
  }

  private async pass(): Promise<void> {
    let failed = false;
    for (const obj of this.options.objects()) {
      if (!(await this.update(obj))) failed = true;
    }
    if (failed) this.schedule(this.options.retryMs ?? 5_000);
  }

  /** Writes one object's status if it should change; false when the write failed and is worth retrying. */
  private async update(obj: KubernetesObject): Promise<boolean> {
    const name = obj.metadata?.name;
    const uid = obj.metadata?.uid ?? name;
    const verdict = name === undefined ? undefined : this.options.verdict(name);
    if (name === undefined || uid === undefined || verdict === undefined) return true;
    const current: unknown = (obj as { status?: unknown }).status;
    const desired = desiredPoolStatus(verdict, obj.metadata?.generation, current, new Date(this.options.clock.now()));
    const resourceVersion = obj.metadata?.resourceVersion;
    if (!statusDiffers(current, desired) || this.justWrote(uid, resourceVersion, desired)) return true;
    try {
      await this.options.rest.patch(
        `/apis/${ADDRESS_POOL_API_VERSION}/${ADDRESS_POOL_PLURAL}/${encodeURIComponent(name)}/status`,
        { status: desired },
        "application/merge-patch+json",
      );
      this.written.set(uid, { resourceVersion, status: desired });
    } catch (err) {
      if (isNotFound(err)) return true;
      this.options.logger.warn({ err, pool: name }, `could not write the status of AddressPool ${name}`);
      return false;
    }
    await this.announce(obj, name, uid, current, desired);
    return true;
  }

  /** We wrote this already and the informer has not brought the object back yet. */
  private justWrote(uid: string, resourceVersion: string | undefined, desired: PoolStatus): boolean {
    const last = this.written.get(uid);
    return last !== undefined && last.resourceVersion === resourceVersion && !statusDiffers(last.status, desired);
  }

  /** One Event per change of the Ready condition: a Warning naming why a pool is refused, Normal when it recovers. */
  private async announce(
    obj: KubernetesObject,
    name: string,
    uid: string,
    current: unknown,
    desired: PoolStatus,
  ): Promise<void> {
    const ready = desired.conditions[0];
    if (ready === undefined) return;
    const before = readyOf(current);
    const key = `${ready.reason}\u0000${ready.message}`;
    if (this.announced.get(uid) === key) return;
    const wasRefused = before !== undefined && before.status === "False";
    if (ready.status === "True" && !wasRefused) return;
    if (ready.status === "False" && before?.reason === ready.reason && before.message === ready.message) return;
    this.announced.set(uid, key);
    const now = new Date(this.options.clock.now());
    const type = ready.status === "True" ? "Normal" : "Warning";
    const reason = ready.status === "True" ? "PoolAccepted" : `Pool${ready.reason}`;
    try {
      await this.options.rest.post(`/api/v1/namespaces/${EVENT_NAMESPACE}/events`, {
        apiVersion: "v1",
        kind: "Event",
        metadata: { name: `${name}.${now.getTime().toString(16)}`, namespace: EVENT_NAMESPACE },
        involvedObject: {
          apiVersion: ADDRESS_POOL_API_VERSION,
          kind: ADDRESS_POOL_KIND,
          name,
          uid: obj.metadata?.uid,
          resourceVersion: obj.metadata?.resourceVersion,
        },
        type,
        reason,
        message: ready.message,
        count: 1,
        firstTimestamp: now,
        lastTimestamp: now,
        source: { component: "lb-operator", host: this.options.instance },
        reportingComponent: "lb-operator",
        reportingInstance: this.options.instance,
      });
    } catch (err) {
      this.options.logger.warn({ err, pool: name, reason }, "could not record the AddressPool event");
    }
  }
}
