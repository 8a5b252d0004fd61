/**
 * The route table's types and the handlers every collection shares: get, list (filter + pagination), insert and
 * delete with Compute's in-use rule.
 */
import { Body } from "./body.js";
import type { Mutation, OperationBook } from "./operations.js";
import { linkOf, makeRef, resolveRef, scopeLink, validateName, type Ref } from "./refs.js";
import { outputFields, type ComputeStore } from "./store.js";
import type { Collection, ResourceOf, Scope } from "./types.js";
import { alreadyExists, inUse, invalid } from "./types.js";

export interface RouteContext {
  readonly project: string;
  readonly scope: Scope;
  /** `:name` of the path, "" for collection paths. */
  readonly name: string;
  readonly body: Body;
  readonly query: URLSearchParams;
  readonly store: ComputeStore;
  readonly ops: OperationBook;
}

export type RouteResult = { readonly json: object } | { readonly mutation: Mutation };

export interface Route {
  /** `<collection>.<verb>` as recorded and as faults address it. */
  readonly id: string;
  readonly httpMethod: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** Path after /compute/v1/projects/{project}/ with `:region`, `:zone`, `:name` placeholders. */
  readonly pattern: string;
  readonly handle: (ctx: RouteContext) => RouteResult;
}

export const refIn = (ctx: RouteContext, collection: Collection, name = ctx.name): Ref =>
  makeRef(ctx.project, ctx.scope, collection, name);

export function getRoute(id: string, pattern: string, collection: Collection): Route {
  return {
    id,
    httpMethod: "GET",
    pattern,
    handle: (ctx) => ({ json: ctx.store.require(collection, refIn(ctx, collection)) }),
  };
}

export function listRoute(id: string, pattern: string, collection: Collection, kind: string): Route {
  return {
    id,
    httpMethod: "GET",
    pattern,
    handle: (ctx) => ({
      json: listPage(ctx, kind, ctx.store.list(collection, ctx.project, ctx.scope), collectionLink(ctx, collection)),
    }),
  };
}

export function collectionLink(ctx: RouteContext, collection: string): string {
  return `${scopeLink(ctx.project, ctx.scope)}/${collection}`;
}

/**
 * A list answer: `filter` applied, then `maxResults` (default and cap 500) from `pageToken`. Compute leaves
 * `items` out of an empty page and sends `nextPageToken` only when more remain.
 */
