/**
 * The whole GCE provider (gceProviderFor: config, desired state, deployer, operation waits) against the fake Compute
 * REST API (test/env/fake-compute) through the real @google-cloud/compute clients. Operations take two polls to
 * finish, as Compute's may. Covers create (every resource asserted), a second ensure with zero mutating calls (its
 * reads printed), updates (ports past five and back, source ranges, traffic policy both ways, nodes joining and
 * leaving across zones, global access, subnet, protocol), delete leaving nothing, faults (an operation ending in
 * error, a 503, a 429, a controller stopped mid-create) converging on the next ensure with nothing leaked, and bad
 * input refused with InvalidSpecError before any write.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { InvalidSpecError, RetryAfterError } from "../../src/errors.js";
import type { LoadBalancerSpec } from "../../src/provider.js";
import { GceApiError } from "../../providers/gce/gce-call.js";
import { GceOperationError } from "../../providers/gce/gce-operations.js";
import type { GceProvider } from "../../providers/gce/gce-provider.js";
import { ownershipDescription } from "../../providers/gce/gce-types.js";
import { lbName } from "../../providers/gce/names.js";
import { ForeignResourceError } from "../../providers/gce/ownership.js";
import type { NewSpecOptions } from "../../testing/new-spec.js";
import {
  GCE_TEST_TAGS,
  freshFakeComputePerTest,
  gceNodes,
  gceTestProvider,
  gceTestSpec,
  LOAD_BALANCER_COLLECTIONS,
} from "../env/fake-compute/gce-test-world.js";
import { gceClientsFor, type FakeCompute } from "../env/fake-compute/index.js";

const CLUSTER = `gce${process.pid}`;
const LINK = "https://www.googleapis.com/compute/v1/projects/test-project";
const TAGS = GCE_TEST_TAGS;
const ILB_SUBNET = { name: "ilb-subnet", region: "us-central1", ipCidrRange: "10.130.0.0/24" };
const signal = new AbortController().signal;

let fake: FakeCompute;
let provider: GceProvider;

const freshFake = freshFakeComputePerTest({
  networks: [
    {
      name: "default",
      subnetworks: [{ name: "default", region: "us-central1", ipCidrRange: "10.128.0.0/20" }, ILB_SUBNET],
    },
  ],
});
beforeEach(() => {
  fake = freshFake();
  provider = gceTestProvider(fake);
});

const spec = (options: NewSpecOptions = {}): LoadBalancerSpec => gceTestSpec(CLUSTER, options);
const id = spec().id;
const name = lbName(id);
const local = (options: NewSpecOptions = {}): LoadBalancerSpec => spec({ healthCheckNodePort: 32000, ...options });

/** Methods of the mutating calls the last ensure/delete made, in order. */
function mutating(): string[] {
  return fake.calls({ mutating: true }).map((c) => c.method);
}

async function ensure(s: LoadBalancerSpec): Promise<{ ip: string; mutating: string[] }> {
  fake.clearCalls();
  const status = await provider.ensure(s, signal);
  return { ip: status.ingress[0]?.ip ?? "", mutating: mutating() };
}

/** A second ensure with the same spec: no mutating call. Prints its reads. */
async function expectNoOp(s: LoadBalancerSpec, label: string): Promise<void> {
  const { mutating: writes } = await ensure(s);
  expect(writes, `${label}: mutating calls on an unchanged ensure`).toEqual([]);
  const reads = fake.calls().map((c) => c.method);
  console.log(`[gce-provider] no-op ensure, ${label}: ${reads.length} read calls ${JSON.stringify(reads)}`);
}

const one = <T>(items: T[], what: string): T => {
  expect(items, what).toHaveLength(1);
  return items[0]!;
};
const fr = () => one(fake.resources("forwardingRules"), "forwarding rules");
const bs = () => one(fake.resources("backendServices"), "backend services");
const firewall = (n: string) => fake.resources("firewalls").find((f) => f.name === n);
const healthCheck = (n: string) => fake.resources("healthChecks").find((h) => h.name === n);
const groupZones = () =>
  fake
    .resources("instanceGroups")
    .map((g) => g.zone?.split("/").pop())
    .sort();
