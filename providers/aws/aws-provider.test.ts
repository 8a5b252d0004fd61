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
