/**
 * Regional backend services, INTERNAL passthrough scheme only: get, list, insert, update (PUT with the current
 * `fingerprint`: missing is 400 required, stale is 412 conditionNotMet), delete (400 while a forwarding rule
 * uses it). Rules Compute applies to INTERNAL: protocol TCP, UDP or UNSPECIFIED (the default, HTTP, is refused),
 * exactly one existing health check, backends that are existing instance groups of the region's zones, each
 * at most once, balancingMode CONNECTION, the internal session affinities; and an update may not change the
 * protocol away from what the forwarding rules using the service carry (TCP/TCP, UDP/UDP, L3_DEFAULT/UNSPECIFIED).
 */
import type { Body } from "./body.js";
import { linkOf, type Ref } from "./refs.js";
import {
  checkSameName,
  deleteRoute,
  existing,
  getRoute,
  insertRoute,
  listRoute,
  refIn,
  type Route,
  type RouteContext,
} from "./routes.js";
import type { BackendService } from "./types.js";
import { ComputeApiError, invalid, required } from "./types.js";

const COLLECTION = "backendServices";
const BASE = "regions/:region/backendServices";
const AFFINITIES = [
  "NONE",
  "CLIENT_IP",
  "CLIENT_IP_PROTO",
  "CLIENT_IP_PORT_PROTO",
  "CLIENT_IP_NO_DESTINATION",
] as const;

/** Whether a forwarding rule's IPProtocol fits a backend service's protocol (Compute's passthrough rule). */
export function protocolsMatch(ipProtocol: string | null | undefined, protocol: string | null | undefined): boolean {
  return ipProtocol === "L3_DEFAULT" ? protocol === "UNSPECIFIED" : ipProtocol === protocol;
}

function backends(ctx: RouteContext, body: Body): BackendService["backends"] {
  const seen = new Set<string>();
  return (body.objects("backends") ?? []).map((b) => {
    const value = b.requiredString("group");
    const { ref, resource } = existing(ctx, value, {
      field: `${b.path}.group`,
      collection: "instanceGroups",
      defaultScope: ctx.scope,
    });
    const zone = ctx.store.get(
      "zones",
      `projects/${ref.project}/zones/${ref.scope.kind === "zone" ? ref.scope.name : ""}`,
    );
    const region = ctx.scope.kind === "region" ? ctx.scope.name : "";
    if (zone?.region == null || !zone.region.endsWith(`/regions/${region}`)) {
      throw invalid(
        `Invalid value for field '${b.path}.group': '${value}'. Backend group must be in region '${region}'.`,
      );
    }
    const group = resource.selfLink ?? linkOf(ref);
    if (seen.has(group))
      throw invalid(`Invalid value for field '${b.path}.group': '${value}'. Duplicate backend group.`);
    seen.add(group);
    const balancingMode = b.enumOf("balancingMode", ["CONNECTION", "UTILIZATION", "RATE"]) ?? "CONNECTION";
    if (balancingMode !== "CONNECTION") {
      throw invalid(
        `Invalid value for field '${b.path}.balancingMode': '${balancingMode}'. INTERNAL backend services support CONNECTION only.`,
      );
    }
    return {
      group,
      balancingMode,
      capacityScaler: 1,
      failover: b.boolean("failover") ?? false,
      description: b.string("description") ?? "",
    };
  });
}

function buildBackendService(ctx: RouteContext, body: Body, kept: BackendService): BackendService {
  const scheme = body.enumOf("loadBalancingScheme", ["INTERNAL", "EXTERNAL", "INTERNAL_MANAGED", "EXTERNAL_MANAGED"]);
  if (scheme === undefined) throw required("resource.loadBalancingScheme");
  if (scheme !== "INTERNAL")
    throw invalid(`fake-compute serves INTERNAL regional backend services only, not '${scheme}'.`);
  const protocol = body.string("protocol") ?? "HTTP";
  if (!["TCP", "UDP", "UNSPECIFIED"].includes(protocol)) {
    throw invalid(
      `Invalid value for field 'resource.protocol': '${protocol}'. Backend services with load balancing scheme INTERNAL must use TCP, UDP or UNSPECIFIED.`,
    );
  }
  const checks = body.strings("healthChecks") ?? [];
  if (checks.length !== 1) {
    throw invalid(
      `Invalid value for field 'resource.healthChecks': ${JSON.stringify(checks)}. Exactly one health check is required.`,
    );
  }
  const check = existing(ctx, checks[0] ?? "", {
    field: "resource.healthChecks[0]",
    collection: "healthChecks",
    defaultScope: { kind: "global" },
  });
  return {
    ...kept,
    description: body.string("description") ?? "",
    loadBalancingScheme: scheme,
    protocol,
    healthChecks: [linkOf(check.ref)],
    backends: backends(ctx, body),
    sessionAffinity: body.enumOf("sessionAffinity", AFFINITIES) ?? "NONE",
    timeoutSec: body.integer("timeoutSec") ?? 30,
    connectionDraining: { drainingTimeoutSec: body.object("connectionDraining")?.integer("drainingTimeoutSec") ?? 0 },
    fingerprint: ctx.store.nextFingerprint(),
  };
}

/** 400 when a forwarding rule using `target` carries a protocol `protocol` does not fit. */
function checkUsers(ctx: RouteContext, target: Ref, protocol: string | null | undefined): void {
  for (const fr of ctx.store.list("forwardingRules")) {
    if (fr.backendService === linkOf(target) && !protocolsMatch(fr.IPProtocol, protocol)) {
      throw invalid(
        `Invalid value for field 'resource.protocol': '${protocol}'. It must match the IPProtocol '${fr.IPProtocol}' of forwarding rule '${fr.selfLink}'.`,
      );
    }
  }
}

function update(ctx: RouteContext) {
  const target = refIn(ctx, COLLECTION);
  const sent = ctx.body.string("fingerprint");
  checkSameName(ctx.body, target);
  const build = () => {
    const current = ctx.store.require(COLLECTION, target);
    if (sent === undefined || sent === "") throw required("resource.fingerprint");
    if (sent !== current.fingerprint) throw new ComputeApiError(412, "conditionNotMet", "Invalid fingerprint.");
    const { id, kind, name, selfLink, creationTimestamp, region } = current;
    const next = buildBackendService(ctx, ctx.body, { id, kind, name, selfLink, creationTimestamp, region });
    checkUsers(ctx, target, next.protocol);
    return next;
  };
  const targetId = String(build().id ?? "");
  return {
    mutation: {
      operationType: "update",
      target,
      targetId,
      check: () => void build(),
      apply: () => ctx.store.put(COLLECTION, target.key, build()),
    },
  };
}

export const backendServiceRoutes: readonly Route[] = [
  getRoute("regionBackendServices.get", `${BASE}/:name`, COLLECTION),
  listRoute("regionBackendServices.list", BASE, COLLECTION, "backendServiceList"),
  insertRoute("regionBackendServices.insert", BASE, {
    collection: COLLECTION,
    kind: "backendService",
    build: (ctx, kept) => buildBackendService(ctx, ctx.body, kept),
  }),
  { id: "regionBackendServices.update", httpMethod: "PUT", pattern: `${BASE}/:name`, handle: update },
  deleteRoute("regionBackendServices.delete", `${BASE}/:name`, COLLECTION),
];
