import { describe, expect, it } from "vitest";
import type { SecurityGroupRule } from "@aws-sdk/client-ec2";
import { desiredFrontendRules, diffIngressRules, existingRuleKey, toIpPermissions } from "./sg-rules.js";

let nextId = 0;
function rule(
  protocol: string,
  from: number,
  to: number,
  source: { v4?: string; v6?: string; group?: string },
  egress = false,
): SecurityGroupRule {
  return {
    SecurityGroupRuleId: `sgr-${++nextId}`,
    IsEgress: egress,
    IpProtocol: protocol,
    FromPort: from,
    ToPort: to,
    CidrIpv4: source.v4,
    CidrIpv6: source.v6,
    ReferencedGroupInfo: source.group ? { GroupId: source.group } : undefined,
  };
}

describe("desiredFrontendRules", () => {
  it("opens the listener ports and path-MTU ICMP to 0.0.0.0/0 when there are no source ranges", () => {
    expect(
      desiredFrontendRules(
        [
          { protocol: "TCP", port: 80 },
          { protocol: "UDP", port: 53 },
        ],
        [],
      ),
    ).toEqual([
      { protocol: "icmp", fromPort: 3, toPort: 4, cidr: "0.0.0.0/0" },
      { protocol: "tcp", fromPort: 80, toPort: 80, cidr: "0.0.0.0/0" },
      { protocol: "udp", fromPort: 53, toPort: 53, cidr: "0.0.0.0/0" },
    ]);
  });

  it("is ports x ranges plus one ICMP rule per range (ICMPv6 packet-too-big for IPv6), de-duplicated", () => {
    const rules = desiredFrontendRules(
      [
        { protocol: "TCP", port: 443 },
        { protocol: "TCP", port: 443 },
      ],
      ["198.51.100.0/24", "2001:db8::/32"],
    );
    expect(rules).toEqual([
      { protocol: "icmpv6", fromPort: 2, toPort: 0, cidr: "2001:db8::/32" },
      { protocol: "icmp", fromPort: 3, toPort: 4, cidr: "198.51.100.0/24" },
      { protocol: "tcp", fromPort: 443, toPort: 443, cidr: "198.51.100.0/24" },
      { protocol: "tcp", fromPort: 443, toPort: 443, cidr: "2001:db8::/32" },
    ]);
  });
});

describe("diffIngressRules", () => {
  const desired = desiredFrontendRules([{ protocol: "TCP", port: 80 }], ["198.51.100.0/24"]);

  it("is empty when converged, ignoring egress rules and protocol numbers", () => {
    const existing = [
      rule("-1", -1, -1, { v4: "0.0.0.0/0" }, true),
      rule("6", 80, 80, { v4: "198.51.100.0/24" }),
      rule("icmp", 3, 4, { v4: "198.51.100.0/24" }),
    ];
    expect(diffIngressRules(existing, desired)).toEqual({ authorize: [], revoke: [] });
  });

  it("authorizes what is missing and revokes everything else, group references included", () => {
    const stale = rule("tcp", 80, 80, { v4: "203.0.113.0/24" });
    const foreign = rule("-1", -1, -1, { group: "sg-other" });
    const kept = rule("tcp", 80, 80, { v4: "198.51.100.0/24" });
    const diff = diffIngressRules([stale, kept, foreign], desired);
    expect(diff.authorize).toEqual([{ protocol: "icmp", fromPort: 3, toPort: 4, cidr: "198.51.100.0/24" }]);
    expect([...diff.revoke].sort()).toEqual([stale.SecurityGroupRuleId, foreign.SecurityGroupRuleId].sort());
  });

  it("revokes a duplicate of a desired rule", () => {
    const a = rule("tcp", 80, 80, { v4: "198.51.100.0/24" });
    const b = rule("tcp", 80, 80, { v4: "198.51.100.0/24" });
    expect(diffIngressRules([a, b], desired).revoke).toEqual([b.SecurityGroupRuleId]);
  });

  it("keys rules by protocol, ports and source", () => {
    expect(existingRuleKey(rule("17", 53, 53, { v6: "2001:db8::/32" }))).toBe("udp|53|53|2001:db8::/32");
    expect(existingRuleKey(rule("-1", -1, -1, { group: "sg-1" }))).toBe("-1|-1|-1|group:sg-1");
  });
});

describe("toIpPermissions", () => {
  it("puts IPv4 and IPv6 sources in their own range lists with the description", () => {
    expect(
      toIpPermissions(
        [
          { protocol: "tcp", fromPort: 80, toPort: 80, cidr: "198.51.100.0/24" },
          { protocol: "icmpv6", fromPort: 2, toPort: 0, cidr: "2001:db8::/32" },
        ],
        "d",
      ),
    ).toEqual([
      { IpProtocol: "tcp", FromPort: 80, ToPort: 80, IpRanges: [{ CidrIp: "198.51.100.0/24", Description: "d" }] },
      { IpProtocol: "icmpv6", FromPort: 2, ToPort: 0, Ipv6Ranges: [{ CidrIpv6: "2001:db8::/32", Description: "d" }] },
    ]);
  });
});
