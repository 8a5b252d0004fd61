import { describe, expect, it } from "vitest";
import { InvalidSpecError, RetryAfterError } from "../../src/errors.js";
import type { ExistingLoadBalancer, LoadBalancerSpec, PortSpec } from "../../src/provider.js";
import { newSpec, type NewSpecOptions, type SpecPort } from "../../testing/new-spec.js";
import type { AddressPool } from "./address-pool.js";
import type { AllocationIssue } from "./allocation-types.js";
import { BaremetalProvider, allocationKey, backendKeyFor } from "./baremetal-provider.js";
import { AddressNotInPoolError, InvalidPoolError, PortCollisionError, UnknownPoolError } from "./baremetal-errors.js";

const lab: AddressPool = {
  name: "lab",
  addresses: ["192.0.2.100-192.0.2.120", "2001:db8::/120"],
  autoAssign: true,
  avoidBuggyIPs: false,
};
const signal = new AbortController().signal;

function port(port: number, protocol: PortSpec["protocol"] = "TCP"): SpecPort {
  return { port, protocol };
}

/** A spec from newSpec for Service `name` in cluster c1. */
function spec(name: string, options: Omit<NewSpecOptions, "name" | "clusterId"> = {}): LoadBalancerSpec {
  return newSpec({ name, clusterId: "c1", ...options });
}

function existing(s: LoadBalancerSpec, ips: string[]): ExistingLoadBalancer {
  return {
    id: s.id,
    ports: s.ports,
    annotations: s.annotations,
    externalTrafficPolicy: s.externalTrafficPolicy,
    selector: s.selector,
    status: { ingress: [...ips.map((ip) => ({ ip, ipMode: "VIP" as const })), { hostname: "ignored.example" }] },
  };
}

describe("BaremetalProvider.ensure", () => {
  it("returns one ingress per family with the Service's ports, ipMode Proxy (the speaker forwards), idempotently", async () => {
    const provider = new BaremetalProvider({ pools: [lab] });
    const s = spec("web", { ipFamilies: ["IPv4", "IPv6"], ports: [port(80), port(53, "UDP")] });
    const status = await provider.ensure(s, signal);
    const ports = [
      { port: 80, protocol: "TCP" },
      { port: 53, protocol: "UDP" },
    ];
    expect(status).toEqual({
      ingress: [
        { ip: "192.0.2.100", ipMode: "Proxy", ports },
        { ip: "2001:db8::", ipMode: "Proxy", ports },
      ],
    });
    expect(await provider.ensure(s, signal)).toEqual(status);
    expect(provider.name).toBe("baremetal");
    expect(provider.usage("lab")?.used).toEqual({ IPv4: 1, IPv6: 1 });
  });

  it("reports ipMode VIP in announce-only mode, where kube-proxy forwards (MetalLB-compatible)", async () => {
    const provider = new BaremetalProvider({ pools: [lab], ipMode: "VIP" });
    const status = await provider.ensure(spec("web", {}), signal);
    expect(status.ingress.map((i) => i.ipMode)).toEqual(["VIP"]);
  });

  it("honours requested addresses and the pool annotation, with MetalLB's as aliases", async () => {
    const provider = new BaremetalProvider({
      pools: [lab, { name: "manual", addresses: ["198.51.100.0/24"], autoAssign: false, avoidBuggyIPs: false }],
    });
    expect((await provider.ensure(spec("a", { loadBalancerIP: "192.0.2.111" }), signal)).ingress[0]?.ip).toBe(
      "192.0.2.111",
    );
    expect(
      (await provider.ensure(spec("b", { annotations: { "metallb.io/address-pool": "manual" } }), signal)).ingress[0]
        ?.ip,
    ).toBe("198.51.100.0");
    await expect(
      provider.ensure(spec("c", { annotations: { "lb-operator.io/address-pool": "nope" } }), signal),
    ).rejects.toBeInstanceOf(UnknownPoolError);
  });

  it("turns bad input into invalid-spec errors fit for an event", async () => {
    const provider = new BaremetalProvider({ pools: [{ ...lab, addresses: ["192.0.2.100-192.0.2.120"] }] });
    const outside = provider.ensure(spec("a", { loadBalancerIP: "203.0.113.77" }), signal);
    await expect(outside).rejects.toBeInstanceOf(AddressNotInPoolError);
    await expect(outside).rejects.toThrow(
      "spec.loadBalancerIP: address 203.0.113.77 is in no address pool (pools: lab 192.0.2.100-192.0.2.120)",
    );
    const viaAnnotation = spec("a", { annotations: { "lb-operator.io/load-balancer-ips": "203.0.113.77" } });
    await expect(provider.ensure(viaAnnotation, signal)).rejects.toThrow(
      /^metadata\.annotations\[lb-operator\.io\/load-balancer-ips\]: address 203\.0\.113\.77/,
    );
    await expect(
      provider.ensure(spec("b", { annotations: { "lb-operator.io/allow-shared-ip": "two words" } }), signal),
    ).rejects.toBeInstanceOf(InvalidSpecError);
  });

  it("shares an address by annotation with disjoint ports, and names colliding ports", async () => {
    const provider = new BaremetalProvider({ pools: [lab] });
    const annotations = { "lb-operator.io/allow-shared-ip": "dns" };
    const tcp = await provider.ensure(spec("dns-tcp", { annotations, ports: [port(53)] }), signal);
    const udp = await provider.ensure(
      spec("dns-udp", { annotations: { "metallb.io/allow-shared-ip": "dns" }, ports: [port(53, "UDP")] }),
      signal,
    );
    expect(udp.ingress[0]?.ip).toBe(tcp.ingress[0]?.ip);
    const clash = provider.ensure(
      spec("dns-again", { annotations, ports: [port(53)], loadBalancerIP: "192.0.2.100" }),
      signal,
    );
    await expect(clash).rejects.toBeInstanceOf(PortCollisionError);
    await expect(clash).rejects.toThrow("port TCP/53 on shared address 192.0.2.100 is already used by default/dns-tcp");
  });

  it("shares between externalTrafficPolicy Local Services only when they select the same pods (MetalLB)", async () => {
    const provider = new BaremetalProvider({ pools: [lab] });
    const annotations = { "lb-operator.io/allow-shared-ip": "k" };
    const local = { annotations, healthCheckNodePort: 32000 };
    await provider.ensure(spec("a", { ...local, selector: { app: "dns" } }), signal);
    const other = provider.ensure(spec("b", { ...local, ports: [port(81)], loadBalancerIP: "192.0.2.100" }), signal);
    await expect(other).rejects.toBeInstanceOf(RetryAfterError);
    const same = await provider.ensure(
      spec("c", { ...local, selector: { app: "dns" }, ports: [port(82)], loadBalancerIP: "192.0.2.100" }),
      signal,
    );
    expect(same.ingress[0]?.ip).toBe("192.0.2.100");
    expect(backendKeyFor(spec("a"))).toBeUndefined();
    expect(backendKeyFor(spec("a", { healthCheckNodePort: 32000, selector: {} }))).toBe("local:default/a");
  });

  it("refuses to run when aborted", async () => {
    const provider = new BaremetalProvider({ pools: [lab] });
    await expect(provider.ensure(spec("a"), AbortSignal.abort())).rejects.toThrow();
    expect(provider.usage("lab")?.used.IPv4).toBe(0);
  });
});

