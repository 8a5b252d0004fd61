/**
 * Pure ingress-rule model of the managed frontend security group: what the rules should be for a load
 * balancer's listener ports and source ranges, and the smallest authorize/revoke set that gets there.
 *
 * The frontend group is owned outright, so it is fully synchronised like cloud-provider-aws's
 * `setSecurityGroupIngress` for the classic ELB group (reference section 2): anything not desired is revoked.
 * Rules are compared by protocol, port range and source only; descriptions never cause a write.
 */
import type { IpPermission, SecurityGroupRule } from "@aws-sdk/client-ec2";

export type IngressProtocol = "tcp" | "udp" | "icmp" | "icmpv6" | "-1";

export interface ListenerPort {
  readonly protocol: "TCP" | "UDP";
  readonly port: number;
}

/** One ingress rule from one CIDR. For ICMP, fromPort is the type and toPort the code (EC2's convention). */
export interface CidrIngressRule {
  readonly protocol: IngressProtocol;
  readonly fromPort: number;
  readonly toPort: number;
  readonly cidr: string;
}

export const FRONTEND_RULE_DESCRIPTION = "lb-operator.io/frontend";
export const ALLOW_ALL_IPV4 = "0.0.0.0/0";

/** ICMP "fragmentation needed" (type 3 code 4) and ICMPv6 "packet too big" (type 2 code 0), for path MTU discovery. */
const PMTU_IPV4 = { protocol: "icmp", fromPort: 3, toPort: 4 } as const;
const PMTU_IPV6 = { protocol: "icmpv6", fromPort: 2, toPort: 0 } as const;

// EC2 answers with names for the common protocols but accepts (and may echo) IANA numbers.
const PROTOCOL_NUMBERS: Readonly<Record<string, IngressProtocol>> = {
  "6": "tcp",
  "17": "udp",
  "1": "icmp",
  "58": "icmpv6",
  all: "-1",
};

export function normalizeProtocol(protocol: string): string {
  const lower = protocol.toLowerCase();
  return PROTOCOL_NUMBERS[lower] ?? lower;
}

export function isIpv6Cidr(cidr: string): boolean {
  return cidr.includes(":");
}

/**
 * Listener ports x source ranges, plus the path-MTU ICMP rule per range (both anchors open it: cloud-provider-aws
 * for the classic ELB group, aws-load-balancer-controller with enable-icmp-for-path-mtu-discovery). An empty
 * `sourceRanges` means 0.0.0.0/0, as in both anchors. Sorted and de-duplicated.
 */
export function desiredFrontendRules(
  ports: readonly ListenerPort[],
  sourceRanges: readonly string[],
): CidrIngressRule[] {
  const ranges = sourceRanges.length > 0 ? sourceRanges : [ALLOW_ALL_IPV4];
  const rules = new Map<string, CidrIngressRule>();
  const add = (rule: CidrIngressRule): void => {
    rules.set(ruleKey(rule), rule);
  };
  for (const cidr of ranges) {
    for (const { protocol, port } of ports) {
      add({ protocol: protocol === "UDP" ? "udp" : "tcp", fromPort: port, toPort: port, cidr });
    }
    add({ ...(isIpv6Cidr(cidr) ? PMTU_IPV6 : PMTU_IPV4), cidr });
  }
  return [...rules.values()].sort((a, b) => compareKeys(ruleKey(a), ruleKey(b)));
}

export function ruleKey(rule: CidrIngressRule): string {
  return `${rule.protocol}|${rule.fromPort}|${rule.toPort}|${rule.cidr}`;
}

/** The key of an existing rule; rules from other groups or prefix lists get keys no desired rule has. */
export function existingRuleKey(rule: SecurityGroupRule): string {
  const source =
    rule.CidrIpv4 ??
    rule.CidrIpv6 ??
    (rule.ReferencedGroupInfo?.GroupId
      ? `group:${rule.ReferencedGroupInfo.GroupId}`
      : `prefix-list:${rule.PrefixListId ?? "?"}`);
  return `${normalizeProtocol(rule.IpProtocol ?? "-1")}|${rule.FromPort ?? -1}|${rule.ToPort ?? -1}|${source}`;
}

export interface IngressDiff {
  readonly authorize: readonly CidrIngressRule[];
  /** SecurityGroupRuleIds to revoke. */
  readonly revoke: readonly string[];
}

/** `existing` may contain egress rules; they are ignored (the default allow-all egress stays). */
export function diffIngressRules(
  existing: readonly SecurityGroupRule[],
  desired: readonly CidrIngressRule[],
): IngressDiff {
  const desiredKeys = new Set(desired.map(ruleKey));
  const present = new Set<string>();
  const revoke: string[] = [];
  for (const rule of existing) {
    if (rule.IsEgress) continue;
    const key = existingRuleKey(rule);
    if (desiredKeys.has(key) && !present.has(key)) present.add(key);
    else if (rule.SecurityGroupRuleId) revoke.push(rule.SecurityGroupRuleId);
  }
  return { authorize: desired.filter((rule) => !present.has(ruleKey(rule))), revoke: revoke.sort() };
}

/** One IpPermission per rule, so a single AuthorizeSecurityGroupIngress call adds them all. */
export function toIpPermissions(rules: readonly CidrIngressRule[], description: string): IpPermission[] {
  return rules.map((rule) => ({
    IpProtocol: rule.protocol,
    FromPort: rule.fromPort,
    ToPort: rule.toPort,
    ...(isIpv6Cidr(rule.cidr)
      ? { Ipv6Ranges: [{ CidrIpv6: rule.cidr, Description: description }] }
      : { IpRanges: [{ CidrIp: rule.cidr, Description: description }] }),
  }));
}

function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
