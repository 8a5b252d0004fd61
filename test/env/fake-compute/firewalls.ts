/**
 * Global firewall rules: get, list, insert, update (PUT, full replace), patch (merge), delete. Validated as
 * Compute does: an existing `network`; exactly one of `allowed`/`denied`, non-empty, each with an IPProtocol
 * and ports only for tcp/udp/sctp; CIDRs in the ranges; priority 0-65535 (default 1000). An INGRESS rule with no
 * source at all gets sourceRanges ["0.0.0.0/0"], which is Compute's default and the exposure
 * kubernetes/kubernetes#56371 is about: the fake reproduces it so a provider that forgets its sources is caught.
 */
import { Body, mergePatch } from "./body.js";
import { validPortSpec } from "./forwarding-rules.js";
import { isCidrOrIp, linkOf } from "./refs.js";
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
import type { Firewall } from "./types.js";
import { invalid, required } from "./types.js";

const COLLECTION = "firewalls";
const BASE = "global/firewalls";
const PROTOCOLS_WITH_PORTS = ["tcp", "udp", "sctp"];

function rules(body: Body, field: "allowed" | "denied") {
  return (body.objects(field) ?? []).map((r) => {
    const protocol = r.requiredString("IPProtocol");
    if (!/^(tcp|udp|icmp|esp|ah|sctp|ipip|all|\d{1,3})$/.test(protocol)) {
      throw invalid(`Invalid value for field '${r.path}.IPProtocol': '${protocol}'.`);
    }
    const ports = r.strings("ports");
    if (ports !== undefined && ports.length > 0) {
      if (!PROTOCOLS_WITH_PORTS.includes(protocol))
        throw invalid(`Invalid value for field '${r.path}.ports': ports are allowed only for tcp, udp and sctp.`);
      for (const p of ports) if (!validPortSpec(p)) throw invalid(`Invalid value for field '${r.path}.ports': '${p}'.`);
    }
    return { IPProtocol: protocol, ...(ports === undefined || ports.length === 0 ? {} : { ports: [...ports] }) };
  });
}

function ranges(body: Body, field: string): string[] | undefined {
  const list = body.strings(field);
  for (const r of list ?? [])
    if (!isCidrOrIp(r))
      throw invalid(`Invalid value for field 'resource.${field}': '${r}'. Must be a valid IPv4 CIDR address range.`);
  return list;
}

function buildFirewall(ctx: RouteContext, body: Body, kept: Firewall): Firewall {
  const network = existing(ctx, body.requiredString("network"), {
    field: "resource.network",
    collection: "networks",
    defaultScope: { kind: "global" },
  });
  const allowed = rules(body, "allowed");
  const denied = rules(body, "denied");
  if (allowed.length > 0 && denied.length > 0)
    throw invalid("Invalid value for field 'resource.allowed': only one of allowed and denied may be set.");
  if (allowed.length === 0 && denied.length === 0) throw required("resource.allowed");
  const direction = body.enumOf("direction", ["INGRESS", "EGRESS"]) ?? "INGRESS";
  const priority = body.integer("priority") ?? 1000;
  if (priority < 0 || priority > 65535) throw invalid(`Invalid value for field 'resource.priority': '${priority}'.`);
  const sourceTags = body.strings("sourceTags") ?? [];
  const sourceServiceAccounts = body.strings("sourceServiceAccounts") ?? [];
  let sourceRanges = ranges(body, "sourceRanges") ?? [];
  let destinationRanges = ranges(body, "destinationRanges") ?? [];
  if (direction === "INGRESS" && sourceRanges.length + sourceTags.length + sourceServiceAccounts.length === 0)
    sourceRanges = ["0.0.0.0/0"];
  if (direction === "EGRESS" && destinationRanges.length === 0) destinationRanges = ["0.0.0.0/0"];
  return {
    ...kept,
    description: body.string("description") ?? "",
    network: linkOf(network.ref),
    priority,
    direction,
    ...(allowed.length > 0 ? { allowed } : { denied }),
    ...nonEmptyLists({
      sourceRanges,
      destinationRanges,
      sourceTags,
      sourceServiceAccounts,
      targetTags: body.strings("targetTags"),
      targetServiceAccounts: body.strings("targetServiceAccounts"),
    }),
    disabled: body.boolean("disabled") ?? false,
    logConfig: { enable: false },
  };
}

/** The lists that have items: Compute omits empty repeated fields from a stored rule. */
function nonEmptyLists(
  lists: Readonly<Record<string, readonly string[] | undefined>>,
): Record<string, readonly string[]> {
  return Object.fromEntries(
    Object.entries(lists).filter((entry): entry is [string, readonly string[]] => (entry[1]?.length ?? 0) > 0),
  );
}

/** PUT replaces every field; PATCH merges the body into the current rule (arrays replace). */
function replace(ctx: RouteContext, merge: boolean) {
  const target = refIn(ctx, COLLECTION);
  checkSameName(ctx.body, target);
  const build = () => {
    const current = ctx.store.require(COLLECTION, target);
    const body = merge ? new Body(mergePatch(current, ctx.body.json())) : ctx.body;
    const { id, kind, name, selfLink, creationTimestamp } = current;
    return buildFirewall(ctx, body, { id, kind, name, selfLink, creationTimestamp });
  };
  const targetId = String(build().id ?? "");
  return {
    mutation: {
      operationType: merge ? "patch" : "update",
      target,
      targetId,
      check: () => void build(),
      apply: () => ctx.store.put(COLLECTION, target.key, build()),
    },
  };
}

export const firewallRoutes: readonly Route[] = [
  getRoute("firewalls.get", `${BASE}/:name`, COLLECTION),
  listRoute("firewalls.list", BASE, COLLECTION, "firewallList"),
  insertRoute("firewalls.insert", BASE, {
    collection: COLLECTION,
    kind: "firewall",
    build: (ctx, kept) => buildFirewall(ctx, ctx.body, kept),
  }),
  { id: "firewalls.update", httpMethod: "PUT", pattern: `${BASE}/:name`, handle: (ctx) => replace(ctx, false) },
  { id: "firewalls.patch", httpMethod: "PATCH", pattern: `${BASE}/:name`, handle: (ctx) => replace(ctx, true) },
  deleteRoute("firewalls.delete", `${BASE}/:name`, COLLECTION),
];
