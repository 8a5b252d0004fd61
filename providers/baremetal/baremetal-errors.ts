/**
 * Typed errors of the bare-metal allocator. The controller picks its reaction from the class
 * (src/errors.ts), so the split below is the retry policy:
 *
 * - InvalidSpecError subclasses: only a change to the Service (or to the pools, which the controller watches
 *   and which requeue every bare-metal Service) can fix them. Retrying on a timer would just repeat the
 *   same Warning event.
 * - RetryAfterError subclasses: the obstacle is *another* Service (it holds the address, or the pool is full).
 *   Deleting or changing that Service clears it without anyone touching this one, and nothing tells this
 *   Service's work-queue key when that happens, so poll. MetalLB relies on the same "retry when another
 *   service gets deleted" (MLB controller/service.go convergeBalancer).
 */
import { InvalidSpecError, LbOperatorError, RetryAfterError } from "../../src/errors.js";

/** Poll interval for conflicts with other Services: slow enough to be cheap, fast enough for a human. */
export const ALLOCATION_RETRY_AFTER_MS = 30_000;

/** An address the Service asks for, or still holds, is in no pool (or excluded by avoidBuggyIPs). */
export class AddressNotInPoolError extends InvalidSpecError {
  readonly ip: string;
  constructor(field: string, ip: string, message: string) {
    super(field, message);
    this.ip = ip;
  }
}

/** The pool annotation names a pool that does not exist. */
export class UnknownPoolError extends InvalidSpecError {
  readonly pool: string;
  constructor(field: string, pool: string, message: string) {
    super(field, message);
    this.pool = pool;
  }
}

/**
 * No pool could ever satisfy the request as written: no pools at all, no auto-assign pool, or no pool with
 * addresses of every family the Service needs. Not "exhausted": adding addresses is an admin's change.
 */
export class NoSuitablePoolError extends InvalidSpecError {}

/** Another Service holds the address and sharing is not allowed (no key, different key, or other backends). */
export class AddressInUseError extends RetryAfterError {
  readonly ip: string;
  /** namespace/name of the Service(s) in the way. */
  readonly holders: readonly string[];
  constructor(ip: string, holders: readonly string[], message: string, retryAfterMs: number) {
    super(message, retryAfterMs);
    this.ip = ip;
    this.holders = holders;
  }
}

/** Sharing is allowed, but both Services use some of the same (protocol, port) pairs on the address. */
export class PortCollisionError extends AddressInUseError {
  /** The colliding ports as "TCP/80". */
  readonly ports: readonly string[];
  constructor(ip: string, holders: readonly string[], ports: readonly string[], message: string, retryAfterMs: number) {
    super(ip, holders, message, retryAfterMs);
    this.ports = ports;
  }
}

/** Every candidate pool is full for the families asked for. Frees up when another Service goes away. */
export class PoolExhaustedError extends RetryAfterError {
  readonly pools: readonly string[];
  constructor(pools: readonly string[], message: string, retryAfterMs: number) {
    super(message, retryAfterMs);
    this.pools = pools;
  }
}

/**
 * Pool configuration (file, flag or AddressPool object) that cannot be used. Not a Service error: the
 * caller keeps the previous pools and reports this to the admin (log, or an event on the AddressPool).
 */
export class InvalidPoolError extends LbOperatorError {
  /** Where the pools came from ("pools.yaml", "--pool", "AddressPool lab"). */
  readonly source: string;
  /** One line per problem, each naming the pool and field. */
  readonly problems: readonly string[];
  constructor(source: string, problems: readonly string[], options?: { cause?: unknown }) {
    super(`invalid address pools in ${source}: ${problems.join("; ")}`, options);
    this.source = source;
    this.problems = problems;
  }
}

/**
 * The pool the Service names, or that holds the address it requests or holds, is limited to other namespaces or
 * Services (`serviceAllocation`). Only a change to the Service, its namespace or the pool fixes it.
 */
export class PoolScopeError extends InvalidSpecError {
  readonly pool: string;
  constructor(field: string, pool: string, message: string) {
    super(field, message);
    this.pool = pool;
  }
}
