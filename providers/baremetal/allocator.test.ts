import { describe, expect, it } from "vitest";
import { InvalidSpecError, RetryAfterError } from "../../src/errors.js";
import type { AddressPool } from "./address-pool.js";
import type { AllocationRequest } from "./allocation-types.js";
import { AddressAllocator } from "./allocator.js";
import {
  AddressInUseError,
  AddressNotInPoolError,
  InvalidPoolError,
  NoSuitablePoolError,
  PoolExhaustedError,
  PortCollisionError,
  UnknownPoolError,
} from "./baremetal-errors.js";

function pool(name: string, addresses: string[], over: Partial<AddressPool> = {}): AddressPool {
  return { name, addresses, autoAssign: true, avoidBuggyIPs: false, ...over };
}

function req(over: Partial<AllocationRequest> = {}): AllocationRequest {
  return { requestedIPs: [], ports: [{ protocol: "TCP", port: 80 }], ipFamilies: ["IPv4"], ...over };
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error("expected an error");
}

const lab = pool("lab", ["192.0.2.100-192.0.2.120"]);

describe("auto-assign", () => {
  it("takes the lowest free address from autoAssign pools in name order", () => {
    const a = new AddressAllocator({
      pools: [
        pool("zeta", ["198.51.100.0/24"]),
        pool("alpha", ["203.0.113.10-203.0.113.11"]),
        pool("manual", ["192.0.2.0/24"], { autoAssign: false }),
      ],
    });
    expect(a.allocate("ns/a", req())).toEqual(["203.0.113.10"]);
    expect(a.allocate("ns/b", req())).toEqual(["203.0.113.11"]);
    expect(a.allocate("ns/c", req())).toEqual(["198.51.100.0"]);
    expect(a.assigned("ns/c")?.addresses).toEqual([{ ip: "198.51.100.0", family: "IPv4", pool: "zeta" }]);
  });

  it("is stable: a Service keeps its address across reconciles even when a lower one frees up", () => {
    const a = new AddressAllocator({ pools: [lab] });
    a.allocate("ns/a", req());
    expect(a.allocate("ns/b", req())).toEqual(["192.0.2.101"]);
    a.release("ns/a");
    expect(a.allocate("ns/b", req({ ports: [{ protocol: "TCP", port: 8080 }] }))).toEqual(["192.0.2.101"]);
    expect(a.allocate("ns/c", req())).toEqual(["192.0.2.100"]);
  });

  it("skips .0 and .255 with avoidBuggyIPs", () => {
    const a = new AddressAllocator({ pools: [pool("lab", ["192.0.2.254-192.0.3.1"], { avoidBuggyIPs: true })] });
    expect([a.allocate("ns/a", req()), a.allocate("ns/b", req())]).toEqual([["192.0.2.254"], ["192.0.3.1"]]);
    expect(thrown(() => a.allocate("ns/c", req()))).toBeInstanceOf(PoolExhaustedError);
  });

  it("gives dual-stack Services one address per family, from one pool, in ipFamilies order", () => {
    const a = new AddressAllocator({
      pools: [pool("a-v4only", ["192.0.2.0/24"]), pool("b-dual", ["198.51.100.0/24", "2001:db8::/120"])],
    });
    expect(a.allocate("ns/a", req({ ipFamilies: ["IPv6", "IPv4"] }))).toEqual(["2001:db8::", "198.51.100.0"]);
    expect(a.allocate("ns/b", req({ ipFamilies: ["IPv4"] }))).toEqual(["192.0.2.0"]);
  });

  it("uses a named pool even without autoAssign, and refuses unknown pools as invalid specs", () => {
    const a = new AddressAllocator({ pools: [lab, pool("manual", ["198.51.100.7/32"], { autoAssign: false })] });
    expect(a.allocate("ns/a", req({ pool: "manual" }))).toEqual(["198.51.100.7"]);
    const err = thrown(() => a.allocate("ns/b", req({ pool: "nope" })));
    expect(err).toBeInstanceOf(UnknownPoolError);
    expect(err).toBeInstanceOf(InvalidSpecError);
    expect((err as Error).message).toBe(
      'metadata.annotations[lb-operator.io/address-pool]: unknown address pool "nope" (pools: lab 192.0.2.100-192.0.2.120; manual 198.51.100.7/32)',
    );
  });

  it("reports an exhausted pool as retryable, and recovers when an address is released", () => {
    const a = new AddressAllocator({ pools: [pool("tiny", ["192.0.2.1-192.0.2.2"])] });
    a.allocate("ns/a", req());
    a.allocate("ns/b", req());
    const err = thrown(() => a.allocate("ns/c", req()));
    expect(err).toBeInstanceOf(PoolExhaustedError);
    expect(err).toBeInstanceOf(RetryAfterError);
    expect((err as RetryAfterError).retryAfterMs).toBe(30_000);
    expect((err as Error).message).toBe(
      "no free IPv4 address in any auto-assign pool (in use: tiny IPv4 2/2); retrying until another Service releases one",
    );
    expect(a.assigned("ns/c")).toBeUndefined();
    a.release("ns/a");
    expect(a.allocate("ns/c", req())).toEqual(["192.0.2.1"]);
  });

  it("says when no pool could ever serve the request", () => {
    expect((thrown(() => new AddressAllocator({ pools: [] }).allocate("ns/a", req())) as Error).message).toContain(
      "no address pools are configured",
    );
    const manual = new AddressAllocator({ pools: [pool("m", ["192.0.2.0/24"], { autoAssign: false })] });
    expect((thrown(() => manual.allocate("ns/a", req())) as Error).message).toContain(
      "no address pool has autoAssign enabled (pools: m 192.0.2.0/24)",
    );
    const v4 = new AddressAllocator({ pools: [lab] });
    const err = thrown(() => v4.allocate("ns/a", req({ ipFamilies: ["IPv4", "IPv6"] })));
    expect(err).toBeInstanceOf(NoSuitablePoolError);
    expect((err as Error).message).toBe(
      "spec.ipFamilies: no auto-assign address pool has IPv4 and IPv6 addresses (pools: lab 192.0.2.100-192.0.2.120)",
    );
  });
});