const members = (zone: string) =>
  fake
    .members(zone, `k8s-ig--${CLUSTER}`)
    .map((m) => m.split("/").pop())
    .sort();
const backendZones = () => (bs().backends ?? []).map((b) => b.group?.split("/zones/")[1]?.split("/")[0]).sort();

/** Deletes the Service and checks nothing is left, and that a second delete writes nothing. */
async function expectDeleteClean(): Promise<void> {
  fake.clearCalls();
  await provider.delete(id, signal);
  for (const c of LOAD_BALANCER_COLLECTIONS) {
    expect(
      fake.resources(c).map((r) => r.name),
      `${c} left after delete`,
    ).toEqual([]);
  }
  fake.clearCalls();
  await provider.delete(id, signal);
  expect(mutating(), "second delete").toEqual([]);
}

describe("create, no-op, delete", () => {
  it("creates every resource as the anchor does, then deletes everything (the no-op ensure is in contract-gce.test.ts)", async () => {
    const { ip } = await ensure(spec());
    const rule = fr();
    expect(ip).toBe(rule.IPAddress);
    expect(ip).toMatch(/^10\.128\.0\.\d+$/);
    expect(rule).toMatchObject({
      name,
      description: ownershipDescription(id),
      IPProtocol: "TCP",
      loadBalancingScheme: "INTERNAL",
      ports: ["80", "443"],
      allowGlobalAccess: false,
      backendService: `${LINK}/regions/us-central1/backendServices/${name}`,
      network: `${LINK}/global/networks/default`,
      subnetwork: `${LINK}/regions/us-central1/subnetworks/default`,
    });
    expect(bs()).toMatchObject({
      name,
      protocol: "TCP",
      loadBalancingScheme: "INTERNAL",
      sessionAffinity: "NONE",
      healthChecks: [`${LINK}/global/healthChecks/k8s-${CLUSTER}-node`],
    });
    expect(backendZones()).toEqual(["us-central1-a", "us-central1-b"]);
    expect(healthCheck(`k8s-${CLUSTER}-node`)).toMatchObject({
      type: "HTTP",
      httpHealthCheck: { port: 10256, requestPath: "/healthz" },
      checkIntervalSec: 8,
      timeoutSec: 1,
      healthyThreshold: 1,
      unhealthyThreshold: 3,
    });
    expect(firewall(`k8s-fw-${name}`)).toMatchObject({
      description: ownershipDescription(id),
      sourceRanges: ["10.128.0.0/9"],
      destinationRanges: [ip],
      allowed: [{ IPProtocol: "tcp", ports: ["80", "443"] }],
      targetTags: TAGS,
    });
    expect(firewall(`k8s-${CLUSTER}-node-hc`)).toMatchObject({
      sourceRanges: ["130.211.0.0/22", "35.191.0.0/16"],
      allowed: [{ IPProtocol: "tcp", ports: ["10256"] }],
      targetTags: TAGS,
    });
    expect(groupZones()).toEqual(["us-central1-a", "us-central1-b"]);
    expect(members("us-central1-a")).toEqual(["node-a1", "node-a2"]);
    expect(members("us-central1-b")).toEqual(["node-b1"]);
    // Every mutation was awaited: the fake applies it only at DONE, and all operations are DONE without error.
    expect(fake.operations().every((o) => o.status === "DONE" && o.error == null)).toBe(true);

    await expectDeleteClean();
  });

  it("a restart (a new provider) finds everything in place: no mutating call (kubernetes/kubernetes#96513)", async () => {
    await ensure(spec({ ports: [1, 2, 3, 4, 5, 6].map((port) => ({ port })) }));
    provider = gceTestProvider(fake);
    await expectNoOp(spec({ ports: [1, 2, 3, 4, 5, 6].map((port) => ({ port })) }), "after restart, allPorts");
  });
});

