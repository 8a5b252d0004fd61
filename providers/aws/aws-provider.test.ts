import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { newSpec } from "../../testing/new-spec.js";
import type { AwsEnvironmentResolver } from "./aws-environment.js";
import { AwsProvider, kindOfAddress, type SecurityGroupPort } from "./aws-provider.js";
import type { LoadBalancerDeployer, LoadBalancerKind } from "./aws-types.js";

describe("kindOfAddress", () => {
  it("tells an NLB's DNS name from a classic ELB's as AWS forms them", () => {
    expect(kindOfAddress("a1b2-0123456789.elb.us-east-1.amazonaws.com")).toBe("nlb");
    expect(kindOfAddress("a1b2-0123456789.elb.cn-north-1.amazonaws.com.cn")).toBe("nlb");
    expect(kindOfAddress("a1b2-0123456789.us-east-1.elb.amazonaws.com")).toBe("clb");
    expect(kindOfAddress("internal-a1b2-1.eu-west-3.elb.amazonaws.com")).toBe("clb");
    expect(kindOfAddress("lb.example.com")).toBeUndefined();
    expect(kindOfAddress(undefined)).toBeUndefined();
  });
});

describe("AwsProvider.restore", () => {
  const NLB = { "service.beta.kubernetes.io/aws-load-balancer-type": "nlb" };

  function provider(): { p: AwsProvider; deleted: LoadBalancerKind[] } {
    const deleted: LoadBalancerKind[] = [];
    const deployer = (kind: LoadBalancerKind): LoadBalancerDeployer => ({
      ensure: () => Promise.resolve({ dnsName: `${kind}.example` }),
      delete: () => {
        deleted.push(kind);
        return Promise.resolve();
      },
    });
    const securityGroups: SecurityGroupPort = {
      ensureFrontend: () => Promise.resolve("sg-front"),
      ensureBackend: () => Promise.resolve("sg-back"),
      ensureNodeAccess: () => Promise.resolve(),
      deleteFrontend: () => Promise.resolve(),
    };
    const environment = {
      resolve: () => Promise.resolve({ vpcId: "vpc-1", subnets: [], instances: [], nodeSecurityGroupId: "sg-nodes" }),
    } as unknown as AwsEnvironmentResolver;
    const p = new AwsProvider({
      deployers: { nlb: deployer("nlb"), clb: deployer("clb") },
      securityGroups,
      environment,
      logger: pino({ level: "silent" }),
    });
    return { p, deleted };
  }
  const restored = (hostname: string, annotations: Record<string, string>) => {
    const spec = newSpec({ annotations });
    return { spec, existing: { ...spec, status: { ingress: [{ hostname }] } } };
  };
  const signal = new AbortController().signal;

  it("skips looking for the other kind when the restored address names the Service's kind", async () => {
    for (const [hostname, annotations] of [
      ["a-1.elb.us-east-1.amazonaws.com", NLB],
      ["a-1.us-east-1.elb.amazonaws.com", {}],
    ] as const) {
      const { p, deleted } = provider();
      const { spec, existing } = restored(hostname, annotations);
      await p.restore([existing]);
      await p.ensure(spec, signal);
      expect(deleted).toEqual([]);
    }
  });

  it("removes the other kind when the restored address names it (a type change while stopped, or moto's NLB names)", async () => {
    const { p, deleted } = provider();
    const { spec, existing } = restored("a-1.us-east-1.elb.amazonaws.com", NLB);
    await p.restore([existing]);
    await p.ensure(spec, signal);
    expect(deleted).toEqual(["clb"]);
  });

  it("removes the other kind on the first ensure of a Service it did not restore", async () => {
    const { p, deleted } = provider();
    await p.ensure(newSpec({ annotations: NLB }), signal);
    await p.ensure(newSpec({ annotations: NLB }), signal);
    expect(deleted).toEqual(["clb"]);
  });
});