describe("requested addresses", () => {
  it("assigns a requested address from any pool, autoAssign or not", () => {
    const a = new AddressAllocator({ pools: [lab, pool("manual", ["198.51.100.0/24"], { autoAssign: false })] });
    expect(a.allocate("ns/a", req({ requestedIPs: ["198.51.100.9"] }))).toEqual(["198.51.100.9"]);
    expect(a.allocate("ns/b", req({ requestedIPs: ["192.0.2.110"] }))).toEqual(["192.0.2.110"]);
    expect(a.allocate("ns/c", req())).toEqual(["192.0.2.100"]);
  });

  it("refuses an address in no pool as an invalid spec, with an event-ready message", () => {
    const a = new AddressAllocator({ pools: [lab] });
    const err = thrown(() => a.allocate("ns/a", req({ requestedIPs: ["203.0.113.77"] })));
    expect(err).toBeInstanceOf(AddressNotInPoolError);
    expect(err).toBeInstanceOf(InvalidSpecError);
    expect((err as InvalidSpecError).field).toBe("spec.loadBalancerIP");
    expect((err as Error).message).toBe(
      "spec.loadBalancerIP: address 203.0.113.77 is in no address pool (pools: lab 192.0.2.100-192.0.2.120)",
    );
    const viaAnnotation = thrown(() =>
      a.allocate(
        "ns/a",
        req({ requestedIPs: ["203.0.113.77"], requestedBy: "metadata.annotations[lb-operator.io/load-balancer-ips]" }),
      ),
    );
    expect((viaAnnotation as InvalidSpecError).field).toBe("metadata.annotations[lb-operator.io/load-balancer-ips]");
  });

  it("refuses addresses excluded by avoidBuggyIPs or outside the named pool", () => {
    const a = new AddressAllocator({
      pools: [pool("lab", ["192.0.2.0/24"], { avoidBuggyIPs: true }), pool("dev", ["198.51.100.0/24"])],
    });
    expect((thrown(() => a.allocate("ns/a", req({ requestedIPs: ["192.0.2.255"] }))) as Error).message).toBe(
      "spec.loadBalancerIP: address 192.0.2.255 ends in .0 or .255, which pool lab excludes (avoidBuggyIPs)",
    );
    expect((thrown(() => a.allocate("ns/a", req({ requestedIPs: ["192.0.2.5"], pool: "dev" }))) as Error).message).toBe(
      "spec.loadBalancerIP: address 192.0.2.5 is in pool lab, not in pool dev named by lb-operator.io/address-pool",
    );
  });

  it("refuses an address another Service holds, as retryable, naming the holder", () => {
    const a = new AddressAllocator({ pools: [lab] });
    a.allocate("ns/a", req({ requestedIPs: ["192.0.2.105"] }));
    const err = thrown(() => a.allocate("ns/b", req({ requestedIPs: ["192.0.2.105"] })));
    expect(err).toBeInstanceOf(AddressInUseError);
    expect(err).toBeInstanceOf(RetryAfterError);
    expect((err as AddressInUseError).holders).toEqual(["ns/a"]);
    expect((err as Error).message).toBe(
      "address 192.0.2.105 is already used by ns/a; to share it, set lb-operator.io/allow-shared-ip to the same value on both Services",
    );
  });

  it("moves to a newly requested address, but keeps the old one if the new one fails", () => {
    const a = new AddressAllocator({ pools: [lab] });
    a.allocate("ns/other", req({ requestedIPs: ["192.0.2.120"] }));
    expect(a.allocate("ns/a", req())).toEqual(["192.0.2.100"]);
    expect(thrown(() => a.allocate("ns/a", req({ requestedIPs: ["192.0.2.120"] })))).toBeInstanceOf(AddressInUseError);
    expect(a.assigned("ns/a")?.addresses.map((x) => x.ip)).toEqual(["192.0.2.100"]);
    expect(a.allocate("ns/a", req({ requestedIPs: ["192.0.2.110"] }))).toEqual(["192.0.2.110"]);
    // No longer requesting anything keeps the address (MetalLB clears only on a *different* request).
    expect(a.allocate("ns/a", req())).toEqual(["192.0.2.110"]);
    expect(a.allocate("ns/b", req())).toEqual(["192.0.2.100"]);
  });
});

