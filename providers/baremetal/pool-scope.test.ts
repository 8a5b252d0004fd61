import { describe, expect, it } from "vitest";
import { InvalidSpecError } from "../../src/errors.js";
import { parseAddressPool, type AddressPool, type ServiceAllocation } from "./address-pool.js";
import type { AllocationRequest } from "./allocation-types.js";
import { AddressAllocator } from "./allocator.js";
import { NoSuitablePoolError, PoolScopeError } from "./baremetal-errors.js";
import { autoAssignOrder, scopeRefusal, type ServiceIdentity } from "./pool-scope.js";

function scoped(name: string, addresses: string[], scope: Partial<ServiceAllocation>, autoAssign = true): AddressPool {
  const serviceAllocation = { priority: 0, namespaces: [], namespaceSelectors: [], serviceSelectors: [], ...scope };
  return { name, addresses, autoAssign, avoidBuggyIPs: false, serviceAllocation };
}
const open = (name: string, addresses: string[]): AddressPool => ({
  name,
  addresses,
  autoAssign: true,
  avoidBuggyIPs: false,
});

const teamA: ServiceIdentity = { namespace: "team-a", namespaceLabels: { tier: "gold" }, labels: { app: "web" } };
const teamB: ServiceIdentity = { namespace: "team-b", namespaceLabels: { tier: "bronze" }, labels: { app: "web" } };

function req(service: ServiceIdentity, over: Partial<AllocationRequest> = {}): AllocationRequest {
  return { requestedIPs: [], ports: [{ protocol: "TCP", port: 80 }], ipFamilies: ["IPv4"], service, ...over };
}

describe("serviceAllocation scope (MetalLB isPoolCompatibleWithService)", () => {
  const onlyA = scoped("only-a", ["192.0.2.10-192.0.2.11"], { namespaces: ["team-a"] });
  const shared = open("shared", ["198.51.100.10-198.51.100.20"]);

  it("gives a namespace-limited pool's addresses to that namespace first and never to another", () => {
    const alloc = new AddressAllocator({ pools: [onlyA, shared] });
    // "only-a" sorts before "shared" by name, and is pinned for team-a: it wins there.
    expect(alloc.allocate("team-a/one", req(teamA))).toEqual(["192.0.2.10"]);
    expect(alloc.allocate("team-b/one", req(teamB))).toEqual(["198.51.100.10"]);
    // Even with free addresses left in only-a, team-b keeps getting the shared pool.
    expect(alloc.allocate("team-b/two", req(teamB))).toEqual(["198.51.100.11"]);
  });

  it("refuses another namespace's request for the pool's address or the pool by name, naming the pool and why", () => {
    const alloc = new AddressAllocator({ pools: [onlyA, shared] });
    const byAddress = (): unknown => alloc.allocate("team-b/x", req(teamB, { requestedIPs: ["192.0.2.11"] }));
    expect(byAddress).toThrow(PoolScopeError);
    expect(byAddress).toThrow(InvalidSpecError);
    expect(byAddress).toThrow("pool only-a serves only namespaces team-a, not namespace team-b");
    const byName = (): unknown => alloc.allocate("team-b/x", req(teamB, { pool: "only-a" }));
    expect(byName).toThrow(expect.objectContaining({ pool: "only-a", name: "PoolScopeError" }));
    expect(alloc.assigned("team-b/x")).toBeUndefined();
    expect(alloc.usage("only-a")?.used.IPv4).toBe(0);
  });

  it("without an unscoped pool, a Service outside every scope gets no address, as an invalid spec", () => {
    const alloc = new AddressAllocator({ pools: [onlyA] });
    expect(() => alloc.allocate("team-b/x", req(teamB))).toThrow(NoSuitablePoolError);
    // A Service the provider knows nothing about is never admitted to a scoped pool either.
    expect(() => alloc.allocate("x/y", req(teamA, { service: undefined }))).toThrow(NoSuitablePoolError);
  });

  it("matches namespaces by label selector and Services by label selector; both must hold", () => {
    const gold = scoped("gold", ["192.0.2.20/31"], {
      namespaceSelectors: [{ matchLabels: { tier: "gold" } }],
      serviceSelectors: [{ matchExpressions: [{ key: "app", operator: "In", values: ["web", "api"] }] }],
    });
    expect(scopeRefusal(gold, teamA)).toBeUndefined();
    expect(scopeRefusal(gold, teamB)).toContain("namespaces labelled tier=gold");
    expect(scopeRefusal(gold, { ...teamA, labels: { app: "db" } })).toContain(
      "serves only Services labelled app in (web,api)",
    );
    expect(scopeRefusal(gold, { ...teamA, labels: undefined })).toContain("labels are unknown");
  });

  it("orders pinned pools by priority (positive ascending, then unset), then unscoped pools", () => {
    const p = (name: string, priority: number): AddressPool => scoped(name, ["192.0.2.0/30"], { priority });
    const order = autoAssignOrder([open("a-open", ["192.0.2.8/30"]), p("b", 0), p("c", 2), p("d", 1)], teamA);
    expect(order.map((x) => x.name)).toEqual(["d", "c", "b", "a-open"]);
    // A scoped pool without autoAssign is only for explicit requests.
    expect(autoAssignOrder([scoped("x", ["192.0.2.0/30"], {}, false)], teamA)).toEqual([]);
  });

  it("does not move a Service whose namespace left the pool's scope: it keeps the address and gets an invalid spec", () => {
    const alloc = new AddressAllocator({ pools: [onlyA, shared] });
    alloc.allocate("team-a/one", req(teamA));
    alloc.setPools([scoped("only-a", ["192.0.2.10-192.0.2.11"], { namespaces: ["team-c"] }), shared]);
    expect(() => alloc.allocate("team-a/one", req(teamA))).toThrow(PoolScopeError);
    expect(alloc.assigned("team-a/one")?.addresses.map((a) => a.ip)).toEqual(["192.0.2.10"]);
  });

  it("parses serviceAllocation, nodeSelectors and interfaces with MetalLB's defaults, and refuses bad selectors", () => {
    const parsed = parseAddressPool(
      {
        name: "p",
        addresses: ["192.0.2.0/30"],
        serviceAllocation: { namespaces: ["a"] },
        nodeSelectors: [{ matchLabels: { rack: "r1" } }],
        interfaces: ["eth0"],
      },
      "test",
    );
    expect(parsed.serviceAllocation).toEqual({
      priority: 0,
      namespaces: ["a"],
      namespaceSelectors: [],
      serviceSelectors: [],
    });
    expect(parsed.interfaces).toEqual(["eth0"]);
    expect(() =>
      parseAddressPool(
        {
          name: "p",
          addresses: ["192.0.2.0/30"],
          nodeSelectors: [{ matchExpressions: [{ key: "k", operator: "In" }] }],
        },
        "test",
      ),
    ).toThrow(/In needs values/);
  });
});