describe("updates", () => {
  it("more than five ports -> allPorts, and back: the rule is recreated with the same IP", async () => {
    const { ip } = await ensure(spec());
    const six = spec({ ports: [80, 81, 82, 443, 8080, 8443].map((port) => ({ port })) });
    const up = await ensure(six);
    expect(up.ip).toBe(ip);
    expect(up.mutating).toEqual(["forwardingRules.delete", "forwardingRules.insert", "firewalls.patch"]);
    expect(fr()).toMatchObject({ allPorts: true, IPAddress: ip });
    expect(fr().ports ?? []).toEqual([]);
    expect(firewall(`k8s-fw-${name}`)?.allowed).toEqual([
      { IPProtocol: "tcp", ports: ["80-82", "443", "8080", "8443"] },
    ]);
    await expectNoOp(six, "six ports");
    const down = await ensure(spec());
    expect(down.ip).toBe(ip);
    expect(fr()).toMatchObject({ ports: ["80", "443"], IPAddress: ip });
    expect(fr().allPorts ?? false).toBe(false);
    await expectNoOp(spec(), "back to two ports");
  });

  it("source ranges: only the traffic firewall is patched; 0.0.0.0/0 only with the opt-in annotation", async () => {
    await ensure(spec());
    const ranged = spec({ sourceRanges: ["192.168.10.0/24"] });
    expect((await ensure(ranged)).mutating).toEqual(["firewalls.patch"]);
    expect(firewall(`k8s-fw-${name}`)?.sourceRanges).toEqual(["192.168.10.0/24"]);
    await expectNoOp(ranged, "source ranges");
    await ensure(spec());
    expect(firewall(`k8s-fw-${name}`)?.sourceRanges).toEqual(["10.128.0.0/9"]);
    await ensure(spec({ annotations: { "lb-operator.io/gce-allow-all-sources": "true" } }));
    expect(firewall(`k8s-fw-${name}`)?.sourceRanges).toEqual(["0.0.0.0/0"]);
  });

  it("traffic policy Cluster -> Local -> Cluster: per-Service health check and firewall, old ones removed", async () => {
    await ensure(spec());
    const toLocal = await ensure(local());
    expect(bs().healthChecks).toEqual([`${LINK}/global/healthChecks/${name}`]);
    expect(healthCheck(name)).toMatchObject({
      description: ownershipDescription(id),
      httpHealthCheck: { port: 32000, requestPath: "/healthz" },
    });
    expect(firewall(`${name}-hc`)?.allowed).toEqual([{ IPProtocol: "tcp", ports: ["32000"] }]);
    // The shared check was used by this Service only: removed with its firewall.
    expect(healthCheck(`k8s-${CLUSTER}-node`)).toBeUndefined();
    expect(firewall(`k8s-${CLUSTER}-node-hc`)).toBeUndefined();
    expect(toLocal.mutating).not.toContain("forwardingRules.delete");
    await expectNoOp(local(), "Local");
    await ensure(spec());
    expect(bs().healthChecks).toEqual([`${LINK}/global/healthChecks/k8s-${CLUSTER}-node`]);
    expect(healthCheck(name)).toBeUndefined();
    expect(firewall(`${name}-hc`)).toBeUndefined();
    await expectNoOp(spec(), "back to Cluster");
    await expectDeleteClean();
  });

  it("nodes join and leave across zones: only the difference is written, empty zones' groups removed", async () => {
    await ensure(spec({ nodes: gceNodes("node-a1", "node-b1") }));
    const join = await ensure(spec({ nodes: gceNodes("node-a1", "node-a2", "node-b1", "node-c1") }));
    expect(join.mutating.sort()).toEqual([
      "instanceGroups.addInstances",
      "instanceGroups.addInstances",
      "instanceGroups.insert",
      "regionBackendServices.update",
    ]);
    expect(groupZones()).toEqual(["us-central1-a", "us-central1-b", "us-central1-c"]);
    expect(members("us-central1-a")).toEqual(["node-a1", "node-a2"]);
    expect(members("us-central1-c")).toEqual(["node-c1"]);
    expect(backendZones()).toEqual(["us-central1-a", "us-central1-b", "us-central1-c"]);
    const leave = spec({ nodes: gceNodes("node-a2", "node-c1") });
    await ensure(leave);
    expect(backendZones()).toEqual(["us-central1-a", "us-central1-c"]);
    expect(groupZones()).toEqual(["us-central1-a", "us-central1-c"]);
    expect(members("us-central1-a")).toEqual(["node-a2"]);
    await expectNoOp(leave, "after churn");
    await expectDeleteClean();
  });

  it("global access and subnet annotations: the rule is recreated (same IP for global access, the new subnet's for subnet)", async () => {
    const { ip } = await ensure(spec());
    const global = spec({ annotations: { "networking.gke.io/internal-load-balancer-allow-global-access": "true" } });
    const g = await ensure(global);
    expect(g.ip).toBe(ip);
    expect(fr().allowGlobalAccess).toBe(true);
    await expectNoOp(global, "global access");
    const subnet = spec({ annotations: { "networking.gke.io/internal-load-balancer-subnet": "ilb-subnet" } });
    const s = await ensure(subnet);
    expect(s.ip).toMatch(/^10\.130\.0\.\d+$/);
    expect(fr()).toMatchObject({
      subnetwork: `${LINK}/regions/us-central1/subnetworks/ilb-subnet`,
      allowGlobalAccess: false,
    });
    expect(firewall(`k8s-fw-${name}`)?.destinationRanges).toEqual([s.ip]);
    await expectNoOp(subnet, "custom subnet");
  });

  it("a requested IP inside the subnet is used; TCP -> UDP deletes the rule before the backend-service update", async () => {
    const requested = spec({ loadBalancerIP: "10.128.0.77" });
    expect((await ensure(requested)).ip).toBe("10.128.0.77");
    const udp = spec({ loadBalancerIP: "10.128.0.77", ports: [{ port: 53, protocol: "UDP" }] });
    const change = await ensure(udp);
    expect(change.mutating).toEqual([
      "forwardingRules.delete",
      "regionBackendServices.update",
      "forwardingRules.insert",
      "firewalls.patch",
    ]);
    expect(fr()).toMatchObject({ IPProtocol: "UDP", IPAddress: "10.128.0.77", ports: ["53"] });
    expect(bs().protocol).toBe("UDP");
    expect(firewall(`k8s-fw-${name}`)?.allowed).toEqual([{ IPProtocol: "udp", ports: ["53"] }]);
    await expectNoOp(udp, "UDP");
  });
});

