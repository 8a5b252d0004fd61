import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { LoadBalancerId } from "../../src/provider.js";
import { backendSecurityGroupName, loadBalancerName, securityGroupName, targetGroupName } from "./names.js";
import type { TargetGroupNameInput } from "./names.js";

const id: LoadBalancerId = {
  clusterId: "lab",
  namespace: "default",
  name: "web",
  uid: "1111-2222",
  shortName: "web-abc",
};
const tg: TargetGroupNameInput = {
  port: 80,
  protocol: "TCP",
  targetType: "instance",
  healthCheckProtocol: "TCP",
  healthCheckIntervalSeconds: 10,
  targetPort: 30080,
};
const ELB_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$/;

function validElbName(name: string): void {
  expect(name.length).toBeLessThanOrEqual(32);
  expect(name).toMatch(ELB_NAME);
  expect(name.startsWith("internal-")).toBe(false);
}

describe("loadBalancerName", () => {
  it("has LBC's shape with a sha256 over cluster, uid, kind and scheme", () => {
    const expected = createHash("sha256")
      .update(["lab", "1111-2222", "nlb", "internet-facing"].join("\0"))
      .digest("hex")
      .slice(0, 10);
    expect(loadBalancerName(id, "nlb", "internet-facing")).toBe(`k8s-default-web-${expected}`);
  });

  it("is deterministic and changes with every hashed field", () => {
    const base = loadBalancerName(id, "nlb", "internet-facing");
    expect(loadBalancerName({ ...id }, "nlb", "internet-facing")).toBe(base);
    const variants = [
      loadBalancerName(id, "clb", "internet-facing"),
      loadBalancerName(id, "nlb", "internal"),
      loadBalancerName({ ...id, uid: "other" }, "nlb", "internet-facing"),
      loadBalancerName({ ...id, clusterId: "other" }, "nlb", "internet-facing"),
    ];
    expect(new Set([base, ...variants]).size).toBe(5);
  });

  it("truncates and sanitises long or odd namespaces and names to a valid ELB name", () => {
    const long = { ...id, namespace: "team-payments-production", name: "checkout.api-v2_public" };
    const name = loadBalancerName(long, "nlb", "internal");
    expect(name).toMatch(/^k8s-teampaym-checkout-[0-9a-f]{10}$/);
    expect(name).toHaveLength(32);
    validElbName(name);
    // Only punctuation left: still valid (no leading/trailing hyphen, nothing outside [A-Za-z0-9-]).
    validElbName(loadBalancerName({ ...id, namespace: "---", name: "..." }, "clb", "internet-facing"));
    validElbName(loadBalancerName({ ...id, namespace: "ns", name: "ünïcode-名前" }, "clb", "internet-facing"));
  });
});

describe("targetGroupName", () => {
  it("is a valid, deterministic name distinct from the load balancer's", () => {
    const name = targetGroupName(id, tg);
    validElbName(name);
    expect(name).toMatch(/^k8s-default-web-[0-9a-f]{10}$/);
    expect(targetGroupName(id, { ...tg })).toBe(name);
    expect(name).not.toBe(loadBalancerName(id, "nlb", "internet-facing"));
  });

  it("changes with each property AWS cannot modify in place", () => {
    const changes: Partial<TargetGroupNameInput>[] = [
      { port: 443 },
      { protocol: "UDP" },
      { protocol: "TLS" },
      { targetType: "ip" },
      { healthCheckProtocol: "HTTP" },
      { healthCheckIntervalSeconds: 30 },
      { targetPort: 30081 },
    ];
    const names = changes.map((c) => targetGroupName(id, { ...tg, ...c }));
    expect(new Set([targetGroupName(id, tg), ...names]).size).toBe(changes.length + 1);
    expect(targetGroupName({ ...id, uid: "x" }, tg)).not.toBe(targetGroupName(id, tg));
  });
});

describe("security group names", () => {
  it("frontend: one per Service, independent of kind and scheme", () => {
    const name = securityGroupName(id);
    expect(name).toMatch(/^k8s-default-web-[0-9a-f]{10}$/);
    expect(name).not.toBe(loadBalancerName(id, "nlb", "internet-facing"));
    expect(securityGroupName({ ...id, uid: "other" })).not.toBe(name);
    expect(name.startsWith("sg-")).toBe(false);
  });

  it("backend: one per cluster, cluster name sanitised and cut to 15", () => {
    expect(backendSecurityGroupName("lab")).toMatch(/^k8s-traffic-lab-[0-9a-f]{10}$/);
    expect(backendSecurityGroupName("lab")).toBe(backendSecurityGroupName("lab"));
    expect(backendSecurityGroupName("my.very-long_cluster-name-eu-west-1")).toMatch(
      /^k8s-traffic-myverylongclust-[0-9a-f]{10}$/,
    );
    expect(backendSecurityGroupName("lab-a")).not.toBe(backendSecurityGroupName("laba"));
  });
});