describe("BaremetalProvider.delete", () => {
  it("releases the address, is idempotent, and ignores a stale uid", async () => {
    const provider = new BaremetalProvider({ pools: [lab] });
    const old = spec("web");
    await provider.ensure(old, signal);
    const recreated = spec("web", { uid: "uid-web-2" });
    expect((await provider.ensure(recreated, signal)).ingress[0]?.ip).toBe("192.0.2.100");
    await provider.delete(old.id, signal);
    expect(provider.usage("lab")?.used.IPv4).toBe(1);
    await provider.delete(recreated.id, signal);
    await provider.delete(recreated.id, signal);
    expect(provider.usage("lab")?.used.IPv4).toBe(0);
    expect(allocationKey(old.id)).toBe("default/web");
  });
});

describe("BaremetalProvider.restore", () => {
  it("keeps every address a Service holds across a restart", async () => {
    const before = new BaremetalProvider({ pools: [lab] });
    const specs = [
      spec("a"),
      spec("b", { ipFamilies: ["IPv6", "IPv4"] }),
      spec("c", { loadBalancerIP: "192.0.2.120" }),
    ];
    const held: ExistingLoadBalancer[] = [];
    for (const s of specs)
      held.push(
        existing(
          s,
          (await before.ensure(s, signal)).ingress.map((i) => i.ip ?? ""),
        ),
      );

    const issues: AllocationIssue[] = [];
    const after = new BaremetalProvider({ pools: [lab], onIssue: (i) => issues.push(i) });
    await after.restore(held);
    for (const s of specs) expect(await after.ensure(s, signal)).toEqual(await before.ensure(s, signal));
    expect((await after.ensure(spec("new"), signal)).ingress[0]?.ip).toBe("192.0.2.102");
    expect(issues).toEqual([]);
  });

  it("reports conflicting restored addresses instead of reassigning them", async () => {
    const issues: AllocationIssue[] = [];
    const provider = new BaremetalProvider({ pools: [lab], onIssue: (i) => issues.push(i) });
    await provider.restore([
      existing(spec("a"), ["192.0.2.105"]),
      existing(spec("b"), ["192.0.2.105"]),
      existing(spec("gone"), ["203.0.113.5"]),
    ]);
    expect(issues.map((i) => [i.kind, i.key, i.ip])).toEqual([
      ["conflict", "default/b", "192.0.2.105"],
      ["outside-pools", "default/gone", "203.0.113.5"],
    ]);
    await expect(provider.ensure(spec("b"), signal)).rejects.toThrow(
      "address 192.0.2.105 is already used by default/a",
    );
    await provider.delete(spec("a").id, signal);
    expect((await provider.ensure(spec("b"), signal)).ingress[0]?.ip).toBe("192.0.2.105");
  });
});

describe("BaremetalProvider.setPools", () => {
  it("reports allocations left outside the pools and refuses invalid pools", async () => {
    const issues: AllocationIssue[] = [];
    const provider = new BaremetalProvider({ pools: [lab], onIssue: (i) => issues.push(i) });
    await provider.ensure(spec("a"), signal);
    expect(() => provider.setPools([lab, { ...lab, name: "copy" }])).toThrow(InvalidPoolError);
    const other: AddressPool = {
      name: "other",
      addresses: ["198.51.100.0/24"],
      autoAssign: true,
      avoidBuggyIPs: false,
    };
    expect(provider.setPools([other]).map((i) => i.key)).toEqual(["default/a"]);
    expect(issues).toHaveLength(1);
    await expect(provider.ensure(spec("a"), signal)).rejects.toBeInstanceOf(AddressNotInPoolError);
    expect(() => new BaremetalProvider({ pools: [{ ...lab, addresses: ["nope"] }] })).toThrow(InvalidPoolError);
  });
});
