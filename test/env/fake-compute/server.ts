/**
 * A local fake of the Compute Engine REST API (v1) for the GCE provider's tests: an HTTP server on loopback that
 * the real @google-cloud/compute client talks to (clients.ts builds them). It serves the paths of
 * ../shared/reference/gce.md section 3 and behaves like Compute where a provider can go wrong: validation,
 * 404/409/400/412, in-use rules, long-running operations (operations.ts), fault injection (faults.ts) and a
 * record of every call. See test/env/README.md ("fake-compute").
 *
 * Wire contract (what google-gax's REST transport needs, gax fallbackRest.ts / fallbackServiceStub.ts): every
 * answer is a non-empty JSON body; errors are `{error:{code,message,errors:[{domain,reason,message}]}}`;
 * GET/DELETE come without a body; unknown query parameters (`$alt`, `$prettyPrint`, `returnPartialSuccess`)
 * are ignored; `requestId` makes a mutating call idempotent as in Compute (same id, same operation back).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { Body } from "./body.js";
import { FaultBook, type RecordedCall } from "./faults.js";
import { OperationBook } from "./operations.js";
import { isMutatingMethod, matchRoute } from "./router.js";
import { ComputeStore } from "./store.js";
import { ComputeApiError, alreadyExists, errorBody, notFound, notReady, type Operation } from "./types.js";

export interface ServerParts {
  readonly store: ComputeStore;
  readonly ops: OperationBook;
  readonly faults: FaultBook;
  readonly calls: RecordedCall[];
  /** Operation self-links by requestId. */
  readonly requestIds: Map<string, { project: string; op: Operation }>;
  readonly project: string;
}

export async function listen(parts: ServerParts, host: string): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    handle(parts, req, res).catch((err: unknown) =>
      send(res, 500, errorBody(new ComputeApiError(500, "backendError", String(err)))),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, host, () => resolve());
  });
  return { server, port: (server.address() as AddressInfo).port };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * Writes `body` as JSON without null members: Compute never sends null, and the client's proto3-JSON decoder
 * rejects it ("field targetId of type uint64 cannot contain value null").
 */
function send(res: ServerResponse, status: number, body: object): void {
  const text = JSON.stringify(body, (_key, value: unknown) => (value === null ? undefined : value));
  res.writeHead(status, {
    "content-type": "application/json; charset=UTF-8",
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}

async function handle(parts: ServerParts, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? "/", "http://fake-compute");
  const httpMethod = req.method ?? "GET";
  const text = await readBody(req);
  const match = matchRoute(httpMethod, url.pathname);
  const method = match?.route.id ?? "unknown";
  let body: unknown;
  const answer = (status: number, json: object) => {
    parts.calls.push({
      seq: parts.calls.length + 1,
      method,
      httpMethod,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      body,
      mutating: match !== undefined && isMutatingMethod(method),
      status,
      response: json,
    });
    send(res, status, json);
  };
  try {
    const parsed = text.trim() === "" ? undefined : (JSON.parse(text) as unknown);
    body = parsed === "" ? undefined : parsed;
  } catch {
    answer(400, errorBody(new ComputeApiError(400, "parseError", "Invalid JSON payload received.")));
    return;
  }
  parts.ops.settleExpired();
  const delay = parts.faults.takeDelay(method);
  if (delay > 0) await sleep(delay);
  try {
    const injected = parts.faults.takeHttp(method);
    if (injected !== undefined) throw injected;
    if (match === undefined) throw notFound(`${httpMethod} ${url.pathname} (not served by fake-compute)`);
    if (match.project !== parts.project) throw notFound(`projects/${match.project}`);
    // The client sends `""` as the body of a body-less POST (operations wait): only an object is a resource.
    const resource = typeof body === "object" && body !== null && !Array.isArray(body) ? body : {};
    answer(200, dispatch(parts, match, new Body(resource), url.searchParams));
  } catch (err) {
    // A bug in the fake is a recorded 500, never a hung request.
    const apiError =
      err instanceof ComputeApiError
        ? err
        : new ComputeApiError(500, "backendError", `fake-compute bug: ${String(err)}`);
    answer(apiError.status, errorBody(apiError));
  }
}

function dispatch(
  parts: ServerParts,
  match: NonNullable<ReturnType<typeof matchRoute>>,
  body: Body,
  query: URLSearchParams,
): object {
  const ctx = {
    project: match.project,
    scope: match.scope,
    name: match.name,
    body,
    query,
    store: parts.store,
    ops: parts.ops,
  };
  const requestId = query.get("requestId");
  const previous = requestId === null ? undefined : parts.requestIds.get(requestId);
  if (previous !== undefined && isMutatingMethod(match.route.id)) {
    return parts.ops.poll(previous.project, scopeOf(previous.op), previous.op.name ?? "", false);
  }
  const result = match.route.handle(ctx);
  if ("json" in result) return result.json;
  const { mutation } = result;
  if (parts.ops.pendingOn(mutation.target.key)) {
    throw mutation.operationType === "insert" ? alreadyExists(mutation.target.key) : notReady(mutation.target.key);
  }
  mutation.check();
  const op = parts.ops.start(mutation, parts.faults.takeOperation(match.route.id));
  if (requestId !== null) parts.requestIds.set(requestId, { project: match.project, op });
  return op;
}

function scopeOf(op: Operation) {
  const tail = (link: string | null | undefined) => (link ?? "").slice((link ?? "").lastIndexOf("/") + 1);
  if (op.zone) return { kind: "zone" as const, name: tail(op.zone) };
  if (op.region) return { kind: "region" as const, name: tail(op.region) };
  return { kind: "global" as const };
}
