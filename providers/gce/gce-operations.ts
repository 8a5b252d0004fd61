/**
 * Awaiting Compute long-running operations. Every mutating Compute call answers with an Operation
 * (PENDING -> RUNNING -> DONE); a DONE operation may still have failed (`error.errors[]`). As k8s-cloud-provider's
 * WaitForCompletion does (../shared/reference/gce.md section 3), the operation's scope (zone, region or global)
 * picks the operations client, and `wait` is called until DONE: `wait` blocks server-side until the operation is
 * done or about two minutes pass. Polls that come back early without DONE are spaced at least
 * `minPollIntervalMs` apart (the anchor: 1 s), so a server that never blocks is not hammered. The AbortSignal
 * stops waiting at once (the operation itself keeps running in Compute; the next reconcile GETs first).
 */
import type { protos } from "@google-cloud/compute";
import { LbOperatorError, RetryAfterError } from "../../src/errors.js";
import { sleep, type Clock } from "../../src/util/clock.js";
import { THROTTLE_RETRY_AFTER_MS } from "../../src/toolkit/index.js";
import type { CloudCallObserver } from "../../src/cloud-call-observer.js";
import { gceCall } from "./gce-call.js";
import type { GceClients } from "./gce-types.js";

export type Operation = protos.google.cloud.compute.v1.IOperation;

/** Operation error codes that mean "too much, too fast": retried later, like an HTTP 429. */
const QUOTA_CODES: ReadonlySet<string> = new Set(["QUOTA_EXCEEDED", "RATE_LIMIT_EXCEEDED", "RESOURCE_EXHAUSTED"]);
/** `Operation.Status.DONE` as the client reports it with integer enum encoding (it normally gives the name). */
const DONE_NUMBER = 2104194;

/** An operation finished with errors. `codes` are Compute's (e.g. RESOURCE_NOT_READY, IP_IN_USE_BY_ANOTHER_RESOURCE). */
export class GceOperationError extends LbOperatorError {
  readonly operation: string;
  readonly codes: readonly string[];
  readonly httpStatus: number | undefined;
  constructor(operation: string, op: Operation) {
    const errors = op.error?.errors ?? [];
    super(
      `${operation}: operation ${op.name ?? "?"} failed: ${errors.map((e) => `${e.code ?? "?"}: ${e.message ?? ""}`).join("; ") || "unknown error"}`,
    );
    this.operation = operation;
    this.codes = errors.map((e) => e.code ?? "");
    this.httpStatus =
      typeof op.httpErrorStatusCode === "number" && op.httpErrorStatusCode > 0 ? op.httpErrorStatusCode : undefined;
  }
}

export interface OperationWaiterOptions {
  readonly clients: Pick<GceClients, "regionOperations" | "zoneOperations" | "globalOperations">;
  readonly project: string;
  readonly clock: Clock;
  /** Minimum time between the starts of two polls that did not return DONE. Default 1000 ms. */
  readonly minPollIntervalMs?: number;
  readonly minRetryDelayMs?: number;
  /** Told of every poll sent (metrics). */
  readonly observer?: CloudCallObserver | undefined;
}

/** The last path segment of a Compute URL or the value itself ("…/zones/us-central1-a" -> "us-central1-a"). */
export function lastSegment(urlOrName: string): string {
  return urlOrName.slice(urlOrName.lastIndexOf("/") + 1);
}

export function isDone(op: Operation): boolean {
  const status: unknown = op.status;
  return status === "DONE" || status === DONE_NUMBER;
}

/** The Operation inside the client's LRO wrapper (`[{latestResponse: Operation, …}]`, reference section 3). */
export function operationOf(lro: { readonly latestResponse?: unknown }): Operation {
  const op = lro.latestResponse as Operation | null | undefined;
  if (typeof op !== "object" || op === null || typeof op.name !== "string") {
    throw new LbOperatorError("Compute answered a mutating call without an Operation");
  }
  return op;
}

export class OperationWaiter {
  constructor(private readonly options: OperationWaiterOptions) {}

  /**
   * Resolves when `op` is DONE without error.
   * @throws GceOperationError when it finished with errors; RetryAfterError when those are quota errors.
   */
  async wait(operation: string, first: Operation, signal: AbortSignal): Promise<Operation> {
    const { clients, project, clock } = this.options;
    const minInterval = this.options.minPollIntervalMs ?? 1_000;
    const call = { signal, minRetryDelayMs: this.options.minRetryDelayMs, observer: this.options.observer };
    let op = first;
    while (!isDone(op)) {
      const name = op.name ?? "";
      const started = clock.now();
      if (op.zone) {
        const zone = lastSegment(op.zone);
        [op] = await gceCall(
          "zoneOperations.wait",
          (o) => clients.zoneOperations.wait({ project, zone, operation: name }, o),
          call,
        );
      } else if (op.region) {
        const region = lastSegment(op.region);
        [op] = await gceCall(
          "regionOperations.wait",
          (o) => clients.regionOperations.wait({ project, region, operation: name }, o),
          call,
        );
      } else {
        [op] = await gceCall(
          "globalOperations.wait",
          (o) => clients.globalOperations.wait({ project, operation: name }, o),
          call,
        );
      }
      const elapsed = clock.now() - started;
      if (!isDone(op) && elapsed < minInterval) await sleep(clock, minInterval - elapsed, signal);
    }
    const errors = op.error?.errors ?? [];
    if (errors.length > 0) {
      const failure = new GceOperationError(operation, op);
      if (failure.codes.some((c) => QUOTA_CODES.has(c)) || failure.httpStatus === 429) {
        throw new RetryAfterError(`${operation}: ${failure.message}`, THROTTLE_RETRY_AFTER_MS, { cause: failure });
      }
      throw failure;
    }
    return op;
  }
}
