/**
 * Long-running operations. Every mutating call answers with an Operation; its effect is applied when the
 * operation reaches DONE (never at insert), so a caller that does not wait sees 404s and stale reads, as it
 * would against Compute. Contract:
 * - With `polls` = N > 0 the operation is PENDING when returned and each `get`/`wait` on it moves it one step
 *   (PENDING -> RUNNING -> ... -> DONE); `wait` returns after one step, possibly before DONE, as Compute's wait
 *   may (it returns after at most 2 minutes). N = 0: DONE in the mutating call's own answer.
 * - An operation older than `settleAfterMs` is DONE at the next request of any kind (real operations finish
 *   whether or not anyone polls; a controller killed mid-wait finds its work done on restart).
 * - At DONE the mutation's check() runs again against the state of that moment (a health check deleted while a
 *   backend service insert was pending fails the insert), then apply(). A failed check, or an injected fault,
 *   finishes the operation with `error.errors[]` and `httpErrorStatusCode` and applies nothing.
 * - While an operation is not DONE its target is locked: a second mutation of it gets 400 resourceNotReady
 *   (409 alreadyExists for a second insert of the same name).
 */
import { LINK_BASE, linkOf, scopeLink, scopePath, type Ref } from "./refs.js";
import type { ComputeStore } from "./store.js";
import type { Operation, OperationStatus, Scope } from "./types.js";
import { ComputeApiError, notFound } from "./types.js";

/** A change a mutating call asks for. */
export interface Mutation {
  /** Compute's operationType: insert, delete, update, patch, addInstances, removeInstances. */
  readonly operationType: string;
  readonly target: Ref;
  /** Throws ComputeApiError if the change cannot be made now; runs at request time and again at DONE. */
  readonly check: () => void;
  readonly apply: () => void;
  /** Id of the target (for an insert, the id the new resource will get). */
  readonly targetId?: string;
}

interface Tracked {
  op: Operation;
  readonly mutation: Mutation;
  readonly createdAt: number;
  readonly failWith: ComputeApiError | undefined;
  steps: number;
}

const HTTP_TEXT: Readonly<Record<number, string>> = {
  400: "BAD REQUEST",
  403: "FORBIDDEN",
  404: "NOT FOUND",
  409: "CONFLICT",
  412: "PRECONDITION FAILED",
  429: "TOO MANY REQUESTS",
  500: "INTERNAL SERVER ERROR",
  503: "SERVICE UNAVAILABLE",
};

/** Compute's operation error codes are the reasons in UPPER_SNAKE_CASE (notFound is RESOURCE_NOT_FOUND). */
export function operationErrorCode(reason: string): string {
  const special: Readonly<Record<string, string>> = {
    notFound: "RESOURCE_NOT_FOUND",
    alreadyExists: "RESOURCE_ALREADY_EXISTS",
    invalid: "INVALID_FIELD_VALUE",
    required: "REQUIRED_FIELD_MISSING",
  };
  return special[reason] ?? reason.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase();
}

export interface OperationSettings {
  readonly polls: number;
  readonly settleAfterMs: number;
}

export class OperationBook {
  private readonly tracked = new Map<string, Tracked>();
  /** Operations not DONE yet, by target key: scanned on every request, so kept apart from the finished ones. */
  private readonly pending = new Map<string, Tracked>();
  private readonly store: ComputeStore;
  private readonly now: () => number;
  private counter = 0;
  settings: OperationSettings;

  constructor(store: ComputeStore, now: () => number, settings: OperationSettings) {
    this.store = store;
    this.now = now;
    this.settings = settings;
  }

  /** Starts `mutation` (already checked by the caller) and returns the operation as the call answers it. */
  start(mutation: Mutation, failWith: ComputeApiError | undefined): Operation {
    this.counter += 1;
    const { target } = mutation;
    const name = `operation-${this.now()}-${this.counter.toString(16).padStart(6, "0")}`;
    const opKey = operationKey(target.project, target.scope, name);
    const scope = scopeFields(target.project, target.scope);
    const op: Operation = {
      kind: "compute#operation",
      id: this.store.nextId(),
      name,
      operationType: mutation.operationType,
      targetLink: linkOf(target),
      ...(mutation.targetId === undefined ? {} : { targetId: mutation.targetId }),
      status: "PENDING",
      user: "fake-compute@example.com",
      progress: 0,
      insertTime: this.store.timestamp(),
      selfLink: LINK_BASE + opKey,
      ...scope,
    };
    const entry: Tracked = { op, mutation, createdAt: this.now(), failWith, steps: 0 };
    this.tracked.set(opKey, entry);
    this.pending.set(target.key, entry);
    if (this.settings.polls <= 0) this.finish(entry);
    return structuredClone(entry.op);
  }

  /** The operation `name` in `project`/`scope`; `advance` moves it one step first (get and wait do). */
  poll(project: string, scope: Scope, name: string, advance: boolean): Operation {
    const key = operationKey(project, scope, name);
    const entry = this.tracked.get(key);
    if (entry === undefined) throw notFound(key);
    if (advance && entry.op.status !== "DONE") {
      entry.steps += 1;
      if (entry.steps >= this.settings.polls) this.finish(entry);
      else this.setStatus(entry, "RUNNING");
    }
    return structuredClone(entry.op);
  }

  /** Finishes operations older than settleAfterMs (call on every request). */
  settleExpired(): void {
    for (const entry of [...this.pending.values()]) {
      if (this.now() - entry.createdAt >= this.settings.settleAfterMs) this.finish(entry);
    }
  }

  /** Finishes every pending operation now. */
  settleAll(): void {
    for (const entry of [...this.pending.values()]) this.finish(entry);
  }

  /** The operation not yet DONE whose target is `key`, if any. */
  pendingOn(key: string): Operation | undefined {
    const entry = this.pending.get(key);
    return entry === undefined ? undefined : structuredClone(entry.op);
  }

  all(): Operation[] {
    return [...this.tracked.values()].map((e) => structuredClone(e.op));
  }

  clear(): void {
    this.tracked.clear();
    this.pending.clear();
  }

  private setStatus(entry: Tracked, status: OperationStatus): void {
    entry.op.status = status;
    if (status !== "PENDING" && entry.op.startTime == null) entry.op.startTime = this.store.timestamp();
    if (status === "RUNNING") entry.op.progress = 50;
  }

  private finish(entry: Tracked): void {
    this.pending.delete(entry.mutation.target.key);
    this.setStatus(entry, "RUNNING");
    let failure = entry.failWith;
    if (failure === undefined) {
      try {
        entry.mutation.check();
        entry.mutation.apply();
      } catch (err) {
        if (!(err instanceof ComputeApiError)) throw err;
        failure = err;
      }
    }
    entry.op.status = "DONE";
    entry.op.progress = 100;
    entry.op.endTime = this.store.timestamp();
    if (failure !== undefined) {
      entry.op.error = { errors: [{ code: operationErrorCode(failure.reason), message: failure.message }] };
      entry.op.httpErrorStatusCode = failure.status;
      entry.op.httpErrorMessage = HTTP_TEXT[failure.status] ?? "ERROR";
    }
  }
}

function operationKey(project: string, scope: Scope, name: string): string {
  return `projects/${project}/${scopePath(scope)}/operations/${name}`;
}

function scopeFields(project: string, scope: Scope): Pick<Operation, "region" | "zone"> {
  if (scope.kind === "region") return { region: scopeLink(project, scope) };
  if (scope.kind === "zone") return { zone: scopeLink(project, scope) };
  return {};
}