describe("shared resources", () => {
  it("two Services share the groups and health check; deleting one keeps them, deleting both removes them", async () => {
    const api = { name: "api", uid: "0f0e0d0c-0b0a-4099-8877-665544332211" };
    const other = spec(api).id;
    await ensure(spec());
    await ensure(spec(api));
    expect(fake.resources("forwardingRules")).toHaveLength(2);
    expect(fake.resources("healthChecks")).toHaveLength(1);
    await provider.delete(id, signal);
    expect(fake.resources("forwardingRules").map((r) => r.name)).toEqual([lbName(other)]);
    expect(healthCheck(`k8s-${CLUSTER}-node`)).toBeDefined();
    expect(firewall(`k8s-${CLUSTER}-node-hc`)).toBeDefined();
    expect(groupZones()).toEqual(["us-central1-a", "us-central1-b"]);
    await expectNoOp(spec(api), "other Service after the first was deleted");
    await provider.delete(other, signal);
    for (const c of ["forwardingRules", "backendServices", "healthChecks", "firewalls", "instanceGroups"] as const)
      expect(fake.resources(c)).toEqual([]);
  });

  it("a same-named resource that is not ours is never modified", async () => {
    const { firewalls } = gceClientsFor(fake);
    const [op] = await firewalls.insert({
      project: "test-project",
      firewallResource: {
        name: `k8s-fw-${name}`,
        network: "global/networks/default",
        allowed: [{ IPProtocol: "tcp" }],
        sourceRanges: ["1.2.3.4/32"],
      },
    });
    fake.settleOperations();
    expect(op.latestResponse).toBeDefined();
    fake.clearCalls();
    await expect(provider.ensure(spec(), signal)).rejects.toBeInstanceOf(ForeignResourceError);
    expect(mutating()).toEqual([]);
    await provider.delete(id, signal);
    expect(firewall(`k8s-fw-${name}`)?.sourceRanges).toEqual(["1.2.3.4/32"]);
  });
});

