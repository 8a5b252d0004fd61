/**
 * Renders a DataPlan into one nft script that replaces our whole table in a single transaction.
 *
 * Layout, modelled on kube-proxy's nftables mode (kubernetes/kubernetes pkg/proxy/nftables): lookups go through
 * verdict maps keyed by `ip daddr . meta l4proto . th dport`, so a packet costs one hash lookup however many
 * Services there are, and each rule gets its own small chain:
 *
 *   filter-prerouting / filter-output (before dstnat): new packets to a forwarded VIP must hit a Service port
 *     (vip-ports: accept, or goto the rule's source-range chain), anything else is dropped, so nothing but the
 *     Service ports is reachable through the VIP. Like kube-proxy's firewall-check only `ct state new` is
 *     filtered: established flows survive a change of sourceRanges, new ones see it at once.
 *   filter-forward: a packet still addressed to a VIP after dstnat was not ours to forward; the VIP is not a local
 *     address, so routing would send it back out of the node. Drop it.
 *   nat-prerouting / nat-output: `services` maps the key to the rule's `svc-*` chain, which DNATs to one of its
 *     destinations (output makes the VIP usable from the node itself).
 *   nat-postrouting: masquerade connections whose original destination is in `masquerade-services`. Keyed on the
 *     conntrack original tuple, so no packet marks are needed (kube-proxy uses mark 0x4000 for this; we must not
 *     collide with it on nodes that also run kube-proxy). Also masquerade hairpin connections to our VIPs: a pod
 *     DNATed to itself (`ip saddr . ip daddr` in `hairpin`, every destination paired with itself) would otherwise
 *     receive a packet from its own address, which its kernel drops (or answers locally), never back through our
 *     reverse NAT, and the connection fails. kube-proxy masquerades exactly this case (source = chosen endpoint),
 *     whatever the externalTrafficPolicy.
 *
 * The guard applies only to VIPs that have rules: in announce-only mode (no rules) kube-proxy forwards the
 * announced addresses itself, and dropping them here would break it.
 */
import type { DataPlan, ForwardingRule } from "../data-plan.js";
import { NftRenderError } from "./nft-errors.js";
import { ipv4ToNumber as ipv4ToInt } from "../../src/toolkit/index.js";
import { assertCIDR, assertIPv4, assertPort, assertTableName, chainName, comment } from "./nft-syntax.js";

export const DEFAULT_TABLE = "lb-operator";

/**
 * Fixed jhash seed. Without one the kernel picks a random seed each time the rule is created, so every
 * re-apply (and every other speaker taking over the VIP) would move clients to different destinations.
 * With a fixed seed a client keeps its destination as long as the destination list is unchanged.
 */
export const AFFINITY_HASH_SEED = 0x6c626f70;

/** Priorities: filter before DNAT (kube-proxy's filter-prerouting-pre-dnat uses dstnat - 10). nft 1.0.6 accepts
 * the `dstnat` keyword only on prerouting, so the output hook gets the same numbers spelled out. */
const DSTNAT = -100;
const PRE_DNAT = DSTNAT - 10;

export interface RenderOptions {
  /** nftables table (family ip) we own; default `lb-operator`. */
  readonly table?: string;
}

interface CheckedRule {
  readonly rule: ForwardingRule;
  readonly proto: "tcp" | "udp";
  /** `vip . proto . port` as an nft concatenation. */
  readonly key: string;
  readonly svcChain: string;
  /** Source-range chain, only when the rule has sourceRanges. */
  readonly fwChain: string | undefined;
}

/** The script that makes our table exactly `plan`, atomically (one `nft -f` transaction). */
export function renderRuleset(plan: DataPlan, options: RenderOptions = {}): string {
  const table = assertTableName(options.table ?? DEFAULT_TABLE);
  const rules = checkRules(plan.rules);
  const vips = [...new Set(rules.map((r) => r.rule.vip))].sort((a, b) => ipv4ToInt(a) - ipv4ToInt(b));

  const out: string[] = [
    // `add` makes `delete` succeed when the table does not exist yet; the kernel applies all three at once.
    `add table ip ${table}`,
    `delete table ip ${table}`,
    `table ip ${table} {`,
    `  ${comment("lb-operator speaker data path, replaced as a whole on every change")}`,
    ...renderSets(rules, vips),
    ...renderFixedChains(),
    ...rules.flatMap(renderRuleChains),
    "}",
  ];
  return `${out.join("\n")}\n`;
}

