import { describe, expect, it } from "vitest";
import { convergeInstances } from "./clb-instances.js";
import { fakeElb } from "../../../test/fakes/fake-elb.js";

const signal = new AbortController().signal;
const lb = (ids: string[]) => ({ LoadBalancerName: "a1", Instances: ids.map((InstanceId) => ({ InstanceId })) });

describe("convergeInstances", () => {
  it("registers the added instances before deregistering the removed ones, one call each", async () => {
    const elb = fakeElb(undefined);
    await convergeInstances(elb.client, lb(["i-a", "i-b"]), ["i-b", "i-c", "i-d"], signal);
    expect(elb.sent).toEqual([
      {
        command: "RegisterInstancesWithLoadBalancer",
        input: { LoadBalancerName: "a1", Instances: [{ InstanceId: "i-c" }, { InstanceId: "i-d" }] },
      },
      {
        command: "DeregisterInstancesFromLoadBalancer",
        input: { LoadBalancerName: "a1", Instances: [{ InstanceId: "i-a" }] },
      },
    ]);
  });

  it("makes no call when the registered set is already the wanted one", async () => {
    const elb = fakeElb(undefined);
    await convergeInstances(elb.client, lb(["i-b", "i-a"]), ["i-a", "i-b"], signal);
    expect(elb.sent).toEqual([]);
  });
});