describe("sharing", () => {
  const shared = (key: string, port: number, protocol: "TCP" | "UDP" = "TCP") =>
    req({ sharingKey: key, ports: [{ protocol, port }] });

  it("lets Services with one key and disjoint ports share, preferring the lowest shareable address", () => {
    const a = new AddressAllocator({ pools: [lab] });
    expect(a.allocate("ns/dns-tcp", shared("dns", 53))).toEqual(["192.0.2.100"]);
    expect(a.allocate("ns/dns-udp", shared("dns", 53, "UDP"))).toEqual(["192.0.2.100"]);
    expect(a.allocate("ns/web", shared("dns", 53))).toEqual(["192.0.2.101"]);
    expect(a.allocate("ns/plain", req())).toEqual(["192.0.2.102"]);
    expect(a.usage("lab")).toEqual({ pool: "lab", capacity: { IPv4: 21n, IPv6: 0n }, used: { IPv4: 3, IPv6: 0 } });
    a.release("ns/dns-tcp");
    expect(a.allocate("ns/other", req())).toEqual(["192.0.2.103"]);
    a.release("ns/dns-udp");
    expect(a.allocate("ns/again", req())).toEqual(["192.0.2.100"]);
  });

  it("refuses a shared address whose ports collide, naming ports and the other Service", () => {
    const a = new AddressAllocator({ pools: [lab] });
    a.allocate(
      "ns/a",
      req({
        sharingKey: "k",
        requestedIPs: ["192.0.2.110"],
        ports: [
          { protocol: "TCP", port: 80 },
          { protocol: "TCP", port: 443 },
        ],
      }),
    );
    const err = thrown(() =>
      a.allocate(
        "ns/b",
        req({
          sharingKey: "k",
          requestedIPs: ["192.0.2.110"],
          ports: [
            { protocol: "TCP", port: 443 },
            { protocol: "UDP", port: 443 },
          ],
        }),
      ),
    );
    expect(err).toBeInstanceOf(PortCollisionError);
    expect(err).toBeInstanceOf(RetryAfterError);
    expect((err as Error).message).toBe(
      "port TCP/443 on shared address 192.0.2.110 is already used by ns/a; shared Services need distinct ports",
    );
    expect((err as PortCollisionError).ports).toEqual(["TCP/443"]);
  });

  it("requires equal backend keys (externalTrafficPolicy Local with the same selector)", () => {
    const a = new AddressAllocator({ pools: [lab] });
    a.allocate("ns/a", req({ sharingKey: "k", backendKey: "app=web", requestedIPs: ["192.0.2.110"] }));
    expect(
      a.allocate(
        "ns/b",
        req({
          sharingKey: "k",
          backendKey: "app=web",
          requestedIPs: ["192.0.2.110"],
          ports: [{ protocol: "TCP", port: 81 }],
        }),
      ),
    ).toEqual(["192.0.2.110"]);
    const err = thrown(() =>
      a.allocate(
        "ns/c",
        req({ sharingKey: "k", requestedIPs: ["192.0.2.110"], ports: [{ protocol: "TCP", port: 82 }] }),
      ),
    );
    expect(err).toBeInstanceOf(AddressInUseError);
    expect((err as Error).message).toContain("must have the same externalTrafficPolicy");
  });

  it("lets a lone holder change its sharing key, but keeps a shared address when a change breaks sharing", () => {
    const a = new AddressAllocator({ pools: [lab] });
    expect(a.allocate("ns/a", req({ sharingKey: "k" }))).toEqual(["192.0.2.100"]);
    expect(a.allocate("ns/a", req({ sharingKey: "j" }))).toEqual(["192.0.2.100"]);
    expect(a.allocate("ns/b", req({ sharingKey: "j", ports: [{ protocol: "TCP", port: 81 }] }))).toEqual([
      "192.0.2.100",
    ]);
    expect(thrown(() => a.allocate("ns/b", req({ sharingKey: "j" })))).toBeInstanceOf(PortCollisionError);
    expect(thrown(() => a.allocate("ns/b", req({ ports: [{ protocol: "TCP", port: 81 }] })))).toBeInstanceOf(
      AddressInUseError,
    );
    expect(a.assigned("ns/b")?.addresses[0]?.ip).toBe("192.0.2.100");
    expect(a.assigned("ns/b")?.sharingKey).toBe("j");
  });
});

