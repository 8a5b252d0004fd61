/**
 * The reconcile deadline (`--reconcile-timeout`): every ensure and delete gets a signal that aborts when the
 * controller stops or when the call has run for `timeoutMs`, whichever comes first. The upstream service controller
 * hands each sync a context the cloud provider must honour (../shared/reference/upstream.md section 1, the
 * `ctx` of EnsureLoadBalancer); this is that context's deadline, so no Service waits behind a hung cloud call.
 *
 * Contract:
 *  - on the deadline the signal aborts with a DeadlineExceededError naming the operation and the timeout; providers
 *    pass the signal to every SDK call, so the HTTP request itself is cancelled, and cloudCall stops retrying;
 *  - the call rejects with that error at the deadline even if the provider ignores the signal, so a worker is never
 *    pinned. The error is a ProviderError: the reconciler records a Warning and the key backs off;
 *  - a call abandoned that way still owns its Service: the next call for the same Service first waits for it to
 *    settle (within its own deadline), so one Service never has two provider calls in flight.
 */
import { DeadlineExceededError } from "../errors.js";
import type { LoadBalancerId, LoadBalancerProvider, LoadBalancerSpec, LoadBalancerStatus } from "../provider.js";
import type { Clock } from "../util/clock.js";

export interface DeadlineOptions {
  readonly timeoutMs: number;
  readonly clock: Clock;
}

/** `provider` with every ensure and delete bounded by `timeoutMs` (see the file comment). */
export function withDeadline(provider: LoadBalancerProvider, options: DeadlineOptions): LoadBalancerProvider {
  if (!Number.isFinite(options.timeoutMs) || options.timeoutMs <= 0) {
    throw new RangeError(`the reconcile timeout must be a positive duration, got ${options.timeoutMs} ms`);
  }
  const deadline = new Deadline(provider.name, options);
  const bounded: LoadBalancerProvider = {
    name: provider.name,
    ensure: (spec: LoadBalancerSpec, signal: AbortSignal): Promise<LoadBalancerStatus> =>
      deadline.run("ensure", spec.id, signal, (bound) => provider.ensure(spec, bound)),
    delete: (id: LoadBalancerId, signal: AbortSignal): Promise<void> =>
      deadline.run("delete", id, signal, (bound) => provider.delete(id, bound)),
  };
  const restore = provider.restore?.bind(provider);
  return restore ? { ...bounded, restore } : bounded;
}

class Deadline {
  /** Calls that outlived their deadline and have not settled yet, by Service. */
  private readonly abandoned = new Map<string, Promise<void>>();

  constructor(
    private readonly providerName: string,
    private readonly options: DeadlineOptions,
  ) {}

  async run<T>(
    operation: "ensure" | "delete",
    id: LoadBalancerId,
    outer: AbortSignal,
    work: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    const { clock, timeoutMs } = this.options;
    const key = `${id.namespace}/${id.name}`;
    const bound = new AbortController();
    const onOuter = (): void => bound.abort(outer.reason);
    if (outer.aborted) onOuter();
    else outer.addEventListener("abort", onOuter, { once: true });
    const timer = clock.setTimeout(
      () => bound.abort(new DeadlineExceededError(`provider ${this.providerName} ${operation}`, timeoutMs)),
      timeoutMs,
    );
    timer.unref?.();
    try {
      const previous = this.abandoned.get(key);
      if (previous) await untilAborted(previous, bound.signal);
      bound.signal.throwIfAborted();
      const running = work(bound.signal);
      try {
        return await untilAborted(running, bound.signal);
      } catch (err) {
        if (bound.signal.aborted) this.abandon(key, running);
        throw err;
      }
    } finally {
      clock.clearTimeout(timer);
      outer.removeEventListener("abort", onOuter);
    }
  }

  private abandon(key: string, running: Promise<unknown>): void {
    const settled: Promise<void> = running.then(
      () => this.settle(key, settled),
      () => this.settle(key, settled),
    );
    this.abandoned.set(key, settled);
  }

  private settle(key: string, settled: Promise<void>): void {
    if (this.abandoned.get(key) === settled) this.abandoned.delete(key);
  }
}

/** `work`'s outcome, or the signal's reason as soon as it aborts. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = (): void => reject(signal.reason as Error);
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
  });
  return Promise.race([work, aborted]).finally(() => {
    if (onAbort) signal.removeEventListener("abort", onAbort);
  });
}
