import { createHash } from "node:crypto";
import type { V1Node } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { electAnnouncer, rankCandidates, toElectionNode } from "./announcer-election.js";

const node = (name: string, extra: Partial<V1Node> = {}): V1Node => ({
  metadata: { name, ...extra.metadata },
  spec: extra.spec,
  status: {
    addresses: [
      { type: "Hostname", address: name },
      { type: "InternalIP", address: "192.0.2.11" },
    ],
    ...extra.status,
  },
});

describe("rankCandidates", () => {
  it("orders by sha256(node#key) like MetalLB, whatever the input order", () => {
    const nodes = ["node-1", "node-2", "node-3", "node-4"];
    const expected = [...nodes].sort((a, b) =>
      Buffer.compare(
        createHash("sha256").update(`${a}#192.0.2.100`).digest(),
        createHash("sha256").update(`${b}#192.0.2.100`).digest(),
      ),
    );
    expect(rankCandidates("192.0.2.100", nodes)).toEqual(expected);
    expect(rankCandidates("192.0.2.100", [...nodes].reverse())).toEqual(expected);
  });

  it("spreads addresses over nodes and moves only the leaving node's addresses", () => {
    const nodes = ["node-1", "node-2", "node-3"];
    const vips = Array.from({ length: 30 }, (_, i) => `192.0.2.${100 + i}`);
    const before = new Map(vips.map((v) => [v, electAnnouncer(v, nodes)]));
    expect(new Set(before.values()).size).toBe(3);
    const after = new Map(vips.map((v) => [v, electAnnouncer(v, ["node-1", "node-3"])]));
    for (const v of vips) if (before.get(v) !== "node-2") expect(after.get(v)).toBe(before.get(v));
  });

  it("elects nobody from no candidates", () => {
    expect(electAnnouncer("192.0.2.100", [])).toBeUndefined();
  });
});

describe("toElectionNode", () => {
  it("takes the InternalIP and the upstream eligibility predicates", () => {
    expect(toElectionNode(node("a"))).toEqual({ name: "a", ip: "192.0.2.11", eligible: true, labels: {} });
    expect(
      toElectionNode(
        node("a", {
          metadata: { name: "a", labels: { "node.kubernetes.io/exclude-from-external-load-balancers": "" } },
        }),
      )?.eligible,
    ).toBe(false);
    expect(toElectionNode(node("a", { metadata: { name: "a", deletionTimestamp: new Date() } }))?.eligible).toBe(false);
    expect(
      toElectionNode(node("a", { spec: { taints: [{ key: "ToBeDeletedByClusterAutoscaler", effect: "NoSchedule" }] } }))
        ?.eligible,
    ).toBe(false);
  });

  it("excludes NetworkUnavailable nodes, as MetalLB does", () => {
    const n = node("a", {
      status: {
        addresses: [{ type: "InternalIP", address: "192.0.2.11" }],
        conditions: [{ type: "NetworkUnavailable", status: "True" }],
      },
    });
    expect(toElectionNode(n)?.eligible).toBe(false);
  });

  it("has no ip without an IPv4 InternalIP", () => {
    expect(
      toElectionNode(node("a", { status: { addresses: [{ type: "InternalIP", address: "2001:db8::1" }] } }))?.ip,
    ).toBeUndefined();
  });
});