describe("pool changes", () => {
  it("keeps allocations outside the new pools, reports them, and does not move them", () => {
    const a = new AddressAllocator({ pools: [lab, pool("dev", ["198.51.100.0/24"])] });
    a.allocate("ns/a", req({ pool: "lab" }));
    a.allocate("ns/b", req({ pool: "dev" }));
    expect(a.setPools([pool("dev", ["198.51.100.0/24"])])).toEqual([
      {
        kind: "outside-pools",
        key: "ns/a",
        ip: "192.0.2.100",
        message: "ns/a: address 192.0.2.100 is in no address pool (pools: dev 198.51.100.0/24); kept, not moved",
      },
    ]);
    const err = thrown(() => a.allocate("ns/a", req()));
    expect(err).toBeInstanceOf(AddressNotInPoolError);
    expect((err as InvalidSpecError).field).toBe("status.loadBalancer.ingress");
    expect(a.assigned("ns/a")?.addresses).toEqual([{ ip: "192.0.2.100", family: "IPv4", pool: undefined }]);
    // Back in a pool (renamed, even): valid again, same address.
    expect(a.setPools([pool("dev", ["198.51.100.0/24"]), pool("lab2", ["192.0.2.0/24"])])).toEqual([]);
    expect(a.allocate("ns/a", req())).toEqual(["192.0.2.100"]);
    expect(a.assigned("ns/a")?.addresses[0]?.pool).toBe("lab2");
  });

  it("moves a Service whose pool annotation names another pool (an explicit request)", () => {
    const a = new AddressAllocator({ pools: [lab, pool("dev", ["198.51.100.0/24"], { autoAssign: false })] });
    expect(a.allocate("ns/a", req())).toEqual(["192.0.2.100"]);
    expect(a.allocate("ns/a", req({ pool: "dev" }))).toEqual(["198.51.100.0"]);
    expect(a.allocate("ns/b", req())).toEqual(["192.0.2.100"]);
  });

  it("refuses invalid pools and keeps the old ones", () => {
    const a = new AddressAllocator({ pools: [lab] });
    expect(() => a.setPools([lab, pool("dup", ["192.0.2.110/32"])])).toThrow(InvalidPoolError);
    expect(a.pools).toEqual([lab]);
    expect(() => new AddressAllocator({ pools: [pool("bad", ["192.0.2.1/24"])] })).toThrow(/host bits set/);
  });
});

