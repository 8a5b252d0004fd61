import type { V1Lease } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { type Clock, sleep } from "../util/clock.js";
import { isConflict, isNotFound, kubeApiError } from "./api-error.js";
import type { KubeConfigData } from "./kube-config-loader.js";
import { KubeRest } from "./kube-rest.js";

export interface LeaderElectionOptions {
  /** Where the Lease lives; a KubeConnection shares its connection pool with the elector. */
  kubeConfig: KubeConfigData;
  namespace: string;
  name: string;
  identity: string;
  clock: Clock;
  logger: Logger;
  /** How long a lease is valid without renewal (client-go default 15 s). */
  leaseDurationMs?: number;
  /** The leader gives up if it could not renew for this long (client-go default 10 s). */
  renewDeadlineMs?: number;
  /** Time between attempts (client-go default 2 s). */
  retryPeriodMs?: number;
}

/**
 * Lease-based leader election with client-go's algorithm (tools/leaderelection): a candidate takes the
 * Lease when its holder has not renewed it for leaseDuration *as observed locally* (so clock skew between
 * nodes does not matter), renewals use optimistic concurrency on resourceVersion, and a leader that cannot
 * renew within renewDeadline stops leading. On shutdown the Lease is released so a standby takes over at
 * once instead of after leaseDuration (client-go ReleaseOnCancel).
 */
export class LeaderElector {
  private observedVersion: string | undefined;
  private observedAt = 0;
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  /** Every Lease call must finish well inside the renew deadline (client-go bounds it by the deadline too). */
  private readonly rest: KubeRest;

  constructor(private readonly options: LeaderElectionOptions) {
    this.leaseDurationMs = options.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = options.retryPeriodMs ?? 2_000;
    if (this.renewDeadlineMs >= this.leaseDurationMs) {
      throw new RangeError("renewDeadline must be shorter than leaseDuration");
    }
    this.rest = new KubeRest(options.kubeConfig, Math.max(1_000, Math.floor(this.renewDeadlineMs / 2)));
  }

  /**
   * Waits for leadership, then runs `lead` with a signal that aborts when leadership is lost or `signal`
   * aborts. Resolves when `signal` aborts (after releasing the Lease) or leadership is lost.
   */
  async run(signal: AbortSignal, lead: (leading: AbortSignal) => Promise<void>): Promise<"stopped" | "lost"> {
    const { clock, logger, identity } = this.options;
    while (!signal.aborted && !(await this.tryAcquireOrRenew())) {
      await sleep(clock, this.jittered(), signal).catch(() => undefined);
    }
    if (signal.aborted) return "stopped";
    logger.info({ identity, lease: `${this.options.namespace}/${this.options.name}` }, "became leader");
    const leading = new AbortController();
    const onStop = (): void => leading.abort(new Error("shutting down"));
    signal.addEventListener("abort", onStop, { once: true });
    // A failing `lead` ends leadership like a lost Lease: the caller exits and the process restarts clean.
    let failure: unknown;
    const work = lead(leading.signal).catch((err: unknown) => {
      failure = err;
      logger.error({ err, identity }, "leading failed; giving up leadership");
      leading.abort(new Error("leading failed", { cause: err }));
    });
    const outcome = await this.renewUntilLost(leading.signal);
    if (outcome === "lost") {
      logger.error({ identity }, "lost leadership");
      leading.abort(new Error("lost leadership"));
    }
    signal.removeEventListener("abort", onStop);
    await work;
    if (outcome === "stopped" || failure !== undefined) await this.release();
    if (failure !== undefined) throw new Error("leading failed", { cause: failure });
    return outcome;
  }

  private async renewUntilLost(leading: AbortSignal): Promise<"stopped" | "lost"> {
    const { clock } = this.options;
    let lastRenew = clock.now();
    for (;;) {
      await sleep(clock, this.retryPeriodMs, leading).catch(() => undefined);
      if (leading.aborted) return "stopped";
      if (await this.tryAcquireOrRenew()) {
        lastRenew = clock.now();
      } else if (clock.now() - lastRenew >= this.renewDeadlineMs) {
        return "lost";
      }
    }
  }

