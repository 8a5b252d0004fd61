/**
 * Zonal unmanaged instance groups: get, list, insert, delete (400 while a backend service uses the group),
 * listInstances (a read-only POST), addInstances, removeInstances. Members are instance links; an instance must
 * exist in the group's zone, adding a member twice or removing a non-member is a 400 (memberAlreadyExists /
 * memberNotFound), and the group takes the network of its first member as Compute does.
 */
import type { Body } from "./body.js";
import { linkOf, type Ref } from "./refs.js";
import {
  deleteRoute,
  existing,
  getRoute,
  insertRoute,
  listPage,
  listRoute,
  refIn,
  type OutputFields,
  type Route,
  type RouteContext,
} from "./routes.js";
import type { InstanceGroup, InstanceWithNamedPorts } from "./types.js";
import { ComputeApiError, invalid, required } from "./types.js";

const COLLECTION = "instanceGroups";
const BASE = "zones/:zone/instanceGroups";

function buildInstanceGroup(ctx: RouteContext, kept: OutputFields): InstanceGroup {
  const networkLink = ctx.body.string("network");
  const network =
    networkLink === undefined
      ? undefined
      : existing(ctx, networkLink, {
          field: "resource.network",
          collection: "networks",
          defaultScope: { kind: "global" },
        });
  return {
    ...kept,
    description: ctx.body.string("description") ?? "",
    namedPorts: (ctx.body.objects("namedPorts") ?? []).map((p) => ({
      name: p.requiredString("name"),
      port: p.integer("port") ?? 0,
    })),
    ...(network === undefined ? {} : { network: linkOf(network.ref) }),
    size: 0,
    fingerprint: ctx.store.nextFingerprint(),
  };
}

/** The instance links of an add/remove request: each an existing instance of the group's zone, no repeats. */
function requestedInstances(ctx: RouteContext, body: Body): string[] {
  const entries = body.objects("instances") ?? [];
  if (entries.length === 0) throw required(`${body.path}.instances`);
  const links = entries.map((entry) => {
    const value = entry.requiredString("instance");
    const { ref, resource } = existing(ctx, value, {
      field: `${entry.path}.instance`,
      collection: "instances",
      defaultScope: ctx.scope,
    });
    if (ref.scope.kind !== "zone" || ctx.scope.kind !== "zone" || ref.scope.name !== ctx.scope.name) {
      throw invalid(
        `Invalid value for field '${entry.path}.instance': '${value}'. Instance must be in zone '${ctx.scope.kind === "zone" ? ctx.scope.name : ""}'.`,
      );
    }
    return resource.selfLink ?? linkOf(ref);
  });
  if (new Set(links).size !== links.length) throw invalid(`Duplicate instances in '${body.path}.instances'.`);
  return links;
}

function membership(ctx: RouteContext, add: boolean) {
  const target: Ref = refIn(ctx, COLLECTION);
  ctx.store.require(COLLECTION, target);
  const body = ctx.body;
  const build = (): { group: InstanceGroup; members: string[] } => {
    const group = ctx.store.require(COLLECTION, target);
    const links = requestedInstances(ctx, body);
    const members = ctx.store.membersOf(target.key);
    for (const link of links) {
      if (add === members.includes(link)) {
        throw new ComputeApiError(
          400,
          add ? "memberAlreadyExists" : "memberNotFound",
          `The instance '${link}' is ${add ? "already" : "not"} a member of '${target.key}'.`,
        );
      }
    }
    const next = add ? [...members, ...links] : members.filter((m) => !links.includes(m));
    if (add && group.network == null) {
      const first = ctx.store.list("instances").find((vm) => vm.selfLink === links[0]);
      const network = first?.networkInterfaces?.[0]?.network;
      if (network) group.network = network;
    }
    return { group: { ...group, size: next.length, fingerprint: ctx.store.nextFingerprint() }, members: next };
  };
  build();
  return {
    mutation: {
      operationType: add ? "addInstances" : "removeInstances",
      target,
      check: () => void build(),
      apply: () => {
        const { group, members } = build();
        ctx.store.put(COLLECTION, target.key, group);
        ctx.store.setMembers(target.key, members);
      },
    },
  };
}

/** listInstances: `instanceState` ALL (default) or RUNNING; every seeded instance is RUNNING. */
function listInstances(ctx: RouteContext) {
  const target = refIn(ctx, COLLECTION);
  ctx.store.require(COLLECTION, target);
  ctx.body.enumOf("instanceState", ["ALL", "RUNNING"]);
  const items: InstanceWithNamedPorts[] = ctx.store
    .membersOf(target.key)
    .map((instance) => ({ instance, status: "RUNNING" }));
  return { json: listPage(ctx, "instanceGroupsListInstances", items, `${linkOf(target)}/listInstances`) };
}

export const instanceGroupRoutes: readonly Route[] = [
  getRoute("instanceGroups.get", `${BASE}/:name`, COLLECTION),
  listRoute("instanceGroups.list", BASE, COLLECTION, "instanceGroupList"),
  insertRoute("instanceGroups.insert", BASE, {
    collection: COLLECTION,
    kind: "instanceGroup",
    build: buildInstanceGroup,
  }),
  deleteRoute("instanceGroups.delete", `${BASE}/:name`, COLLECTION),
  {
    id: "instanceGroups.listInstances",
    httpMethod: "POST",
    pattern: `${BASE}/:name/listInstances`,
    handle: listInstances,
  },
  {
    id: "instanceGroups.addInstances",
    httpMethod: "POST",
    pattern: `${BASE}/:name/addInstances`,
    handle: (ctx) => membership(ctx, true),
  },
  {
    id: "instanceGroups.removeInstances",
    httpMethod: "POST",
    pattern: `${BASE}/:name/removeInstances`,
    handle: (ctx) => membership(ctx, false),
  },
];
