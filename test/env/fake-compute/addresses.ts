/**
 * Regional addresses, INTERNAL only (the provider's IP hold, ../shared/reference/gce.md section 1 step 3): get,
 * list (filter by `address`), insert, delete. `subnetwork` is required; `address`, when given, must be a usable
 * address of the subnetwork (400) not reserved by another address or used by an instance (409, as the anchor's
 * InsertAddressHook answers an internal IP conflict); an address a forwarding rule already uses may be reserved
 * (it is then IN_USE with the rule as user). Absent, the lowest free address is assigned at DONE. Deleting an
 * address a forwarding rule uses is allowed: the rule keeps the IP (the anchor releases its hold that way).
 */
import { formatIpv4, linkOf, parseCidr, parseIpv4, usableInRange } from "./refs.js";
import { deleteRoute, existing, getRoute, insertRoute, listRoute, type Route, type RouteContext } from "./routes.js";
import type { Address } from "./types.js";
import { ComputeApiError, invalid, required } from "./types.js";

const COLLECTION = "addresses";
const BASE = "regions/:region/addresses";

function buildAddress(ctx: RouteContext, kept: Address, assign: boolean): Address {
  const body = ctx.body;
  const type = body.enumOf("addressType", ["INTERNAL", "EXTERNAL"]) ?? "EXTERNAL";
  if (type !== "INTERNAL") throw invalid("fake-compute serves INTERNAL addresses only.");
  const subnetValue = body.string("subnetwork");
  if (subnetValue === undefined || subnetValue === "") throw required("resource.subnetwork");
  const subnet = existing(ctx, subnetValue, {
    field: "resource.subnetwork",
    collection: "subnetworks",
    defaultScope: ctx.scope,
  });
  if (subnet.resource.region !== kept.region) {
    throw invalid(
      `Invalid value for field 'resource.subnetwork': '${subnetValue}'. The subnetwork must be in the address's region.`,
    );
  }
  const subnetLink = linkOf(subnet.ref);
  const users: string[] = [];
  let address = body.string("address");
  if (address !== undefined && address !== "") {
    const value = parseIpv4(address);
    const range = parseCidr(subnet.resource.ipCidrRange ?? "");
    if (value === undefined || range === undefined || !usableInRange(range, value)) {
      throw invalid(
        `Invalid value for field 'resource.address': '${address}'. Requested internal IP is outside the subnetwork's range ${subnet.resource.ipCidrRange}.`,
      );
    }
    const holder = ctx.store.takenIps(subnetLink).get(value);
    if (holder !== undefined && holder.collection !== "forwardingRules") {
      throw new ComputeApiError(
        409,
        "alreadyExists",
        `IP_IN_USE_BY_ANOTHER_RESOURCE: '${address}' is already being used by '${holder.link}'.`,
      );
    }
    if (holder !== undefined) users.push(holder.link);
    address = formatIpv4(value);
  } else {
    address = assign ? ctx.store.freeIp(subnet.resource) : undefined;
    if (assign && address === undefined)
      throw new ComputeApiError(400, "ipSpaceExhausted", `No free address in subnetwork '${subnet.ref.key}'.`);
  }
  return {
    ...kept,
    description: body.string("description") ?? "",
    addressType: type,
    purpose: body.enumOf("purpose", ["GCE_ENDPOINT", "SHARED_LOADBALANCER_VIP"]) ?? "GCE_ENDPOINT",
    subnetwork: subnetLink,
    network: subnet.resource.network,
    ...(address === undefined ? {} : { address }),
    ipVersion: "IPV4",
    networkTier: "PREMIUM",
    prefixLength: 32,
    status: users.length > 0 ? "IN_USE" : "RESERVED",
    users,
    labelFingerprint: "42WmSpB8rSM=",
  };
}

export const addressRoutes: readonly Route[] = [
  getRoute("addresses.get", `${BASE}/:name`, COLLECTION),
  listRoute("addresses.list", BASE, COLLECTION, "addressList"),
  insertRoute("addresses.insert", BASE, { collection: COLLECTION, kind: "address", build: buildAddress }),
  deleteRoute("addresses.delete", `${BASE}/:name`, COLLECTION),
];