describe("Service identity", () => {
  it("does not let a recreated namesake inherit a stale allocation, nor a late delete free the new one", () => {
    const a = new AddressAllocator({ pools: [lab] });
    a.allocate("ns/x", req({ uid: "old" }));
    a.allocate("ns/y", req({ uid: "y" }));
    a.release("ns/y");
    expect(a.allocate("ns/x", req({ uid: "new", requestedIPs: [] }))).toEqual(["192.0.2.100"]);
    expect(a.assigned("ns/x")?.uid).toBe("new");
    expect(a.release("ns/x", "old")).toBe(false);
    expect(a.assigned("ns/x")).toBeDefined();
    expect(a.release("ns/x", "new")).toBe(true);
    expect(a.release("ns/x", "new")).toBe(false);
  });

  it("upgrades a single-stack Service to dual-stack without moving its existing address", () => {
    const a = new AddressAllocator({ pools: [pool("lab", ["192.0.2.0/24", "2001:db8::/120"])] });
    a.allocate("ns/a", req({ requestedIPs: ["192.0.2.50"] }));
    expect(a.allocate("ns/a", req({ ipFamilies: ["IPv4", "IPv6"] }))).toEqual(["192.0.2.50", "2001:db8::"]);
    expect(a.allocate("ns/a", req({ ipFamilies: ["IPv4"] }))).toEqual(["192.0.2.50"]);
    expect(a.usage("lab")?.used).toEqual({ IPv4: 1, IPv6: 0 });
  });
});

describe("scale", () => {
  it("allocates 5,000 distinct addresses in a /16 and 200 in a /24 without scanning", () => {
    const a = new AddressAllocator({
      pools: [
        pool("big", ["10.0.0.0/16"], { avoidBuggyIPs: true }),
        pool("small", ["192.0.2.0/24"], { autoAssign: false }),
      ],
    });
    const started = performance.now();
    const big = new Set<string>();
    for (let i = 0; i < 5000; i++) big.add(a.allocate(`ns/big-${i}`, req())[0]!);
    const small = new Set<string>();
    for (let i = 0; i < 200; i++) small.add(a.allocate(`ns/small-${i}`, req({ pool: "small" }))[0]!);
    // Churn: free every third Service and allocate again; freed addresses are reused lowest first.
    for (let i = 0; i < 5000; i += 3) a.release(`ns/big-${i}`);
    for (let i = 0; i < 5000; i += 3) big.add(a.allocate(`ns/again-${i}`, req())[0]!);
    const elapsed = performance.now() - started;

    expect(big.size).toBe(5000);
    expect(small.size).toBe(200);
    expect([...big].every((ip) => ip.startsWith("10.0.") && !ip.endsWith(".0") && !ip.endsWith(".255"))).toBe(true);
    expect([...small].every((ip) => ip.startsWith("192.0.2."))).toBe(true);
    expect(a.usage("big")?.used.IPv4).toBe(5000);
    expect(elapsed).toBeLessThan(5000);
  });
});

