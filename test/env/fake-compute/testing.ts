/**
 * Helpers for tests that drive the fake through the real clients (the fake's own tests and provider tests).
 *
 * Note on types: the clients' insert/update/delete resolve to `[LROperation, ...]` whose `latestResponse` gax
 * types as a google.longrunning.Operation, but on the REST transport it is the compute Operation the server
 * sent; `operationOf` is the one cast that reconciles the two.
 */
import type { GceClients } from "../../../providers/gce/gce-types.js";
import { LbOperatorError } from "../../../src/errors.js";
import type { Operation } from "./types.js";

export class OperationFailedError extends LbOperatorError {
  readonly operation: Operation;
  constructor(operation: Operation) {
    const first = operation.error?.errors?.[0];
    super(
      `operation ${operation.name ?? "?"} failed (${operation.httpErrorStatusCode ?? "?"}): ${first?.code ?? ""} ${first?.message ?? ""}`,
    );
    this.operation = operation;
  }
}

/** The compute Operation a mutating call resolved to. */
export function operationOf(result: readonly [{ readonly latestResponse: unknown }, ...unknown[]]): Operation {
  return result[0].latestResponse as Operation;
}

/** Scope of an operation from its selfLink: the operations client and request fields to poll it with. */
function pollerFor(clients: GceClients, op: Operation, project: string): () => Promise<Operation> {
  const link = op.selfLink ?? "";
  const operation = op.name ?? "";
  const region = /\/regions\/([^/]+)\/operations\//.exec(link)?.[1];
  const zone = /\/zones\/([^/]+)\/operations\//.exec(link)?.[1];
  if (region !== undefined) return async () => (await clients.regionOperations.wait({ project, region, operation }))[0];
  if (zone !== undefined) return async () => (await clients.zoneOperations.wait({ project, zone, operation }))[0];
  return async () => (await clients.globalOperations.wait({ project, operation }))[0];
}

/**
 * Waits for `op` with the scope's operations client `wait` until DONE (the loop of ../shared/reference/gce.md
 * section 3); returns the DONE operation and how many waits it took, and throws OperationFailedError when the
 * operation finished with an error unless `allowError`.
 */
export async function untilDone(
  clients: GceClients,
  op: Operation,
  options: { readonly project: string; readonly allowError?: boolean; readonly maxPolls?: number },
): Promise<{ operation: Operation; polls: number }> {
  const poll = pollerFor(clients, op, options.project);
  let current = op;
  let polls = 0;
  while (current.status !== "DONE") {
    if (polls >= (options.maxPolls ?? 50))
      throw new LbOperatorError(`operation ${op.name ?? "?"} not DONE after ${polls} waits`);
    current = await poll();
    polls += 1;
  }
  if (current.error?.errors?.length && !options.allowError) throw new OperationFailedError(current);
  return { operation: current, polls };
}

/** Runs a mutating call and waits for its operation: `await done(clients, project, clients.x.insert({...}))`. */
export async function done(
  clients: GceClients,
  project: string,
  call: Promise<readonly [{ readonly latestResponse: unknown }, ...unknown[]]>,
): Promise<Operation> {
  return (await untilDone(clients, operationOf(await call), { project })).operation;
}

/** Region, zones and subnetwork of the default seed (DEFAULT_ZONES / DEFAULT_NETWORKS). */
export const DEFAULT_WORLD = {
  region: "us-central1",
  zoneA: "us-central1-a",
  zoneB: "us-central1-b",
  network: "global/networks/default",
  subnetwork: "regions/us-central1/subnetworks/default",
} as const;

/**
 * A health check, an instance group in zoneA and an INTERNAL `protocol` backend service using both, all named
 * `${prefix}-hc|-ig|-bs`, created and waited for; returns their selfLinks.
 */
export async function createBackendBase(
  clients: GceClients,
  project: string,
  prefix: string,
  protocol: "TCP" | "UDP" = "TCP",
): Promise<{ healthCheck: string; group: string; backendService: string }> {
  const { region, zoneA } = DEFAULT_WORLD;
  const hc = await done(
    clients,
    project,
    clients.healthChecks.insert({
      project,
      healthCheckResource: {
        name: `${prefix}-hc`,
        type: "HTTP",
        httpHealthCheck: { port: 10256, requestPath: "/healthz" },
      },
    }),
  );
  const ig = await done(
    clients,
    project,
    clients.instanceGroups.insert({ project, zone: zoneA, instanceGroupResource: { name: `${prefix}-ig` } }),
  );
  const bs = await done(
    clients,
    project,
    clients.backendServices.insert({
      project,
      region,
      backendServiceResource: {
        name: `${prefix}-bs`,
        protocol,
        loadBalancingScheme: "INTERNAL",
        healthChecks: [hc.targetLink ?? ""],
        backends: [{ group: ig.targetLink ?? "" }],
      },
    }),
  );
  return { healthCheck: hc.targetLink ?? "", group: ig.targetLink ?? "", backendService: bs.targetLink ?? "" };
}

/** The error a client call rejected with (fails the test when it resolved). */
export async function rejectionOf(call: Promise<unknown>): Promise<Error & { code?: number; httpStatusCode?: number }> {
  try {
    await call;
  } catch (err) {
    if (err instanceof Error) return err;
    throw new LbOperatorError(`rejected with a non-Error: ${String(err)}`);
  }
  throw new LbOperatorError("expected the call to be rejected, it resolved");
}
