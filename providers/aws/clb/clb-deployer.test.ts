import { describe, expect, it } from "vitest";
import { newSpec } from "../../../testing/new-spec.js";
import { parseAwsConfig } from "../annotations.js";
import { loadBalancerName } from "../names.js";
import { ClbDeployer } from "./clb-deployer.js";
import { fakeElb } from "../../../test/fakes/fake-elb.js";

const signal = new AbortController().signal;

describe("ClbDeployer.ensureBackends (node churn)", () => {
  const spec = newSpec();
  const config = parseAwsConfig(spec);
  const name = loadBalancerName(spec.id, "clb", config.scheme);
  const instances = [{ nodeName: "a", instanceId: "i-a", availabilityZone: undefined }];
  const deployer = (elb: ReturnType<typeof fakeElb>) =>
    new ClbDeployer({
      clients: { elb: elb.client } as unknown as ConstructorParameters<typeof ClbDeployer>[0]["clients"],
    });

  it("describes the load balancer once and registers the new instances, nothing else", async () => {
    const elb = fakeElb({ LoadBalancerName: name, DNSName: "X.elb.amazonaws.com", Instances: [] });
    const out = await deployer(elb).ensureBackends({ spec, config, instances }, signal);
    expect(out).toEqual({ dnsName: "X.elb.amazonaws.com" });
    expect(elb.sent.map((s) => s.command)).toEqual(["DescribeLoadBalancers", "RegisterInstancesWithLoadBalancer"]);
  });

  it("answers undefined without writing when the load balancer is gone, so the caller runs the full ensure", async () => {
    const elb = fakeElb(undefined);
    expect(await deployer(elb).ensureBackends({ spec, config, instances }, signal)).toBeUndefined();
    expect(elb.sent.map((s) => s.command)).toEqual(["DescribeLoadBalancers"]);
  });
});