describe("AwsProvider backends-only path (node churn on a classic ELB)", () => {
  const A = { name: "a", providerID: "aws:///us-east-1a/i-a" };
  const B = { name: "b", providerID: "aws:///us-east-1b/i-b" };
  const signal = new AbortController().signal;

  function provider(narrow: () => Promise<{ dnsName: string } | undefined>) {
    const calls: string[] = [];
    const registered: string[][] = [];
    const clb: LoadBalancerDeployer = {
      ensure: () => {
        calls.push("full");
        return Promise.resolve({ dnsName: "A-1.us-east-1.elb.amazonaws.com" });
      },
      ensureBackends: (input) => {
        calls.push("backends");
        registered.push(input.instances.map((i) => i.instanceId));
        return narrow();
      },
      delete: () => Promise.resolve(),
    };
    const nlb: LoadBalancerDeployer = {
      ensure: () => {
        calls.push("full-nlb");
        return Promise.resolve({ dnsName: "n-1.elb.us-east-1.amazonaws.com" });
      },
      delete: () => Promise.resolve(),
    };
    const p = new AwsProvider({
      deployers: { nlb, clb },
      securityGroups: {
        ensureFrontend: () => Promise.resolve("sg-front"),
        ensureBackend: () => Promise.resolve("sg-back"),
        ensureNodeAccess: () => Promise.resolve(),
        deleteFrontend: () => Promise.resolve(),
      },
      environment: {
        resolve: () => Promise.resolve({ vpcId: "vpc-1", subnets: [], instances: [], nodeSecurityGroupId: "sg-nodes" }),
      } as unknown as AwsEnvironmentResolver,
      logger: pino({ level: "silent" }),
    });
    return { p, calls, registered };
  }
  const dns = () => Promise.resolve({ dnsName: "A-1.us-east-1.elb.amazonaws.com" });

  it("registers the new node set alone when only nodes changed, and a repeat of the same spec runs the full ensure", async () => {
    const { p, calls, registered } = provider(dns);
    await p.ensure(newSpec({ nodes: [A] }), signal);
    const status = await p.ensure(newSpec({ nodes: [A, B] }), signal);
    await p.ensure(newSpec({ nodes: [A] }), signal);
    await p.ensure(newSpec({ nodes: [A] }), signal);
    expect(calls).toEqual(["full", "backends", "backends", "full"]);
    expect(registered).toEqual([["i-a", "i-b"], ["i-a"]]);
    expect(status.ingress[0]?.hostname).toBe("a-1.us-east-1.elb.amazonaws.com");
  });

  it("runs the full ensure when something besides the nodes changed, or after a restart", async () => {
    const { p, calls } = provider(dns);
    await p.ensure(newSpec({ nodes: [A] }), signal);
    await p.ensure(newSpec({ nodes: [A, B], ports: [{ port: 81 }] }), signal);
    expect(calls).toEqual(["full", "full"]);

    const restarted = provider(dns);
    const spec = newSpec({ nodes: [A, B] });
    await restarted.p.restore([{ ...spec, status: { ingress: [{ hostname: "a-1.us-east-1.elb.amazonaws.com" }] } }]);
    await restarted.p.ensure(spec, signal);
    expect(restarted.calls).toEqual(["full"]);
  });

  it("falls back to the full ensure when the load balancer is gone, and after a failed narrow attempt", async () => {
    const gone = provider(() => Promise.resolve(undefined));
    await gone.p.ensure(newSpec({ nodes: [A] }), signal);
    await gone.p.ensure(newSpec({ nodes: [A, B] }), signal);
    expect(gone.calls).toEqual(["full", "backends", "full"]);

    const failing = provider(() => Promise.reject(new Error("throttled")));
    await failing.p.ensure(newSpec({ nodes: [A] }), signal);
    await expect(failing.p.ensure(newSpec({ nodes: [A, B] }), signal)).rejects.toThrow("throttled");
    await failing.p.ensure(newSpec({ nodes: [A, B] }), signal);
    expect(failing.calls).toEqual(["full", "backends", "full"]);
  });

  it("keeps the full ensure for a kind without the narrow path (NLB), and after a delete", async () => {
    const NLB = { "service.beta.kubernetes.io/aws-load-balancer-type": "nlb" };
    const { p, calls } = provider(dns);
    await p.ensure(newSpec({ nodes: [A], annotations: NLB }), signal);
    await p.ensure(newSpec({ nodes: [A, B], annotations: NLB }), signal);
    await p.delete(newSpec().id, signal);
    await p.ensure(newSpec({ nodes: [A] }), signal);
    await p.ensure(newSpec({ nodes: [A, B] }), signal);
    await p.delete(newSpec().id, signal);
    await p.ensure(newSpec({ nodes: [A] }), signal);
    expect(calls).toEqual(["full-nlb", "full-nlb", "full", "backends", "full"]);
  });
});
