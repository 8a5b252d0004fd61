import { describe, expect, it } from "vitest";
import * as keys from "./annotations.js";

// These strings are read by other tools (kubectl, the in-tree controller's runbooks, cluster autoscaler):
// a typo would silently break compatibility, so they are pinned here.
describe("well-known keys", () => {
  it.each([
    ["SOURCE_RANGES_ANNOTATION", "service.beta.kubernetes.io/load-balancer-source-ranges"],
    ["REQUESTED_IPS_ANNOTATION", "lb-operator.io/load-balancer-ips"],
    ["LOAD_BALANCER_CLEANUP_FINALIZER", "service.kubernetes.io/load-balancer-cleanup"],
    ["EXCLUDE_FROM_LOAD_BALANCERS_LABEL", "node.kubernetes.io/exclude-from-external-load-balancers"],
    ["TO_BE_DELETED_TAINT", "ToBeDeletedByClusterAutoscaler"],
    ["ZONE_LABEL", "topology.kubernetes.io/zone"],
    ["SERVICE_NAME_LABEL", "kubernetes.io/service-name"],
  ] as const)("%s = %s", (name, value) => {
    expect(keys[name]).toBe(value);
  });
});