export function listPage<T extends object>(ctx: RouteContext, kind: string, all: T[], selfLink: string) {
  const filtered = applyFilter(all, ctx.query.get("filter") ?? "");
  const max = Math.min(Number(ctx.query.get("maxResults") ?? "500") || 500, 500);
  const start = Number(ctx.query.get("pageToken") ?? "0");
  if (!Number.isInteger(start) || start < 0) throw invalid("Invalid value for field 'pageToken'");
  const items = filtered.slice(start, start + max);
  const next = start + max < filtered.length ? String(start + max) : undefined;
  return {
    kind: `compute#${kind}`,
    id: selfLink.replace(/^https:\/\/www\.googleapis\.com\/compute\/v1\//, ""),
    selfLink,
    ...(items.length > 0 ? { items } : {}),
    ...(next === undefined ? {} : { nextPageToken: next }),
  };
}

const REGEX_CLAUSE = /\(?\s*([A-Za-z][\w.]*)\s+(eq|ne)\s+([^()\s]+)\s*\)?/y;
const COMPARE_CLAUSE = /\(?\s*([A-Za-z][\w.]*)\s*(=|!=)\s*("[^"]*"|[^()\s]+)\s*\)?/y;

/**
 * Compute's list filter, the two forms clients use: `field eq <RE2 regex>` / `ne` (full match) and
 * `field = "value"` / `!=` (exact), clauses optionally parenthesised and combined by juxtaposition or AND.
 * Anything else is a 400 "invalid".
 */
export function applyFilter<T extends object>(items: T[], filter: string): T[] {
  const clauses: { field: string; test: (v: string) => boolean }[] = [];
  let rest = filter.trim();
  while (rest !== "") {
    REGEX_CLAUSE.lastIndex = 0;
    COMPARE_CLAUSE.lastIndex = 0;
    const m = REGEX_CLAUSE.exec(rest) ?? COMPARE_CLAUSE.exec(rest);
    if (m === null) throw invalid(`Invalid list filter expression '${filter}'.`);
    const [, field = "", op = "", raw = ""] = m;
    const value = raw.startsWith('"') ? raw.slice(1, -1) : raw;
    const regex = op === "eq" || op === "ne" ? new RegExp(`^(?:${value})$`) : undefined;
    const match = (v: string) => (regex ? regex.test(v) : v === value);
    clauses.push({ field, test: op === "ne" || op === "!=" ? (v) => !match(v) : match });
    rest = rest
      .slice(m[0].length)
      .trim()
      .replace(/^AND\s+/i, "");
  }
  return items.filter((item) => clauses.every((c) => c.test(fieldText(item, c.field))));
}

function fieldText(item: object, path: string): string {
  let value: unknown = item;
  for (const part of path.split(".")) {
    value = typeof value === "object" && value !== null ? (value as Record<string, unknown>)[part] : undefined;
  }
  return typeof value === "string" || typeof value === "number" || typeof value === "boolean" ? String(value) : "";
}

/** A delete: 404 when missing, 400 resourceInUseByAnotherResource while another resource references it. */
export function deleteRoute(id: string, pattern: string, collection: Collection): Route {
  return {
    id,
    httpMethod: "DELETE",
    pattern,
    handle: (ctx) => {
      const target = refIn(ctx, collection);
      const current = ctx.store.require(collection, target);
      return {
        mutation: {
          operationType: "delete",
          target,
          targetId: String(current.id ?? ""),
          check: () => {
            ctx.store.require(collection, target);
            const users = ctx.store.usersOf(linkOf(target));
            if (users[0] !== undefined) throw inUse(target.key, users[0]);
          },
          apply: () => ctx.store.delete(target),
        },
      };
    },
  };
}

/** The fields Compute sets on a new resource itself (kind, id, name, selfLink, creation time, scope). */
export type OutputFields = ReturnType<typeof outputFields>;

/**
 * An insert (POST to the collection) of resource kind `kind`. `build` makes the resource from the request body
 * and Compute's own fields; it runs at once (a bad body is refused before any operation exists), again when the
 * operation checks (with the 409 of a name taken meanwhile), and last with `final` true when it applies, its result
 * then stored. `afterPut` runs once the store holds it (bookkeeping in other collections).
 */
export function insertRoute<C extends Collection>(
  id: string,
  pattern: string,
  resource: {
    readonly collection: C;
    readonly kind: string;
    readonly build: (ctx: RouteContext, kept: OutputFields, final: boolean) => ResourceOf[C];
    readonly afterPut?: (ctx: RouteContext, resource: ResourceOf[C]) => void;
  },
): Route {
  const { collection, kind, build, afterPut } = resource;
  const handle = (ctx: RouteContext): RouteResult => {
    const target = refIn(ctx, collection, validateName(ctx.body.string("name")));
    const targetId = ctx.store.nextId();
    const make = (final: boolean) => build(ctx, outputFields(ctx.store, target, kind, targetId), final);
    make(false);
    return {
      mutation: {
        operationType: "insert",
        target,
        targetId,
        check: () => {
          checkNameFree(ctx, target);
          make(false);
        },
        apply: () => {
          const made = make(true);
          ctx.store.put(collection, target.key, made);
          afterPut?.(ctx, made);
        },
      },
    };
  };
  return { id, httpMethod: "POST", pattern, handle };
}

/** Rejects an insert of a name that exists (a pending insert of it is refused by the server's target lock). */
export function checkNameFree(ctx: RouteContext, target: Ref): void {
  if (ctx.store.has(target)) throw alreadyExists(target.key);
}

/** A body's `name`, when given on update/patch, must be the path's. */
export function checkSameName(body: Body, target: Ref): void {
  const name = body.string("name");
  if (name !== undefined && name !== target.name) {
    throw invalid(`Invalid value for field 'resource.name': '${name}'. Resource name cannot be changed.`);
  }
}

/** Resolves link field `field` of the body to an existing resource (404 notFound when it does not exist). */
export function existing<C extends Collection>(
  ctx: RouteContext,
  value: string,
  target: { readonly field: string; readonly collection: C; readonly defaultScope: Scope },
): { readonly ref: Ref; readonly resource: ResourceOf[C] } {
  const ref = resolveRef(value, { ...target, project: ctx.project });
  return { ref, resource: ctx.store.require(target.collection, ref) };
}
