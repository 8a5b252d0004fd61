/**
 * Read-only routes: the seeded world (zones, networks, subnetworks, instances) and the three operation scopes'
 * get and wait. Both get and wait move an operation one step (see operations.ts); wait has no body.
 */
import { collectionLink, getRoute, listPage, listRoute, type Route, type RouteContext } from "./routes.js";

function operationRoutes(prefix: string, base: string): Route[] {
  const poll = (ctx: RouteContext) => ({ json: ctx.ops.poll(ctx.project, ctx.scope, ctx.name, true) });
  return [
    { id: `${prefix}.get`, httpMethod: "GET", pattern: `${base}/:name`, handle: poll },
    { id: `${prefix}.wait`, httpMethod: "POST", pattern: `${base}/:name/wait`, handle: poll },
  ];
}

export const readOnlyRoutes: readonly Route[] = [
  {
    id: "zones.list",
    httpMethod: "GET",
    pattern: "zones",
    handle: (ctx) => ({
      json: listPage(
        ctx,
        "zoneList",
        ctx.store.list("zones", ctx.project),
        collectionLink(ctx, "zones").replace("/global/", "/"),
      ),
    }),
  },
  getRoute("zones.get", "zones/:name", "zones"),
  getRoute("networks.get", "global/networks/:name", "networks"),
  listRoute("networks.list", "global/networks", "networks", "networkList"),
  getRoute("subnetworks.get", "regions/:region/subnetworks/:name", "subnetworks"),
  listRoute("subnetworks.list", "regions/:region/subnetworks", "subnetworks", "subnetworkList"),
  getRoute("instances.get", "zones/:zone/instances/:name", "instances"),
  listRoute("instances.list", "zones/:zone/instances", "instances", "instanceList"),
  ...operationRoutes("regionOperations", "regions/:region/operations"),
  ...operationRoutes("zoneOperations", "zones/:zone/operations"),
  ...operationRoutes("globalOperations", "global/operations"),
];