/** The sets and verdict maps the fixed chains look packets up in. */
function renderSets(rules: readonly CheckedRule[], vips: readonly string[]): string[] {
  return [
    ...set("forwarded-vips", "ipv4_addr", vips),
    ...set(
      "vip-ports",
      "ipv4_addr . inet_proto . inet_service : verdict",
      rules.map((r) => `${r.key} : ${r.fwChain === undefined ? "accept" : `goto ${r.fwChain}`}`),
    ),
    ...set(
      "services",
      "ipv4_addr . inet_proto . inet_service : verdict",
      rules.map((r) => `${r.key} : goto ${r.svcChain}`),
    ),
    ...set(
      "masquerade-services",
      "ipv4_addr . inet_proto . inet_service",
      rules.filter((r) => r.rule.masquerade).map((r) => r.key),
    ),
    ...set("hairpin", "ipv4_addr . ipv4_addr", hairpinPairs(rules)),
  ];
}

/** The hook chains and the VIP guard: the same for every plan, they reach the rules only through the sets. */
function renderFixedChains(): string[] {
  return [
    ...chain("filter-prerouting", [
      "type filter hook prerouting priority dstnat - 10; policy accept;",
      "ip daddr @forwarded-vips jump vip-guard",
    ]),
    ...chain("filter-output", [
      `type filter hook output priority ${PRE_DNAT}; policy accept;`,
      "ip daddr @forwarded-vips jump vip-guard",
    ]),
    ...chain("filter-forward", [
      "type filter hook forward priority filter; policy accept;",
      "ip daddr @forwarded-vips drop",
    ]),
    ...chain("vip-guard", [
      // Packets of admitted flows, and ICMP errors about them, go on to conntrack's reverse NAT.
      "ct state established,related return",
      "ip daddr . meta l4proto . th dport vmap @vip-ports",
      "drop",
    ]),
    ...chain("nat-prerouting", [
      "type nat hook prerouting priority dstnat; policy accept;",
      "ip daddr . meta l4proto . th dport vmap @services",
    ]),
    ...chain("nat-output", [
      `type nat hook output priority ${DSTNAT}; policy accept;`,
      "ip daddr . meta l4proto . th dport vmap @services",
    ]),
    ...chain("nat-postrouting", [
      "type nat hook postrouting priority srcnat; policy accept;",
      // `meta l4proto` first gives `ct original proto-dst` its type. Loopback is skipped: masquerading to a
      // backend on this node would have to pick 127.0.0.1 and the kernel drops the packet instead.
      "ct status dnat meta l4proto { tcp, udp } ct original ip daddr . meta l4proto . ct original proto-dst " +
        '@masquerade-services oifname != "lo" masquerade',
      // Only connections to our VIPs: any other DNAT to a source's own address is not ours (kube-proxy masquerades its own).
      'ct status dnat ct original ip daddr @forwarded-vips ip saddr . ip daddr @hairpin oifname != "lo" masquerade',
    ]),
  ];
}

/** The script that removes our table, succeeding also when it does not exist (nft 1.0.6 has no `destroy`). */
export function renderDeleteTable(table: string = DEFAULT_TABLE): string {
  const name = assertTableName(table);
  return `add table ip ${name}\ndelete table ip ${name}\n`;
}

function checkRules(rules: readonly ForwardingRule[]): CheckedRule[] {
  const checked = rules.map((rule, i) => checkRule(rule, `rules[${i}]`));
  checked.sort(
    (a, b) =>
      ipv4ToInt(a.rule.vip) - ipv4ToInt(b.rule.vip) || a.proto.localeCompare(b.proto) || a.rule.port - b.rule.port,
  );
  const seenKeys = new Map<string, string>();
  const seenChains = new Set<string>();
  for (const r of checked) {
    const other = seenKeys.get(r.key);
    if (other !== undefined) {
      throw new NftRenderError("rules", `${r.key} is forwarded twice (also by ${other})`, r.rule.service);
    }
    seenKeys.set(r.key, r.rule.service);
    for (const name of [r.svcChain, r.fwChain]) {
      if (name === undefined) continue;
      if (seenChains.has(name)) throw new NftRenderError("rules", `chain name collision: ${name}`, r.rule.service);
      seenChains.add(name);
    }
  }
  return checked;
}