describe("faults converge on the next ensure, nothing leaked", () => {
  async function expectConverged(): Promise<void> {
    await ensure(spec());
    await expectNoOp(spec(), "after fault");
    expect(fake.resources("forwardingRules")).toHaveLength(1);
    expect(fake.resources("backendServices")).toHaveLength(1);
    expect(fake.resources("firewalls")).toHaveLength(2);
    await expectDeleteClean();
  }

  it("an operation that finishes with an error", async () => {
    fake.faults.failNextOperation("regionBackendServices.insert", { status: 400, reason: "resourceNotReady" });
    const err: unknown = await provider.ensure(spec(), signal).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GceOperationError);
    expect(fake.resources("backendServices")).toEqual([]);
    await expectConverged();
  });

  it("a 503 on a read is retried inside the call; on an insert the reconcile fails and the next one converges", async () => {
    fake.faults.failNext("forwardingRules.get", 503);
    await ensure(spec());
    // 503, then the retry (404: nothing yet), then the read-back after the insert.
    expect(fake.calls({ method: "forwardingRules.get" }).map((c) => c.status)).toEqual([503, 404, 200]);
    await provider.delete(id, signal);
    fake.clearCalls();
    fake.faults.failNext("forwardingRules.insert", 503);
    const err: unknown = await provider.ensure(spec(), signal).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GceApiError);
    expect(fake.calls({ method: "forwardingRules.insert" })).toHaveLength(1);
    await expectConverged();
  });

  it("a 429 is a RetryAfterError", async () => {
    fake.faults.failNext("healthChecks.insert", 429);
    await expect(provider.ensure(spec(), signal)).rejects.toBeInstanceOf(RetryAfterError);
    await expectConverged();
  });

  it("a controller stopped between two creates (aborted while an insert is in flight)", async () => {
    fake.faults.delayNext("regionBackendServices.insert", 300);
    const stop = new AbortController();
    setTimeout(() => stop.abort(new Error("controller stopped")), 100);
    await expect(provider.ensure(spec(), stop.signal)).rejects.toThrow();
    await new Promise((r) => setTimeout(r, 400));
    fake.settleOperations();
    await expectConverged();
  });
});

describe("bad input: InvalidSpecError and nothing created", () => {
  const cases: [string, LoadBalancerSpec, string][] = [
    [
      "a subnet annotation naming nothing",
      spec({ annotations: { "networking.gke.io/internal-load-balancer-subnet": "no-such-subnet" } }),
      "metadata.annotations[networking.gke.io/internal-load-balancer-subnet]",
    ],
    ["a requested IP outside the subnet", spec({ loadBalancerIP: "10.200.0.5" }), "spec.loadBalancerIP"],
    [
      "mixed TCP/UDP",
      spec({
        ports: [
          { port: 53, protocol: "TCP" },
          { port: 53, protocol: "UDP", name: "dns-udp" },
        ],
      }),
      "spec.ports",
    ],
    [
      "an unknown load-balancer type",
      spec({ annotations: { "networking.gke.io/load-balancer-type": "External" } }),
      "metadata.annotations[networking.gke.io/load-balancer-type]",
    ],
    ["pod mode", spec({ endpoints: [] }), "spec.allocateLoadBalancerNodePorts"],
  ];
  for (const [label, bad, field] of cases) {
    it(label, async () => {
      fake.clearCalls();
      const err: unknown = await provider.ensure(bad, signal).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InvalidSpecError);
      expect((err as InvalidSpecError).field).toBe(field);
      expect(mutating()).toEqual([]);
      for (const c of ["forwardingRules", "backendServices", "healthChecks", "firewalls", "instanceGroups"] as const)
        expect(fake.resources(c)).toEqual([]);
    });
  }
});
