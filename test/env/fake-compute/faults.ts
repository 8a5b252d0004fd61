/**
 * Fault injection and the call record. Methods are named `<collection>.<verb>` after the REST resource and the
 * client method (`forwardingRules.insert`, `regionBackendServices.update`, `instanceGroups.listInstances`,
 * `regionOperations.wait`); "*" matches every method. Faults are consumed in the order they were queued.
 */
import { isMutatingMethod } from "./router.js";
import { ComputeApiError } from "./types.js";

/** One request the fake answered (faulted ones included). */
export interface RecordedCall {
  readonly seq: number;
  /** `<collection>.<verb>`, or `unknown` for a path the fake does not serve. */
  readonly method: string;
  readonly httpMethod: string;
  /** Path without the query, e.g. /compute/v1/projects/p/regions/r/forwardingRules. */
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  /** Parsed JSON body, or undefined for a body-less request. */
  readonly body: unknown;
  /** Whether the method changes state (answers with an Operation); listInstances is a POST but read-only. */
  readonly mutating: boolean;
  readonly status: number;
  /** The JSON the fake answered (an Operation, a resource, a list or an error body). */
  readonly response: unknown;
}

export interface HttpFaultOptions {
  /** How many matching calls fail; default 1, Infinity until clearFaults(). */
  readonly times?: number;
  /** Compute reason; default from the status (429 rateLimitExceeded, 503 backendError, 403 forbidden...). */
  readonly reason?: string;
  readonly message?: string;
}

export interface OperationFaultOptions extends HttpFaultOptions {
  /** httpErrorStatusCode of the failed operation; default 400. */
  readonly status?: number;
}

type Fault =
  | { readonly kind: "http"; readonly error: ComputeApiError }
  | { readonly kind: "operation"; readonly error: ComputeApiError }
  | { readonly kind: "delay"; readonly ms: number };

interface Queued {
  readonly method: string;
  readonly fault: Fault;
  remaining: number;
}

const DEFAULT_REASON: Readonly<Record<number, string>> = {
  400: "invalid",
  403: "forbidden",
  404: "notFound",
  409: "alreadyExists",
  412: "conditionNotMet",
  429: "rateLimitExceeded",
  500: "backendError",
  503: "backendError",
};

function faultError(status: number, options: HttpFaultOptions): ComputeApiError {
  const reason = options.reason ?? DEFAULT_REASON[status] ?? "backendError";
  return new ComputeApiError(status, reason, options.message ?? `Injected fault: ${reason}`);
}

export class FaultBook {
  private queue: Queued[] = [];
  /** Mutating calls still to come before the one failNthMutation fails (1: the next one). */
  private mutationsUntilFault: { remaining: number; error: ComputeApiError } | undefined;
  private readonly methods: ReadonlySet<string>;

  /** `methods`: the method ids the server serves; a fault for any other name is a typo and throws. */
  constructor(methods: Iterable<string>) {
    this.methods = new Set(methods);
  }

  /** The next `times` calls of `method` answer HTTP `status` with Compute's error body; nothing is done. */
  failNext(method: string, status: number, options: HttpFaultOptions = {}): void {
    this.add(method, { kind: "http", error: faultError(status, options) }, options.times);
  }

  /** The next `times` mutations of `method` are accepted, but their operation finishes DONE with an error. */
  failNextOperation(method: string, options: OperationFaultOptions = {}): void {
    this.add(method, { kind: "operation", error: faultError(options.status ?? 400, options) }, options.times);
  }

  /** The next `times` calls of `method` are answered `ms` milliseconds late (the work is done after the delay). */
  delayNext(method: string, ms: number, options: { readonly times?: number } = {}): void {
    this.add(method, { kind: "delay", ms }, options.times);
  }

  /**
   * The `n`th mutating call from now (1-based, whatever its method) answers HTTP `status` (default 403, which
   * the provider neither retries nor waits on) and is not carried out: a create stopped part-way. 0 disarms.
   */
  failNthMutation(n: number, status = 403, options: HttpFaultOptions = {}): void {
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`n must be a whole number, got ${n}`);
    this.mutationsUntilFault = n === 0 ? undefined : { remaining: n, error: faultError(status, options) };
  }

  takeHttp(method: string): ComputeApiError | undefined {
    const counted = this.mutationsUntilFault;
    if (counted !== undefined && isMutatingMethod(method) && --counted.remaining === 0) {
      this.mutationsUntilFault = undefined;
      return counted.error;
    }
    const fault = this.take(method, "http");
    return fault?.kind === "http" ? fault.error : undefined;
  }

  takeOperation(method: string): ComputeApiError | undefined {
    const fault = this.take(method, "operation");
    return fault?.kind === "operation" ? fault.error : undefined;
  }

  takeDelay(method: string): number {
    const fault = this.take(method, "delay");
    return fault?.kind === "delay" ? fault.ms : 0;
  }

  /** Faults not consumed yet, as `{method, kind, remaining}`. */
  pending(): { method: string; kind: Fault["kind"]; remaining: number }[] {
    return this.queue.map((q) => ({ method: q.method, kind: q.fault.kind, remaining: q.remaining }));
  }

  clear(): void {
    this.queue = [];
    this.mutationsUntilFault = undefined;
  }

  private add(method: string, fault: Fault, times = 1): void {
    if (!(times > 0)) throw new RangeError(`times must be positive, got ${times}`);
    if (method !== "*" && !this.methods.has(method)) {
      throw new RangeError(`fake-compute serves no method '${method}' (known: ${[...this.methods].join(", ")})`);
    }
    this.queue.push({ method, fault, remaining: times });
  }

  private take(method: string, kind: Fault["kind"]): Fault | undefined {
    const index = this.queue.findIndex((q) => q.fault.kind === kind && (q.method === method || q.method === "*"));
    const found = this.queue[index];
    if (found === undefined) return undefined;
    found.remaining -= 1;
    if (found.remaining <= 0) this.queue.splice(index, 1);
    return found.fault;
  }
}
