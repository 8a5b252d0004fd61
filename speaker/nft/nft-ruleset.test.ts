import { describe, expect, it } from "vitest";
import type { DataPlan, ForwardingRule } from "../data-plan.js";
import { NftRenderError } from "./nft-errors.js";
import { AFFINITY_HASH_SEED, renderDeleteTable, renderRuleset } from "./nft-ruleset.js";

function rule(overrides: Partial<ForwardingRule> = {}): ForwardingRule {
  return {
    vip: "192.0.2.200",
    protocol: "TCP",
    port: 80,
    destinations: [
      { ip: "192.0.2.11", port: 30080 },
      { ip: "192.0.2.12", port: 30080 },
    ],
    clientIPAffinity: false,
    masquerade: true,
    sourceRanges: [],
    service: "default/web",
    ...overrides,
  };
}

function plan(...rules: ForwardingRule[]): DataPlan {
  return { announced: [...new Set(rules.map((r) => r.vip))].sort(), rules };
}

/** The body lines of chain or set `name` (between its `{` and its closing `}`), trimmed. */
function block(script: string, kind: "chain" | "set" | "map", name: string): string[] {
  const lines = script.split("\n");
  const start = lines.findIndex((l) => l.trim() === `${kind} ${name} {`);
  if (start < 0) throw new Error(`${kind} ${name} not found in\n${script}`);
  const end = lines.findIndex((l, i) => i > start && l === "  }");
  return lines.slice(start + 1, end).map((l) => l.trim());
}

/** Element lines of a set or map, without separators. */
function elements(script: string, kind: "set" | "map", name: string): string[] {
  const body = block(script, kind, name);
  const open = body.indexOf("elements = {");
  if (open < 0) return [];
  return body.slice(open + 1, body.indexOf("}", open)).map((l) => l.replace(/,$/, ""));
}

/** Name of the chain the `services` map sends `key` to. */
function serviceChain(script: string, key: string): string {
  const element = elements(script, "map", "services").find((e) => e.startsWith(`${key} : goto `));
  if (element === undefined) throw new Error(`no services element for ${key}`);
  return element.slice(`${key} : goto `.length);
}

