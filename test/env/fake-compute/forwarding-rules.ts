/**
 * Regional forwarding rules, INTERNAL passthrough only: get, list, insert, delete; no update (immutable, as
 * cloud-provider-gcp treats them: ../shared/reference/gce.md section 1 step 5). Insert requires
 * loadBalancingScheme, IPProtocol (TCP, UDP, L3_DEFAULT) fitting the backend service's protocol, an existing
 * backendService of the same scheme and region, network, and a subnetwork of that network in the region; `ports`
 * (at most 5, else 400 "Too many ports specified. Maximum is 5", istio/istio#11365) xor `allPorts`. IPAddress:
 * absent, the lowest free address of the subnetwork is assigned at DONE; given, it must be a usable address of the
 * subnetwork (400 otherwise, kubernetes/kubernetes#57860) not taken by an instance or another forwarding rule
 * (409); an address reserved by an Address resource may be used (the anchor's IP hold) and that address turns
 * IN_USE with the rule among its users until the rule is deleted.
 */
import { protocolsMatch } from "./backend-services.js";
import { formatIpv4, linkOf, parseCidr, parseIpv4, type Ref, usableInRange } from "./refs.js";
import { deleteRoute, existing, getRoute, insertRoute, listRoute, type Route, type RouteContext } from "./routes.js";
import type { ForwardingRule, Subnetwork } from "./types.js";
import { ComputeApiError, invalid, required } from "./types.js";

const COLLECTION = "forwardingRules";
const BASE = "regions/:region/forwardingRules";
export const MAX_PORTS = 5;

/** "80" or "8080-8082", within 1-65535. */
export function validPortSpec(spec: string): boolean {
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(spec);
  if (!m) return false;
  const low = Number(m[1]);
  const high = m[2] === undefined ? low : Number(m[2]);
  return low >= 1 && high <= 65535 && low <= high;
}

function ports(ctx: RouteContext): Pick<ForwardingRule, "ports" | "allPorts"> {
  const list = ctx.body.strings("ports");
  const all = ctx.body.boolean("allPorts") ?? false;
  if (ctx.body.has("portRange"))
    throw invalid(
      "Invalid value for field 'resource.portRange'. Use 'ports' or 'allPorts' with INTERNAL forwarding rules.",
    );
  if (list !== undefined && list.length > 0 && all)
    throw invalid("Invalid value for field 'resource.allPorts': 'true'. Cannot specify both ports and allPorts.");
  if (list === undefined || list.length === 0) {
    if (!all) throw required("resource.ports");
    return { allPorts: true };
  }
  if (list.length > MAX_PORTS)
    throw invalid(
      `Invalid value for field 'resource.ports': '${list.join(",")}'. Too many ports specified. Maximum is ${MAX_PORTS}.`,
    );
  for (const p of list)
    if (!validPortSpec(p)) throw invalid(`Invalid value for field 'resource.ports': '${p}'. Invalid port.`);
  if (new Set(list).size !== list.length)
    throw invalid(`Invalid value for field 'resource.ports': '${list.join(",")}'. Duplicate ports.`);
  return { ports: [...list] };
}

/** The stored rule from the request, validated against the current state; `assignIp` picks a free address. */
function buildForwardingRule(ctx: RouteContext, kept: ForwardingRule, assignIp: boolean): ForwardingRule {
  const body = ctx.body;
  const scheme = body.enumOf("loadBalancingScheme", [
    "INTERNAL",
    "EXTERNAL",
    "INTERNAL_MANAGED",
    "EXTERNAL_MANAGED",
    "INTERNAL_SELF_MANAGED",
  ]);
  if (scheme === undefined) throw required("resource.loadBalancingScheme");
  if (scheme !== "INTERNAL") throw invalid(`fake-compute serves INTERNAL forwarding rules only, not '${scheme}'.`);
  const ipProtocol = body.enumOf("IPProtocol", ["TCP", "UDP", "L3_DEFAULT", "ESP", "AH", "SCTP", "ICMP"]);
  if (ipProtocol === undefined) throw required("resource.IPProtocol");
  const bs = existing(ctx, body.requiredString("backendService"), {
    field: "resource.backendService",
    collection: "backendServices",
    defaultScope: ctx.scope,
  });
  if (
    bs.resource.loadBalancingScheme !== scheme ||
    linkOf(bs.ref) !== bs.resource.selfLink ||
    bs.ref.scope.kind !== "region"
  ) {
    throw invalid(
      `Invalid value for field 'resource.backendService'. The backend service must be a regional ${scheme} backend service.`,
    );
  }
  if (!protocolsMatch(ipProtocol, bs.resource.protocol)) {
    throw invalid(
      `Invalid value for field 'resource.IPProtocol': '${ipProtocol}'. It must match the protocol '${bs.resource.protocol}' of backend service '${bs.ref.key}'.`,
    );
  }
  const network = existing(ctx, body.requiredString("network"), {
    field: "resource.network",
    collection: "networks",
    defaultScope: { kind: "global" },
  });
  const subnet = existing(ctx, body.requiredString("subnetwork"), {
    field: "resource.subnetwork",
    collection: "subnetworks",
    defaultScope: ctx.scope,
  });
  if (subnet.resource.network !== linkOf(network.ref) || subnet.resource.region !== kept.region) {
    throw invalid(
      `Invalid value for field 'resource.subnetwork': '${subnet.ref.key}'. The subnetwork must belong to network '${network.ref.key}' and the rule's region.`,
    );
  }
  const subnetLink = linkOf(subnet.ref);
  const ip = ruleAddress(ctx, subnet, kept, assignIp);
  return {
    ...kept,
    description: body.string("description") ?? "",
    ...(ip === undefined ? {} : { IPAddress: ip }),
    IPProtocol: ipProtocol,
    loadBalancingScheme: scheme,
    backendService: linkOf(bs.ref),
    network: linkOf(network.ref),
    subnetwork: subnetLink,
    ...ports(ctx),
    allowGlobalAccess: body.boolean("allowGlobalAccess") ?? false,
    networkTier: "PREMIUM",
    ipVersion: "IPV4",
    fingerprint: ctx.store.nextFingerprint(),
    labelFingerprint: "42WmSpB8rSM=",
  };
}

