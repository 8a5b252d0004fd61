/**
 * Which Services a pool's addresses may go to: MetalLB's IPAddressPool `serviceAllocation` (MLB
 * api/v1beta1/ipaddresspool_types.go; internal/allocator/allocator.go isPoolCompatibleWithService and
 * sortPools; internal/config/config.go addressPoolServiceAllocationsFromCR).
 * - `namespaces` and `namespaceSelectors` together name the namespaces allowed (MetalLB merges the namespaces
 *   the selectors match into the list); both empty: every namespace.
 * - `serviceSelectors`: the Service's labels must match one of them; empty: every Service.
 * - Both must hold. Unlike MetalLB, the scope also binds requested addresses and the pool annotation: a scoped
 *   pool is never handed to a Service outside it, whatever the Service asks for.
 */
import type { AddressPool, ServiceAllocation } from "./address-pool.js";
import { anySelectorMatches, describeSelector, type Labels } from "./label-selector.js";

/** What the scope looks at. Labels are undefined when the provider could not learn them. */
export interface ServiceIdentity {
  readonly namespace: string;
  readonly namespaceLabels?: Labels | undefined;
  readonly labels?: Labels | undefined;
}

/** Why `pool` refuses the Service, or undefined when it admits it. */
export function scopeRefusal(pool: AddressPool, who: ServiceIdentity | undefined): string | undefined {
  const scope = pool.serviceAllocation;
  if (scope === undefined) return undefined;
  if (who === undefined) return `pool ${pool.name} is limited by serviceAllocation and the Service is not known`;
  const { serviceSelectors } = scope;
  const namespaceRefusal = refuseNamespace(pool.name, scope, who);
  if (namespaceRefusal !== undefined) return namespaceRefusal;
  if (serviceSelectors.length > 0 && (who.labels === undefined || !anySelectorMatches(serviceSelectors, who.labels))) {
    const unknown = who.labels === undefined ? " (its labels are unknown to the provider)" : "";
    return (
      `pool ${pool.name} serves only Services labelled ${serviceSelectors.map(describeSelector).join(" or ")}, ` +
      `and this Service is not${unknown}`
    );
  }
  return undefined;
}

function refuseNamespace(pool: string, scope: ServiceAllocation, who: ServiceIdentity): string | undefined {
  const { namespaces, namespaceSelectors } = scope;
  if (namespaces.length === 0 && namespaceSelectors.length === 0) return undefined;
  if (namespaces.includes(who.namespace)) return undefined;
  if (who.namespaceLabels !== undefined && anySelectorMatches(namespaceSelectors, who.namespaceLabels))
    return undefined;
  const allowed = [
    ...(namespaces.length > 0 ? [`namespaces ${namespaces.join(", ")}`] : []),
    ...(namespaceSelectors.length > 0
      ? [`namespaces labelled ${namespaceSelectors.map(describeSelector).join(" or ")}`]
      : []),
  ];
  const unknown = namespaceSelectors.length > 0 && who.namespaceLabels === undefined ? " (labels unknown)" : "";
  return `pool ${pool} serves only ${allowed.join(" and ")}, not namespace ${who.namespace}${unknown}`;
}

/**
 * The pools an automatic pick tries, in order: autoAssign pools whose scope admits the Service (MetalLB's
 * "pinned" pools), by priority (positive values ascending, then 0), then autoAssign pools without a scope.
 * Ties go by name, which `pools` already is in; MetalLB leaves them in map order.
 */
export function autoAssignOrder(pools: readonly AddressPool[], who: ServiceIdentity | undefined): AddressPool[] {
  const rank = (p: AddressPool): number => {
    const priority = p.serviceAllocation?.priority ?? 0;
    return priority > 0 ? priority : Number.MAX_SAFE_INTEGER;
  };
  const pinned = pools
    .filter((p) => p.autoAssign && p.serviceAllocation !== undefined && scopeRefusal(p, who) === undefined)
    .map((pool, i) => ({ pool, i }))
    .sort((a, b) => rank(a.pool) - rank(b.pool) || a.i - b.i)
    .map((x) => x.pool);
  return [...pinned, ...pools.filter((p) => p.autoAssign && p.serviceAllocation === undefined)];
}