describe("renderRuleset", () => {
  it("replaces exactly our table in one transaction", () => {
    const script = renderRuleset(plan(rule()));
    const lines = script.split("\n");
    expect(lines.slice(0, 3)).toEqual([
      "add table ip lb-operator",
      "delete table ip lb-operator",
      "table ip lb-operator {",
    ]);
    expect(script.match(/^(add|delete|flush|table) /gm)).toEqual(["add ", "delete ", "table "]);
    expect(script.endsWith("}\n")).toBe(true);
    expect(renderRuleset(plan(rule()), { table: "lab-7" }).split("\n").slice(0, 3)).toEqual([
      "add table ip lab-7",
      "delete table ip lab-7",
      "table ip lab-7 {",
    ]);
  });

  it("hooks filter before dstnat, nat at dstnat/srcnat, on prerouting, output and forward", () => {
    const script = renderRuleset(plan(rule()));
    expect(block(script, "chain", "filter-prerouting")[0]).toBe(
      "type filter hook prerouting priority dstnat - 10; policy accept;",
    );
    expect(block(script, "chain", "filter-output")[0]).toBe("type filter hook output priority -110; policy accept;");
    expect(block(script, "chain", "filter-forward")).toContain("ip daddr @forwarded-vips drop");
    expect(block(script, "chain", "nat-prerouting")).toEqual([
      "type nat hook prerouting priority dstnat; policy accept;",
      "ip daddr . meta l4proto . th dport vmap @services",
    ]);
    expect(block(script, "chain", "nat-output")).toEqual([
      "type nat hook output priority -100; policy accept;",
      "ip daddr . meta l4proto . th dport vmap @services",
    ]);
    expect(block(script, "chain", "nat-postrouting")[0]).toBe(
      "type nat hook postrouting priority srcnat; policy accept;",
    );
  });

  it("maps each VIP, protocol and port to its own chain, with the Service in a comment", () => {
    const script = renderRuleset(plan(rule(), rule({ protocol: "UDP", port: 53, service: "kube-system/dns" })));
    const tcp = serviceChain(script, "192.0.2.200 . tcp . 80");
    const udp = serviceChain(script, "192.0.2.200 . udp . 53");
    expect(tcp).not.toBe(udp);
    expect(block(script, "chain", tcp)[0]).toBe('comment "default/web TCP/80 on 192.0.2.200"');
    expect(block(script, "chain", udp)[0]).toBe('comment "kube-system/dns UDP/53 on 192.0.2.200"');
    expect(elements(script, "set", "forwarded-vips")).toEqual(["192.0.2.200"]);
  });

  it("spreads connections with numgen random, or by client address with a fixed-seed jhash", () => {
    const script = renderRuleset(plan(rule(), rule({ port: 81, clientIPAffinity: true })));
    expect(block(script, "chain", serviceChain(script, "192.0.2.200 . tcp . 80"))[1]).toBe(
      "meta l4proto tcp dnat to numgen random mod 2 map { 0 : 192.0.2.11 . 30080, 1 : 192.0.2.12 . 30080 }",
    );
    expect(block(script, "chain", serviceChain(script, "192.0.2.200 . tcp . 81"))[1]).toBe(
      `meta l4proto tcp dnat to jhash ip saddr mod 2 seed 0x${AFFINITY_HASH_SEED.toString(16)} map { 0 : 192.0.2.11 . 30080, 1 : 192.0.2.12 . 30080 }`,
    );
  });

  it("DNATs straight to a single destination and drops when there is none", () => {
    const script = renderRuleset(
      plan(
        rule({ protocol: "UDP", destinations: [{ ip: "10.0.0.5", port: 53 }] }),
        rule({ port: 81, destinations: [] }),
      ),
    );
    expect(block(script, "chain", serviceChain(script, "192.0.2.200 . udp . 80"))[1]).toBe(
      "meta l4proto udp dnat to 10.0.0.5:53",
    );
    expect(block(script, "chain", serviceChain(script, "192.0.2.200 . tcp . 81")).slice(1)).toEqual(["drop"]);
  });

  it("masquerades only connections DNATed by rules with masquerade", () => {
    const script = renderRuleset(plan(rule(), rule({ port: 81, masquerade: false })));
    expect(elements(script, "set", "masquerade-services")).toEqual(["192.0.2.200 . tcp . 80"]);
    expect(block(script, "chain", "nat-postrouting")[1]).toMatch(
      /^ct status dnat .*ct original ip daddr \. meta l4proto \. ct original proto-dst @masquerade-services .*masquerade$/,
    );
  });

  it("masquerades hairpin connections to our VIPs: each destination address paired with itself", () => {
    const local = rule({
      port: 81,
      masquerade: false,
      destinations: [
        { ip: "198.51.100.33", port: 8080 },
        { ip: "198.51.100.9", port: 8080 },
      ],
    });
    const script = renderRuleset(
      plan(
        rule(),
        local,
        rule({ protocol: "UDP", masquerade: false, destinations: [{ ip: "198.51.100.9", port: 53 }] }),
      ),
    );
    // Deduplicated and in numeric address order, so the script is stable.
    expect(elements(script, "set", "hairpin")).toEqual([
      "192.0.2.11 . 192.0.2.11",
      "192.0.2.12 . 192.0.2.12",
      "198.51.100.9 . 198.51.100.9",
      "198.51.100.33 . 198.51.100.33",
    ]);
    expect(block(script, "set", "hairpin")[0]).toBe("type ipv4_addr . ipv4_addr");
    expect(block(script, "chain", "nat-postrouting")[2]).toBe(
      'ct status dnat ct original ip daddr @forwarded-vips ip saddr . ip daddr @hairpin oifname != "lo" masquerade',
    );
    // No packet marks: kube-proxy owns 0x4000 on the same node.
    expect(script).not.toMatch(/\bmark\b/);
    const empty = renderRuleset({ announced: ["192.0.2.200"], rules: [] });
    expect(block(empty, "set", "hairpin")).toEqual(["type ipv4_addr . ipv4_addr"]);
  });

  it("admits only Service ports on forwarded VIPs, through a source-range chain where there are ranges", () => {
    const script = renderRuleset(
      plan(rule(), rule({ port: 443, sourceRanges: ["198.51.100.0/24", "203.0.113.7/32"] })),
    );
    const vipPorts = elements(script, "map", "vip-ports");
    expect(vipPorts[0]).toBe("192.0.2.200 . tcp . 80 : accept");
    const fw = /^192\.0\.2\.200 \. tcp \. 443 : goto (fw-\S+)$/.exec(vipPorts[1] ?? "")?.[1];
    expect(fw).toBeDefined();
    expect(block(script, "chain", fw!).slice(1)).toEqual([
      "ip saddr { 198.51.100.0/24, 203.0.113.7/32 } accept",
      "drop",
    ]);
    expect(block(script, "chain", "vip-guard")).toEqual([
      "ct state established,related return",
      "ip daddr . meta l4proto . th dport vmap @vip-ports",
      "drop",
    ]);
  });

  it("guards no address in announce-only mode, so kube-proxy can still forward announced VIPs", () => {
    const script = renderRuleset({ announced: ["192.0.2.200"], rules: [] });
    expect(block(script, "set", "forwarded-vips")).toEqual(["type ipv4_addr"]);
    expect(block(script, "map", "services")).toEqual(["type ipv4_addr . inet_proto . inet_service : verdict"]);
  });

  it("is deterministic: the same rules in another order render the same script", () => {
    const rules = [
      rule(),
      rule({ vip: "192.0.2.9", port: 81 }),
      rule({ protocol: "UDP" }),
      rule({ vip: "192.0.2.100" }),
    ];
    const a = renderRuleset(plan(...rules));
    expect(renderRuleset(plan(...[...rules].reverse()))).toBe(a);
    // Numeric, not textual, address order.
    expect(elements(a, "set", "forwarded-vips")).toEqual(["192.0.2.9", "192.0.2.100", "192.0.2.200"]);
  });

  it("derives safe identifiers and comments from hostile Service names", () => {
    const hostile = 'ns/x"; flush ruleset; #\n{}';
    const script = renderRuleset(plan(rule({ service: hostile, sourceRanges: ["192.0.2.0/24"] })));
    const names = [...script.matchAll(/^ {2}chain (\S+) \{$/gm)].map((m) => m[1]);
    for (const name of names) expect(name).toMatch(/^[A-Za-z][A-Za-z0-9_.-]*$/);
    expect(script).not.toContain("flush ruleset;");
    const comments = [...script.matchAll(/comment "([^"\n]*)"$/gm)].map((m) => m[1]);
    expect(comments.length).toBe(3);
    for (const text of script.split("\n").filter((l) => l.includes("comment"))) {
      expect(text.split('"').length).toBe(3);
    }
  });

  it("gives rules of different Services on one VIP distinct chains, stable across renders", () => {
    const a = renderRuleset(plan(rule({ service: "a/web" }), rule({ port: 81, service: "a/web" })));
    const b = renderRuleset(plan(rule({ service: "a/web" }), rule({ port: 81, service: "a/web" })));
    expect(serviceChain(a, "192.0.2.200 . tcp . 80")).not.toBe(serviceChain(a, "192.0.2.200 . tcp . 81"));
    expect(serviceChain(a, "192.0.2.200 . tcp . 80")).toBe(serviceChain(b, "192.0.2.200 . tcp . 80"));
  });
});

describe("renderRuleset validation", () => {
  const cases: [string, Partial<ForwardingRule>, string][] = [
    ["VIP out of range", { vip: "192.0.2.256" }, "rules[0].vip"],
    ["VIP with a leading zero", { vip: "192.0.2.01" }, "rules[0].vip"],
    ["VIP with three parts", { vip: "192.0.2" }, "rules[0].vip"],
    ["IPv6 VIP", { vip: "2001:db8::1" }, "rules[0].vip"],
    ["port 0", { port: 0 }, "rules[0].port"],
    ["port 65536", { port: 65536 }, "rules[0].port"],
    ["fractional port", { port: 80.5 }, "rules[0].port"],
    ["destination address", { destinations: [{ ip: "backend", port: 80 }] }, "rules[0].destinations[0].ip"],
    ["destination port", { destinations: [{ ip: "192.0.2.11", port: -1 }] }, "rules[0].destinations[0].port"],
    ["CIDR without prefix", { sourceRanges: ["192.0.2.0"] }, "rules[0].sourceRanges[0]"],
    ["CIDR with /33", { sourceRanges: ["192.0.2.0/33"] }, "rules[0].sourceRanges[0]"],
    ["CIDR with host bits", { sourceRanges: ["192.0.2.5/24"] }, "rules[0].sourceRanges[0]"],
    ["CIDR with a leading-zero prefix", { sourceRanges: ["192.0.2.0/024"] }, "rules[0].sourceRanges[0]"],
    ["injected CIDR", { sourceRanges: ["0.0.0.0/0 } accept; #"] }, "rules[0].sourceRanges[0]"],
    ["SCTP", { protocol: "SCTP" as ForwardingRule["protocol"] }, "rules[0].protocol"],
  ];
  it.each(cases)("rejects %s with a typed error naming the field and Service", (_name, overrides, field) => {
    let caught: unknown;
    try {
      renderRuleset(plan(rule(overrides)));
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(NftRenderError);
    expect((caught as NftRenderError).field).toBe(field);
    expect((caught as NftRenderError).service).toBe("default/web");
  });

  it("accepts the edges of the valid ranges", () => {
    expect(() =>
      renderRuleset(
        plan(
          rule({
            port: 65535,
            destinations: [{ ip: "0.0.0.1", port: 1 }],
            sourceRanges: ["0.0.0.0/0", "255.255.255.255/32"],
          }),
        ),
      ),
    ).not.toThrow();
  });

  it("rejects the same VIP, protocol and port forwarded twice", () => {
    expect(() => renderRuleset(plan(rule({ service: "a/one" }), rule({ service: "b/two" })))).toThrow(NftRenderError);
  });

  it("rejects unsafe table names", () => {
    for (const table of ["", "a b", "x;flush ruleset", "1abc", "t\n", "a".repeat(65)]) {
      expect(() => renderRuleset(plan(rule()), { table })).toThrow(NftRenderError);
      expect(() => renderDeleteTable(table)).toThrow(NftRenderError);
    }
  });
});

describe("renderDeleteTable", () => {
  it("creates then deletes, so deleting a missing table succeeds", () => {
    expect(renderDeleteTable()).toBe("add table ip lb-operator\ndelete table ip lb-operator\n");
    expect(renderDeleteTable("lab-1")).toBe("add table ip lab-1\ndelete table ip lab-1\n");
  });
});