  /** One attempt; true when we hold the Lease afterwards. Errors count as "not now". */
  async tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name, clock, logger } = this.options;
    const now = clock.now();
    let lease: V1Lease;
    try {
      lease = await this.rest.get<V1Lease>(this.leasePath());
    } catch (err) {
      if (!isNotFound(err)) {
        logger.warn({ err: kubeApiError("reading leader lease", err) }, "leader election attempt failed");
        return false;
      }
      return this.write(() =>
        this.rest.postForObject<V1Lease>(`/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases`, {
          apiVersion: "coordination.k8s.io/v1",
          kind: "Lease",
          metadata: { name, namespace },
          spec: this.spec(now, now, 0),
        }),
      );
    }
    this.observe(lease, now);
    if (this.heldByAnother(lease, now)) return false;
    return this.takeOrRenew(lease, now);
  }

  /** The holder's duration runs from when we first saw the Lease's current version, on our own clock. */
  private observe(lease: V1Lease, now: number): void {
    const version = lease.metadata?.resourceVersion;
    if (version !== this.observedVersion) {
      this.observedVersion = version;
      this.observedAt = now;
    }
  }

  private heldByAnother(lease: V1Lease, now: number): boolean {
    const holder = lease.spec?.holderIdentity ?? "";
    // Judge the holder by the duration it wrote, as client-go does, but measured on our own clock.
    const durationMs = (lease.spec?.leaseDurationSeconds ?? this.leaseDurationMs / 1000) * 1000;
    return holder !== "" && holder !== this.options.identity && now < this.observedAt + durationMs;
  }

  /** Replaces a Lease that is free, expired or ours: a renewal keeps acquireTime and the transition count. */
  private async takeOrRenew(lease: V1Lease, now: number): Promise<boolean> {
    const { namespace, name, identity } = this.options;
    const holder = lease.spec?.holderIdentity ?? "";
    const transitions = lease.spec?.leaseTransitions ?? 0;
    const acquiredAt =
      holder === identity && lease.spec?.acquireTime ? new Date(lease.spec.acquireTime).getTime() : now;
    const body = {
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: { ...lease.metadata, name, namespace },
      spec: this.spec(acquiredAt, now, holder === identity ? transitions : transitions + 1),
    };
    return this.write(() => this.rest.put<V1Lease>(this.leasePath(), body));
  }

  private async write(call: () => Promise<V1Lease>): Promise<boolean> {
    try {
      const lease = await call();
      this.observedVersion = lease.metadata?.resourceVersion;
      this.observedAt = this.options.clock.now();
      return true;
    } catch (err) {
      if (!isConflict(err)) {
        this.options.logger.warn({ err: kubeApiError("writing leader lease", err) }, "leader election attempt failed");
      }
      return false;
    }
  }

  private async release(): Promise<void> {
    const { identity, logger } = this.options;
    try {
      const lease = await this.rest.get<V1Lease>(this.leasePath());
      if (lease.spec?.holderIdentity !== identity) return;
      await this.rest.put(this.leasePath(), {
        ...lease,
        spec: {
          ...lease.spec,
          holderIdentity: "",
          leaseDurationSeconds: 1,
          renewTime: microTime(this.options.clock.now()),
        },
      });
      logger.info({ identity }, "released leader lease");
    } catch (err) {
      logger.warn({ err: kubeApiError("releasing leader lease", err) }, "could not release leader lease");
    }
  }

  private spec(acquiredAt: number, renewedAt: number, transitions: number): LeaseSpecBody {
    return {
      holderIdentity: this.options.identity,
      leaseDurationSeconds: Math.ceil(this.leaseDurationMs / 1000),
      acquireTime: microTime(acquiredAt),
      renewTime: microTime(renewedAt),
      leaseTransitions: transitions,
    };
  }

  private leasePath(): string {
    const { namespace, name } = this.options;
    return `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/leases/${encodeURIComponent(name)}`;
  }

  private jittered(): number {
    return this.retryPeriodMs * (1 + Math.random() * 0.2);
  }
}

/** The Lease spec as JSON: times are metav1.MicroTime strings. */
interface LeaseSpecBody {
  holderIdentity: string;
  leaseDurationSeconds: number;
  acquireTime: string;
  renewTime: string;
  leaseTransitions: number;
}

/** metav1.MicroTime's wire form, RFC 3339 with six fractional digits ("...T10:00:00.123000Z"). */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/Z$/, "000Z");
}
