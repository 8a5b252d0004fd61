/**
 * Global health checks: get, list, insert, update (PUT, full replace), patch (merge), delete (400 while a
 * backend service uses it). HTTP/HTTPS/HTTP2/TCP/SSL checks are validated the way Compute does: the detail object
 * matching `type`, port 1-65535 (default 80), requestPath starting with "/", 1 <= timeoutSec <= checkIntervalSec
 * <= 300, thresholds 1-10; defaults 5 s / 5 s / 2 / 2 filled in as Compute answers them.
 */
import { Body, mergePatch } from "./body.js";
import { validateName } from "./refs.js";
import {
  checkNameFree,
  checkSameName,
  deleteRoute,
  getRoute,
  listRoute,
  refIn,
  type Route,
  type RouteContext,
} from "./routes.js";
import { outputFields } from "./store.js";
import type { HealthCheck } from "./types.js";
import { invalid, required } from "./types.js";

const TYPES = ["HTTP", "HTTPS", "HTTP2", "TCP", "SSL"] as const;
const DETAIL = {
  HTTP: "httpHealthCheck",
  HTTPS: "httpsHealthCheck",
  HTTP2: "http2HealthCheck",
  TCP: "tcpHealthCheck",
  SSL: "sslHealthCheck",
} as const;
const COLLECTION = "healthChecks";
const BASE = "global/healthChecks";

function inRange(body: Body, field: string, fallback: number, [min, max]: readonly [number, number]): number {
  const value = body.integer(field) ?? fallback;
  if (value < min || value > max) {
    throw invalid(`Invalid value for field 'resource.${field}': '${value}'. Must be between ${min} and ${max}.`);
  }
  return value;
}

/** The stored form of a health check from request `body`, keeping `kept` output fields (id, creationTimestamp...). */
function buildHealthCheck(body: Body, kept: HealthCheck): HealthCheck {
  const type = body.enumOf("type", TYPES);
  if (type === undefined) throw required("resource.type");
  const detailField = DETAIL[type];
  const detail = body.object(detailField) ?? new Body({}, `resource.${detailField}`);
  const port = inRange(detail, "port", 80, [1, 65535]);
  const requestPath = type === "TCP" || type === "SSL" ? undefined : (detail.string("requestPath") ?? "/");
  if (requestPath !== undefined && !requestPath.startsWith("/")) {
    throw invalid(
      `Invalid value for field 'resource.${detailField}.requestPath': '${requestPath}'. Must start with '/'.`,
    );
  }
  const checkIntervalSec = inRange(body, "checkIntervalSec", 5, [1, 300]);
  const timeoutSec = inRange(body, "timeoutSec", 5, [1, 300]);
  if (timeoutSec > checkIntervalSec) {
    throw invalid("Invalid value for field 'resource.timeoutSec': timeout cannot be greater than checkIntervalSec.");
  }
  const details = {
    port,
    portSpecification: "USE_FIXED_PORT",
    proxyHeader: "NONE",
    ...(requestPath === undefined ? {} : { requestPath }),
  };
  return {
    ...kept,
    description: body.string("description") ?? "",
    type,
    [detailField]: details,
    checkIntervalSec,
    timeoutSec,
    healthyThreshold: inRange(body, "healthyThreshold", 2, [1, 10]),
    unhealthyThreshold: inRange(body, "unhealthyThreshold", 2, [1, 10]),
  };
}

function insert(ctx: RouteContext) {
  const name = validateName(ctx.body.string("name"));
  const target = refIn(ctx, COLLECTION, name);
  const id = ctx.store.nextId();
  const resource = buildHealthCheck(ctx.body, outputFields(ctx.store, target, "healthCheck", id));
  return {
    mutation: {
      operationType: "insert",
      target,
      targetId: id,
      check: () => checkNameFree(ctx, target),
      apply: () => ctx.store.put(COLLECTION, target.key, resource),
    },
  };
}

/** PUT replaces every field; PATCH merges the body into the current resource first. */
function replace(ctx: RouteContext, merge: boolean) {
  const target = refIn(ctx, COLLECTION);
  const current = ctx.store.require(COLLECTION, target);
  checkSameName(ctx.body, target);
  const body = merge ? new Body(mergePatch(current, ctx.body.json())) : ctx.body;
  const { id, kind, name, selfLink, creationTimestamp } = current;
  const resource = buildHealthCheck(body, { id, kind, name, selfLink, creationTimestamp });
  return {
    mutation: {
      operationType: merge ? "patch" : "update",
      target,
      targetId: String(id ?? ""),
      check: () => void ctx.store.require(COLLECTION, target),
      apply: () => ctx.store.put(COLLECTION, target.key, resource),
    },
  };
}

export const healthCheckRoutes: readonly Route[] = [
  getRoute("healthChecks.get", `${BASE}/:name`, COLLECTION),
  listRoute("healthChecks.list", BASE, COLLECTION, "healthCheckList"),
  { id: "healthChecks.insert", httpMethod: "POST", pattern: BASE, handle: insert },
  { id: "healthChecks.update", httpMethod: "PUT", pattern: `${BASE}/:name`, handle: (ctx) => replace(ctx, false) },
  { id: "healthChecks.patch", httpMethod: "PATCH", pattern: `${BASE}/:name`, handle: (ctx) => replace(ctx, true) },
  deleteRoute("healthChecks.delete", `${BASE}/:name`, COLLECTION),
];
