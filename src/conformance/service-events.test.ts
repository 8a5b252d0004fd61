import type { CoreV1Event } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { describeEvents, emissions, implementationWarnings } from "./service-events.js";

const event = (over: Partial<CoreV1Event>): CoreV1Event => ({ metadata: {}, involvedObject: {}, ...over });

describe("service events", () => {
  it("keeps Warning events from implementations, not Normal ones nor the apiserver's repair loops", () => {
    const events = [
      event({ type: "Warning", reason: "AllocationFailed", source: { component: "metallb-controller" } }),
      event({
        type: "Warning",
        reason: "ClusterIPNotAllocated",
        source: { component: "ipallocator-repair-controller" },
      }),
      event({ type: "Warning", reason: "X", reportingComponent: "portallocator-repair-controller" }),
      event({ type: "Normal", reason: "IPAllocated", source: { component: "metallb-controller" } }),
    ];
    expect(implementationWarnings(events).map((e) => e.reason)).toEqual(["AllocationFailed"]);
  });

  it("counts emissions through count (core/v1) and series.count (events.k8s.io/v1), each event at least once", () => {
    const events = [event({ count: 3 }), event({ series: { count: 4 } }), event({ count: 0 }), event({})];
    expect(emissions(events)).toBe(3 + 4 + 1 + 1);
    expect(describeEvents([event({ reason: "R", count: 3, source: { component: "c" }, message: "m" })])).toMatch(
      /^R x3 by c at .*: m$/,
    );
  });
});
