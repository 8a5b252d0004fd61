import type { V1Node } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { newNode, nodeDeleting, nodeLabel, nodeTaint } from "../../test/fixtures/services.js";
import type { NodeTweak } from "../../test/fixtures/services.js";
import { EXCLUDE_FROM_LOAD_BALANCERS_LABEL as EXCLUDE, TO_BE_DELETED_TAINT, ZONE_LABEL } from "./annotations.js";
import { deepFreeze } from "./freeze.js";
import { isNodeEligible, nodeChangeMatters } from "./node-eligibility.js";

function node(...tweaks: NodeTweak[]): V1Node {
  return deepFreeze(newNode("n1", "198.51.100.1", ...tweaks));
}

describe("isNodeEligible", () => {
  it.each<{ name: string; tweaks: NodeTweak[]; want: boolean }>([
    { name: "plain node", tweaks: [], want: true },
    { name: "exclude label true", tweaks: [nodeLabel(EXCLUDE, "true")], want: false },
    { name: "exclude label empty (kubeadm style: presence excludes)", tweaks: [nodeLabel(EXCLUDE, "")], want: false },
    { name: "exclude label false", tweaks: [nodeLabel(EXCLUDE, "false")], want: true },
    { name: "exclude label 0", tweaks: [nodeLabel(EXCLUDE, "0")], want: true },
    { name: "exclude label garbage (fail closed)", tweaks: [nodeLabel(EXCLUDE, "garbage")], want: false },
    { name: "autoscaler taint", tweaks: [nodeTaint(TO_BE_DELETED_TAINT, "NoSchedule")], want: false },
    {
      name: "autoscaler taint, other effect",
      tweaks: [nodeTaint(TO_BE_DELETED_TAINT, "PreferNoSchedule")],
      want: false,
    },
    { name: "another taint", tweaks: [nodeTaint("node.kubernetes.io/unschedulable")], want: true },
    { name: "deletionTimestamp", tweaks: [nodeDeleting()], want: false },
    {
      name: "NotReady is ignored (KEP-3458)",
      tweaks: [(n) => void (n.status!.conditions = [{ type: "Ready", status: "False" }])],
      want: true,
    },
  ])("$name -> $want", ({ tweaks, want }) => {
    expect(isNodeEligible(node(...tweaks))).toBe(want);
  });
});

describe("nodeChangeMatters", () => {
  const base = node();
  it.each<{ name: string; tweaks: NodeTweak[]; want: boolean }>([
    { name: "nothing", tweaks: [], want: false },
    {
      name: "heartbeat/conditions",
      tweaks: [(n) => void (n.status!.conditions = [{ type: "Ready", status: "False" }])],
      want: false,
    },
    { name: "unrelated label", tweaks: [nodeLabel("team", "a")], want: false },
    { name: "unrelated taint", tweaks: [nodeTaint("example.com/x")], want: false },
    { name: "exclude label added", tweaks: [nodeLabel(EXCLUDE, "true")], want: true },
    { name: "exclude label false (no flip)", tweaks: [nodeLabel(EXCLUDE, "false")], want: false },
    { name: "autoscaler taint", tweaks: [nodeTaint(TO_BE_DELETED_TAINT)], want: true },
    { name: "deleting", tweaks: [nodeDeleting()], want: true },
    { name: "providerID", tweaks: [(n) => void (n.spec!.providerID = "test://other")], want: true },
    { name: "zone label", tweaks: [nodeLabel(ZONE_LABEL, "zone-b")], want: true },
    { name: "address changed", tweaks: [(n) => void (n.status!.addresses![0]!.address = "198.51.100.9")], want: true },
    {
      name: "address added",
      tweaks: [(n) => void n.status!.addresses!.push({ type: "ExternalIP", address: "203.0.113.1" })],
      want: true,
    },
  ])("$name -> $want", ({ tweaks, want }) => {
    expect(nodeChangeMatters(base, node(...tweaks))).toBe(want);
  });
});
