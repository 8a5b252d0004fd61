/**
 * Path matching for the route table: `/compute/v1/projects/{project}/<pattern>`, where `:region` and `:zone`
 * fix the scope and `:name` the resource.
 */
import { addressRoutes } from "./addresses.js";
import { backendServiceRoutes } from "./backend-services.js";
import { firewallRoutes } from "./firewalls.js";
import { forwardingRuleRoutes } from "./forwarding-rules.js";
import { healthCheckRoutes } from "./health-checks.js";
import { instanceGroupRoutes } from "./instance-groups.js";
import { readOnlyRoutes } from "./read-only.js";
import type { Route } from "./routes.js";
import type { Scope } from "./types.js";

export const ROUTES: readonly Route[] = [
  ...instanceGroupRoutes,
  ...healthCheckRoutes,
  ...backendServiceRoutes,
  ...forwardingRuleRoutes,
  ...firewallRoutes,
  ...addressRoutes,
  ...readOnlyRoutes,
];

/** Ids of the methods that answer with an Operation. */
export const MUTATING = new Set(["insert", "delete", "update", "patch", "addInstances", "removeInstances"]);
export const isMutatingMethod = (id: string): boolean => MUTATING.has(id.slice(id.indexOf(".") + 1));

export interface Match {
  readonly route: Route;
  readonly project: string;
  readonly scope: Scope;
  readonly name: string;
}

const PREFIX = /^\/compute\/v1\/projects\/([^/]+)\/(.+)$/;

export function matchRoute(httpMethod: string, path: string): Match | undefined {
  const m = PREFIX.exec(path);
  if (!m) return undefined;
  const project = decodeURIComponent(m[1] ?? "");
  const segments = (m[2] ?? "").split("/").map(decodeURIComponent);
  for (const route of ROUTES) {
    if (route.httpMethod !== httpMethod) continue;
    const pattern = route.pattern.split("/");
    if (pattern.length !== segments.length) continue;
    const params: Record<string, string> = {};
    const ok = pattern.every((part, i) => {
      const seg = segments[i] ?? "";
      if (part.startsWith(":")) {
        params[part.slice(1)] = seg;
        return seg !== "";
      }
      return part === seg;
    });
    if (!ok) continue;
    const scope: Scope =
      params["region"] !== undefined
        ? { kind: "region", name: params["region"] }
        : params["zone"] !== undefined
          ? { kind: "zone", name: params["zone"] }
          : { kind: "global" };
    return { route, project, scope, name: params["name"] ?? "" };
  }
  return undefined;
}
