import { describe, expect, it } from "vitest";
import { newSpec } from "../../testing/new-spec.js";
import { onlyBackendsChanged } from "./backends-only.js";

const A = { name: "a", providerID: "aws:///us-east-1a/i-a", zone: "us-east-1a" };
const B = { name: "b", providerID: "aws:///us-east-1b/i-b", zone: "us-east-1b" };

describe("onlyBackendsChanged", () => {
  it("is true when only the node set differs (a node added or removed)", () => {
    const one = newSpec({ nodes: [A] });
    const two = newSpec({ nodes: [A, B] });
    expect(onlyBackendsChanged(one, two)).toBe(true);
    expect(onlyBackendsChanged(two, one)).toBe(true);
  });

  it("is true when only a node's labels differ (target-node-labels may select it now)", () => {
    expect(onlyBackendsChanged(newSpec({ nodes: [A] }), newSpec({ nodes: [{ ...A, labels: { x: "y" } }] }))).toBe(true);
  });

  it("is false with no memory of the last ensure (after a restart): full ensure", () => {
    expect(onlyBackendsChanged(undefined, newSpec({ nodes: [A] }))).toBe(false);
  });

  it("is false for an identical spec, so a drift resync or a retry runs the full ensure", () => {
    expect(onlyBackendsChanged(newSpec({ nodes: [A, B] }), newSpec({ nodes: [A, B] }))).toBe(false);
  });

  it("is false when anything besides the nodes changed too", () => {
    const last = newSpec({ nodes: [A] });
    const changes = [
      newSpec({ nodes: [A, B], ports: [{ port: 81 }] }),
      newSpec({ nodes: [A, B], annotations: { "service.beta.kubernetes.io/aws-load-balancer-internal": "true" } }),
      { ...newSpec({ nodes: [A, B] }), sourceRanges: ["10.0.0.0/8"] },
      { ...newSpec({ nodes: [A, B] }), externalTrafficPolicy: "Local" as const },
      newSpec({ nodes: [A, B], uid: "another-uid" }),
    ];
    for (const next of changes) expect(onlyBackendsChanged(last, next)).toBe(false);
  });

  it("is false in pod mode (ip targets take the full ensure)", () => {
    const one = newSpec({ endpoints: [{ ip: "10.0.0.1" }] });
    const two = newSpec({ endpoints: [{ ip: "10.0.0.1" }, { ip: "10.0.0.2" }] });
    expect(onlyBackendsChanged(one, two)).toBe(false);
  });
});
