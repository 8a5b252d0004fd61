import { describe, expect, it } from "vitest";
import { newNode, nodeDeleting, nodeLabel, nodeTaint } from "../../test/fixtures/services.js";
import { EXCLUDE_FROM_LOAD_BALANCERS_LABEL, TO_BE_DELETED_TAINT, ZONE_LABEL } from "./annotations.js";
import { deepFreeze } from "./freeze.js";
import { deriveNodeBackends } from "./node-backends.js";

describe("deriveNodeBackends", () => {
  const nodes = deepFreeze([
    newNode("n3", "198.51.100.3", nodeLabel(ZONE_LABEL, "zone-b")),
    newNode("n1", "198.51.100.1"),
    newNode("excluded", "198.51.100.4", nodeLabel(EXCLUDE_FROM_LOAD_BALANCERS_LABEL, "true")),
    newNode("kept", "198.51.100.5", nodeLabel(EXCLUDE_FROM_LOAD_BALANCERS_LABEL, "false")),
    newNode("draining", "198.51.100.6", nodeTaint(TO_BE_DELETED_TAINT)),
    newNode("deleting", "198.51.100.7", nodeDeleting()),
    newNode("n2", "198.51.100.2", (n) => {
      delete n.spec!.providerID;
      delete n.metadata!.labels![ZONE_LABEL];
    }),
  ]);

  it("keeps eligible nodes sorted by name with addresses, providerID and zone", () => {
    expect(deriveNodeBackends(nodes)).toEqual([
      {
        name: "kept",
        addresses: [
          { type: "InternalIP", address: "198.51.100.5" },
          { type: "Hostname", address: "kept" },
        ],
        providerID: "test://kept",
        zone: "zone-a",
        labels: { [ZONE_LABEL]: "zone-a", [EXCLUDE_FROM_LOAD_BALANCERS_LABEL]: "false" },
      },
      {
        name: "n1",
        addresses: [
          { type: "InternalIP", address: "198.51.100.1" },
          { type: "Hostname", address: "n1" },
        ],
        providerID: "test://n1",
        zone: "zone-a",
        labels: { [ZONE_LABEL]: "zone-a" },
      },
      {
        name: "n2",
        addresses: [
          { type: "InternalIP", address: "198.51.100.2" },
          { type: "Hostname", address: "n2" },
        ],
        providerID: undefined,
        zone: undefined,
        labels: {},
      },
      {
        name: "n3",
        addresses: [
          { type: "InternalIP", address: "198.51.100.3" },
          { type: "Hostname", address: "n3" },
        ],
        providerID: "test://n3",
        zone: "zone-b",
        labels: { [ZONE_LABEL]: "zone-b" },
      },
    ]);
  });

  it("does not depend on input order", () => {
    expect(deriveNodeBackends([...nodes].reverse())).toEqual(deriveNodeBackends(nodes));
  });

  it("copies addresses rather than sharing them", () => {
    const [first] = deriveNodeBackends(nodes);
    expect(first?.addresses[0]).not.toBe(nodes[3]?.status?.addresses?.[0]);
  });

  it("returns an empty list when no node is eligible", () => {
    expect(deriveNodeBackends([newNode("x", "198.51.100.9", nodeDeleting())])).toEqual([]);
  });
});
