import { describe, expect, it } from "vitest";
import * as model from "./index.js";

describe("src/model public API", () => {
  it("exports the model functions", () => {
    for (const fn of [
      "deriveSpec",
      "loadBalancerId",
      "parseSourceRanges",
      "parseRequestedIPs",
      "isNodeEligible",
      "nodeChangeMatters",
      "isOurs",
      "wantsLoadBalancer",
      "hasFinalizer",
      "needsCleanup",
      "needsUpdate",
      "usesEndpoints",
      "isPodMode",
    ] as const) {
      expect(typeof model[fn]).toBe("function");
    }
    expect(model.LOAD_BALANCER_CLEANUP_FINALIZER).toBe("service.kubernetes.io/load-balancer-cleanup");
  });
});