/** The rule's address: the requested literal or reserved Address, checked against the subnet; else a free one. */
function ruleAddress(
  ctx: RouteContext,
  subnet: { readonly ref: Ref; readonly resource: Subnetwork },
  kept: ForwardingRule,
  assignIp: boolean,
): string | undefined {
  let ip = ctx.body.string("IPAddress");
  if (ip !== undefined && ip !== "" && parseIpv4(ip) === undefined) {
    // IPAddress may name a reserved Address (link or name) instead of the literal: the rule takes its address.
    ip =
      existing(ctx, ip, { field: "resource.IPAddress", collection: "addresses", defaultScope: ctx.scope }).resource
        .address ?? "";
  }
  if (ip === undefined || ip === "") {
    const free = assignIp ? ctx.store.freeIp(subnet.resource) : undefined;
    if (assignIp && free === undefined)
      throw new ComputeApiError(400, "ipSpaceExhausted", `No free address in subnetwork '${subnet.ref.key}'.`);
    return free;
  }
  const value = parseIpv4(ip);
  const range = parseCidr(subnet.resource.ipCidrRange ?? "");
  if (value === undefined || range === undefined || !usableInRange(range, value)) {
    throw invalid(
      `Invalid value for field 'resource.IPAddress': '${ip}'. Requested internal IP is outside the subnetwork's range ${subnet.resource.ipCidrRange}.`,
    );
  }
  const holder = ctx.store.takenIps(linkOf(subnet.ref)).get(value);
  if (holder !== undefined && holder.collection !== "addresses" && holder.link !== kept.selfLink) {
    throw new ComputeApiError(
      409,
      "alreadyExists",
      `IP_IN_USE_BY_ANOTHER_RESOURCE: '${ip}' is already being used by '${holder.link}'.`,
    );
  }
  return formatIpv4(value);
}

/** Keeps the Address resources holding `rule`'s IP in step: IN_USE with the rule as user, or back to RESERVED. */
function syncAddresses(ctx: RouteContext, rule: ForwardingRule, inUse: boolean): void {
  for (const address of ctx.store.list("addresses")) {
    if (address.subnetwork !== rule.subnetwork || address.address !== rule.IPAddress || address.selfLink == null)
      continue;
    const users = (address.users ?? []).filter((u) => u !== rule.selfLink);
    if (inUse) users.push(rule.selfLink ?? "");
    const key = address.selfLink.slice(address.selfLink.indexOf("projects/"));
    ctx.store.put("addresses", key, { ...address, users, status: users.length > 0 ? "IN_USE" : "RESERVED" });
  }
}

function remove(ctx: RouteContext) {
  const result = deleteRoute("forwardingRules.delete", `${BASE}/:name`, COLLECTION).handle(ctx);
  if (!("mutation" in result)) return result;
  const { mutation } = result;
  const target = mutation.target;
  return {
    mutation: {
      ...mutation,
      apply: () => {
        const rule = ctx.store.require(COLLECTION, target);
        mutation.apply();
        syncAddresses(ctx, rule, false);
      },
    },
  };
}

export const forwardingRuleRoutes: readonly Route[] = [
  getRoute("forwardingRules.get", `${BASE}/:name`, COLLECTION),
  listRoute("forwardingRules.list", BASE, COLLECTION, "forwardingRuleList"),
  insertRoute("forwardingRules.insert", BASE, {
    collection: COLLECTION,
    kind: "forwardingRule",
    build: buildForwardingRule,
    afterPut: (ctx, rule) => syncAddresses(ctx, rule, true),
  }),
  { id: "forwardingRules.delete", httpMethod: "DELETE", pattern: `${BASE}/:name`, handle: remove },
];
