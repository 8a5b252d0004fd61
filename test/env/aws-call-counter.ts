/**
 * Counts the AWS calls a provider makes, by operation, so tests can assert "a second ensure with the same spec
 * makes no mutating call" and benches can report calls per reconcile (issue 4; the legacy provider's no-op
 * reconcile is about ten describes and one needless write per NLB, ../shared/reference/aws.md section 3).
 *
 * The wrapped clients are Proxies over the originals: `send` is counted, everything else (config, destroy,
 * middlewareStack) is the original's, and the originals stay uncounted for the test's own assertions.
 */
import type { AwsClients } from "../../providers/aws/aws-types.js";
import { InjectedCallError } from "../../testing/call-recorder.js";

export type CountedApi = keyof AwsClients;

export interface CountedCall {
  readonly api: CountedApi;
  /** The command class name without "Command", i.e. the AWS operation (CreateLoadBalancer). */
  readonly operation: string;
  readonly mutating: boolean;
}

export interface CallFilter {
  readonly api?: CountedApi;
  readonly mutating?: boolean;
}

export interface CallCounter {
  /** Clients whose every `send` is counted (failed calls too: an attempt is a call AWS bills and throttles). */
  readonly clients: AwsClients;
  /** Every call since the last reset, in order. */
  calls(filter?: CallFilter): readonly CountedCall[];
  count(filter?: CallFilter): number;
  /** Calls per operation; keys are "Operation", or "api:Operation" with `qualified` (DescribeTags exists in elb and elbv2). */
  byOperation(filter?: CallFilter & { readonly qualified?: boolean }): Record<string, number>;
  reset(): void;
  /**
   * The `n`th mutating call from now (1-based) is counted but not sent: it rejects with InjectedCallError, which
   * awsCall treats as a plain (not throttling, not transient) error, as a refusal or a stop part-way would be.
   * `n` 0 disarms a failure not reached yet.
   */
  failNthMutating(n: number): void;
}

/** Read-only operations: Describe*, List*, Get*. Everything else changes something (or might). */
export function isMutating(operation: string): boolean {
  return !/^(Describe|List|Get)[A-Z]/.test(operation);
}

export function operationName(command: unknown): string {
  const name = typeof command === "object" && command !== null ? command.constructor.name : "Unknown";
  return name.endsWith("Command") ? name.slice(0, -"Command".length) : name;
}

/** `onSend` returns an error to reject the call with instead of sending it. */
function countedClient<C extends object>(client: C, onSend: (command: unknown) => Error | undefined): C {
  return new Proxy(client, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (prop !== "send" || typeof value !== "function") return value;
      return (command: unknown, ...rest: unknown[]): unknown => {
        const injected = onSend(command);
        if (injected !== undefined) return Promise.reject(injected);
        return Reflect.apply(value, target, [command, ...rest]);
      };
    },
  });
}

export function countCalls(clients: AwsClients): CallCounter {
  const log: CountedCall[] = [];
  let failIn: number | undefined;
  const record =
    (api: CountedApi) =>
    (command: unknown): Error | undefined => {
      const operation = operationName(command);
      const mutating = isMutating(operation);
      log.push({ api, operation, mutating });
      if (!mutating || failIn === undefined || --failIn > 0) return undefined;
      failIn = undefined;
      return new InjectedCallError(`${api}:${operation}`);
    };
  const matches =
    (filter: CallFilter) =>
    (c: CountedCall): boolean =>
      (filter.api === undefined || c.api === filter.api) &&
      (filter.mutating === undefined || c.mutating === filter.mutating);

  return {
    clients: {
      elbv2: countedClient(clients.elbv2, record("elbv2")),
      elb: countedClient(clients.elb, record("elb")),
      ec2: countedClient(clients.ec2, record("ec2")),
    },
    calls: (filter = {}) => log.filter(matches(filter)),
    count: (filter = {}) => log.filter(matches(filter)).length,
    byOperation(filter = {}): Record<string, number> {
      const out: Record<string, number> = {};
      for (const c of log.filter(matches(filter))) {
        const key = filter.qualified === true ? `${c.api}:${c.operation}` : c.operation;
        out[key] = (out[key] ?? 0) + 1;
      }
      return out;
    },
    reset: () => {
      log.length = 0;
    },
    failNthMutating(n: number): void {
      if (!Number.isInteger(n) || n < 0) throw new RangeError(`n must be a whole number, got ${n}`);
      failIn = n === 0 ? undefined : n;
    },
  };
}
