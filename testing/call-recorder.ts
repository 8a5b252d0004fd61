/**
 * The call-recording interface the contract suite (contract-suite.ts) works through. Each provider's tests
 * implement a ProviderTestWorld over their cloud (moto, the fake Compute API, an in-memory allocator): the world
 * records the provider's calls to the cloud, says what the cloud still holds, and may fail a chosen call.
 */
import { LbOperatorError } from "../src/errors.js";
import type { LoadBalancerProvider, LoadBalancerSpec } from "../src/provider.js";

/** One call the provider made to its cloud. */
export interface RecordedCall {
  /** The cloud's own name for it, e.g. "elbv2:CreateLoadBalancer" or "forwardingRules.insert". */
  readonly operation: string;
  /** Whether it changes (or may change) the cloud; reads are false. */
  readonly mutating: boolean;
}

export interface ProviderTestWorld {
  readonly provider: LoadBalancerProvider;
  /** A spec this provider can build, for a Service called `name` (each name its own load balancer). */
  spec(name: string): LoadBalancerSpec;
  /** The calls made since the world was made or clearCalls(), in order. */
  calls(): readonly RecordedCall[];
  clearCalls(): void;
  /** Every resource the cloud holds for the world's cluster, one string each (an id, an ARN, an address). */
  resources(): Promise<readonly string[]>;
  /**
   * Optional: makes the `n`th mutating call from now (1-based) fail with an error the provider does not retry,
   * without being carried out, as a controller stopped or a cloud refusing part-way through a create would.
   * `n` 0 disarms a failure not reached yet.
   */
  failNthMutatingCall?(n: number): void;
  /** Releases what the world holds (clients, servers); the suite calls it after each rule. */
  close?(): Promise<void>;
}

export type MakeProviderTestWorld = () => Promise<ProviderTestWorld>;

/** The error an injected failure throws (CallLog.failNth). */
export class InjectedCallError extends LbOperatorError {
  constructor(readonly operation: string) {
    super(`injected failure of ${operation}`);
  }
}

/**
 * A call log with failure injection, for worlds whose cloud is in memory: `record` logs a call and throws
 * InjectedCallError when it is the mutating call failNth chose (that call is then not carried out).
 */
export class CallLog {
  private readonly log: RecordedCall[] = [];
  private failAt: number | undefined;

  record(operation: string, mutating: boolean): void {
    this.log.push({ operation, mutating });
    if (!mutating || this.failAt === undefined) return;
    this.failAt -= 1;
    if (this.failAt > 0) return;
    this.failAt = undefined;
    throw new InjectedCallError(operation);
  }

  calls(): readonly RecordedCall[] {
    return [...this.log];
  }

  clear(): void {
    this.log.length = 0;
  }

  /** Fails the `n`th mutating call from now (1-based); 0 disarms. */
  failNth(n: number): void {
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`n must be a whole number, got ${n}`);
    this.failAt = n === 0 ? undefined : n;
  }
}