function checkRule(rule: ForwardingRule, field: string): CheckedRule {
  const service = typeof rule.service === "string" ? rule.service : String(rule.service);
  assertIPv4(rule.vip, `${field}.vip`, service);
  assertPort(rule.port, `${field}.port`, service);
  if (rule.protocol !== "TCP" && rule.protocol !== "UDP") {
    throw new NftRenderError(`${field}.protocol`, `unsupported protocol ${JSON.stringify(rule.protocol)}`, service);
  }
  rule.destinations.forEach((d, i) => {
    assertIPv4(d.ip, `${field}.destinations[${i}].ip`, service);
    assertPort(d.port, `${field}.destinations[${i}].port`, service);
  });
  rule.sourceRanges.forEach((cidr, i) => assertCIDR(cidr, `${field}.sourceRanges[${i}]`, service));
  const proto = rule.protocol === "TCP" ? "tcp" : "udp";
  const id = `${rule.vip}/${proto}/${rule.port}`;
  const readable = `${service}-${proto}-${rule.port}`;
  return {
    rule,
    proto,
    key: `${rule.vip} . ${proto} . ${rule.port}`,
    svcChain: chainName("svc", id, readable),
    fwChain: rule.sourceRanges.length > 0 ? chainName("fw", id, readable) : undefined,
  };
}

/**
 * `ip . ip` for every destination address of every rule, sorted numerically. Masquerade rules are already covered
 * by `masquerade-services`; pairing their destinations too keeps the set a plain function of the destinations.
 */
function hairpinPairs(rules: readonly CheckedRule[]): string[] {
  const ips = new Set(rules.flatMap((r) => r.rule.destinations.map((d) => d.ip)));
  return [...ips].sort((a, b) => ipv4ToInt(a) - ipv4ToInt(b)).map((ip) => `${ip} . ${ip}`);
}

function renderRuleChains(r: CheckedRule): string[] {
  const { rule } = r;
  const what = `${rule.service} ${rule.protocol}/${rule.port} on ${rule.vip}`;
  const lines: string[] = [];
  if (r.fwChain !== undefined) {
    // kube-proxy's firewall chains: allow the ranges, drop the rest. nft merges overlapping prefixes itself.
    lines.push(
      ...chain(r.fwChain, [
        comment(`source ranges of ${what}`),
        `ip saddr { ${rule.sourceRanges.join(", ")} } accept`,
        "drop",
      ]),
    );
  }
  lines.push(...chain(r.svcChain, [comment(what), dnatStatement(r)]));
  return lines;
}

function dnatStatement({ rule, proto }: CheckedRule): string {
  const dests = rule.destinations;
  const only = dests[0];
  // No healthy destination: drop rather than let the packet be routed on towards the (non-local) VIP.
  if (only === undefined) return "drop";
  // The protocol match is what lets nft accept a port in the DNAT target.
  if (dests.length === 1) return `meta l4proto ${proto} dnat to ${only.ip}:${only.port}`;
  // numgen random spreads connections; clientIPAffinity needs a function of the client address instead
  // (lab-notes: round-robin splits one client's connections across backends).
  const selector = rule.clientIPAffinity
    ? `jhash ip saddr mod ${dests.length} seed 0x${AFFINITY_HASH_SEED.toString(16)}`
    : `numgen random mod ${dests.length}`;
  const elements = dests.map((d, i) => `${i} : ${d.ip} . ${d.port}`).join(", ");
  return `meta l4proto ${proto} dnat to ${selector} map { ${elements} }`;
}

function set(name: string, type: string, elements: readonly string[]): string[] {
  const kind = type.includes(":") ? "map" : "set";
  const lines = [`  ${kind} ${name} {`, `    type ${type}`];
  // nft rejects `elements = { }`; an empty set is declared without elements.
  if (elements.length > 0) lines.push(`    elements = {`, `      ${elements.join(",\n      ")}`, `    }`);
  lines.push("  }");
  return lines;
}

function chain(name: string, body: readonly string[]): string[] {
  return [`  chain ${name} {`, ...body.map((line) => `    ${line}`), "  }"];
}