describe("scale with sharing", () => {
  it("stays fast when thousands of Services use one sharing key and the same ports", () => {
    const a = new AddressAllocator({ pools: [pool("big", ["10.0.0.0/16"])] });
    const ports = [
      { protocol: "TCP" as const, port: 80 },
      { protocol: "TCP" as const, port: 443 },
    ];
    const started = performance.now();
    const ips = new Set<string>();
    for (let i = 0; i < 3000; i++) ips.add(a.allocate(`ns/web-${i}`, req({ sharingKey: "true", ports }))[0]!);
    // A Service with other ports joins the lowest shared address; one with the same ports gets a new one.
    expect(a.allocate("ns/dns", req({ sharingKey: "true", ports: [{ protocol: "UDP", port: 53 }] }))).toEqual([
      "10.0.0.0",
    ]);
    expect(a.allocate("ns/dns2", req({ sharingKey: "true", ports: [{ protocol: "UDP", port: 53 }] }))).toEqual([
      "10.0.0.1",
    ]);
    expect(a.allocate("ns/web-x", req({ sharingKey: "true", ports }))).toEqual(["10.0.11.184"]);
    expect(ips.size).toBe(3000);
    expect(performance.now() - started).toBeLessThan(5000);
  });
});

describe("restore", () => {
  const ports = [{ protocol: "TCP" as const, port: 80 }];

  it("keeps every address across a restart, and new Services get other addresses", () => {
    const before = new AddressAllocator({ pools: [lab, pool("v6", ["2001:db8::/120"])] });
    const held = new Map<string, string[]>();
    for (let i = 0; i < 10; i++) held.set(`ns/s${i}`, before.allocate(`ns/s${i}`, req({ uid: `u${i}` })));
    held.set("ns/dual", before.allocate("ns/dual", req({ pool: "v6", ipFamilies: ["IPv6"] })));
    before.release("ns/s3");
    held.delete("ns/s3");

    const after = new AddressAllocator({ pools: [lab, pool("v6", ["2001:db8::/120"])] });
    for (const [key, ips] of held)
      expect(after.restore(key, ips, { ports, uid: key === "ns/dual" ? undefined : `u${key.slice(4)}` })).toEqual([]);
    for (const [key, ips] of held) {
      expect(
        after.allocate(
          key,
          req({
            uid: key === "ns/dual" ? "d" : `u${key.slice(4)}`,
            ipFamilies: key === "ns/dual" ? ["IPv6"] : ["IPv4"],
          }),
        ),
      ).toEqual(ips);
    }
    expect(after.allocate("ns/new", req())).toEqual(["192.0.2.103"]);
    expect(after.allocate("ns/newer", req())).toEqual(["192.0.2.110"]);
  });

  it("keeps conflicting restored addresses, reports them, and refuses to pretend they are fine", () => {
    const a = new AddressAllocator({ pools: [lab] });
    expect(a.restore("ns/a", ["192.0.2.105"], { ports })).toEqual([]);
    const issues = a.restore("ns/b", ["192.0.2.105"], { ports });
    expect(issues).toEqual([
      {
        kind: "conflict",
        key: "ns/b",
        ip: "192.0.2.105",
        message:
          "ns/b: address 192.0.2.105 is already used by ns/a; to share it, set lb-operator.io/allow-shared-ip to the same value on both Services",
      },
    ]);
    expect(a.assigned("ns/a")?.addresses[0]?.ip).toBe("192.0.2.105");
    expect(a.assigned("ns/b")?.addresses[0]?.ip).toBe("192.0.2.105");
    // Neither Service is moved; both get an event until one goes away. Nobody else gets the address.
    expect(thrown(() => a.allocate("ns/a", req()))).toBeInstanceOf(AddressInUseError);
    expect(thrown(() => a.allocate("ns/b", req()))).toBeInstanceOf(AddressInUseError);
    expect(thrown(() => a.allocate("ns/c", req({ requestedIPs: ["192.0.2.105"] })))).toBeInstanceOf(AddressInUseError);
    a.release("ns/a");
    expect(a.allocate("ns/b", req())).toEqual(["192.0.2.105"]);
  });

  it("reports port collisions between restored sharers and addresses outside every pool", () => {
    const a = new AddressAllocator({ pools: [lab] });
    a.restore("ns/a", ["192.0.2.101"], { ports, sharingKey: "k" });
    expect(a.restore("ns/b", ["192.0.2.101"], { ports, sharingKey: "k" })[0]?.message).toBe(
      "ns/b: port TCP/80 on shared address 192.0.2.101 is already used by ns/a; shared Services need distinct ports",
    );
    expect(a.restore("ns/c", ["203.0.113.9", "not-an-ip", ""], { ports })).toEqual([
      {
        kind: "invalid-address",
        key: "ns/c",
        ip: "not-an-ip",
        message: 'ns/c: status address "not-an-ip" is not an IP address; ignored',
      },
      {
        kind: "invalid-address",
        key: "ns/c",
        ip: "",
        message: 'ns/c: status address "" is not an IP address; ignored',
      },
      {
        kind: "outside-pools",
        key: "ns/c",
        ip: "203.0.113.9",
        message:
          "ns/c: address 203.0.113.9 is in no address pool (pools: lab 192.0.2.100-192.0.2.120); kept, not moved",
      },
    ]);
    expect(a.assigned("ns/c")?.addresses).toEqual([{ ip: "203.0.113.9", family: "IPv4", pool: undefined }]);
  });

  it("accepts any backend key from restored sharers until their first allocate", () => {
    const a = new AddressAllocator({ pools: [lab] });
    a.restore("ns/a", ["192.0.2.101"], { ports, sharingKey: "k" });
    a.restore("ns/b", ["192.0.2.101"], { ports: [{ protocol: "TCP", port: 81 }], sharingKey: "k" });
    expect(a.allocate("ns/a", req({ sharingKey: "k", backendKey: "local:ns/a" }))).toEqual(["192.0.2.101"]);
    expect(
      thrown(() =>
        a.allocate("ns/b", req({ sharingKey: "k", backendKey: "local:ns/b", ports: [{ protocol: "TCP", port: 81 }] })),
      ),
    ).toBeInstanceOf(AddressInUseError);
  });
});

describe("invariant", () => {
  it("never gives one address to two Services that may not share it (seeded random operations)", () => {
    let seed = 7;
    const random = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
    const a = new AddressAllocator({
      pools: [
        pool("p", ["192.0.2.0/28"], { avoidBuggyIPs: true }),
        pool("q", ["198.51.100.0/29"], { autoAssign: false }),
      ],
    });
    const live = new Set<string>();
    for (let step = 0; step < 3000; step++) {
      const key = `ns/s${random(40)}`;
      if (random(4) === 0) {
        a.release(key);
        live.delete(key);
        continue;
      }
      const request = req({
        sharingKey: random(3) === 0 ? `k${random(2)}` : undefined,
        ports: [{ protocol: "TCP", port: 80 + random(3) }],
        pool: random(5) === 0 ? "q" : undefined,
        requestedIPs: random(6) === 0 ? [`192.0.2.${random(16)}`] : [],
      });
      try {
        a.allocate(key, request);
        live.add(key);
      } catch (err) {
        if (!(err instanceof InvalidSpecError) && !(err instanceof RetryAfterError)) throw err;
      }
      const byIP = new Map<string, { key: string; sharingKey: string | undefined; ports: string[] }[]>();
      for (const k of live) {
        const alloc = a.assigned(k);
        if (alloc === undefined) continue;
        for (const { ip } of alloc.addresses) {
          const users = byIP.get(ip) ?? [];
          users.push({
            key: k,
            sharingKey: alloc.sharingKey,
            ports: alloc.ports.map((p) => `${p.protocol}/${p.port}`),
          });
          byIP.set(ip, users);
        }
      }
      for (const [ip, users] of byIP) {
        expect(ip).not.toBe("192.0.2.0");
        if (users.length < 2) continue;
        const keys = new Set(users.map((u) => u.sharingKey));
        expect(keys.size === 1 && !keys.has(undefined)).toBe(true);
        const allPorts = users.flatMap((u) => u.ports);
        expect(new Set(allPorts).size).toBe(allPorts.length);
      }
    }
  });
});
