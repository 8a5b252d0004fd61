/**
 * GCE test worlds on the fake Compute API: the cluster the GCE tests share (four nodes in three zones of
 * us-central1, tagged gke-node), its location, a provider for it, specs whose nodes carry gce:// provider IDs,
 * and the world as a ProviderTestWorld for the contract suite (testing/contract-suite.ts).
 */
import pino from "pino";
import { afterAll, beforeAll, beforeEach } from "vitest";
import { gceProviderFor } from "../../../providers/gce/create-gce-provider.js";
import type { GceProvider } from "../../../providers/gce/gce-provider.js";
import type { GceLocation } from "../../../providers/gce/gce-types.js";
import { gceLocation, gceNode } from "../../fixtures/gce.js";
import { isClusterResource } from "../../../providers/gce/ownership.js";
import type { LoadBalancerSpec } from "../../../src/provider.js";
import type { ProviderTestWorld } from "../../../testing/call-recorder.js";
import { newSpec, type NewSpecOptions, type SpecNode } from "../../../testing/new-spec.js";
import { gceClientsFor } from "./clients.js";
import { startFakeCompute, type FakeCompute, type FakeComputeOptions } from "./fake-compute.js";
import type { Collection } from "./types.js";

export const GCE_TEST_TAGS: readonly string[] = ["gke-node"];
export const GCE_TEST_NODES: readonly { readonly name: string; readonly zone: string }[] = [
  { name: "node-a1", zone: "us-central1-a" },
  { name: "node-a2", zone: "us-central1-a" },
  { name: "node-b1", zone: "us-central1-b" },
  { name: "node-c1", zone: "us-central1-c" },
];

/** The whole GCE provider on `fake`, with waits and retries shortened for tests. */
export function gceTestProvider(
  fake: FakeCompute,
  location: GceLocation = gceLocation({ nodeTags: GCE_TEST_TAGS }),
): GceProvider {
  return gceProviderFor(gceClientsFor(fake), location, pino({ level: "silent" }), {
    minPollIntervalMs: 0,
    minRetryDelayMs: 1,
  });
}

/** Nodes as a GCE kubelet registers them (providerID gce://project/zone/name); a name not in GCE_TEST_NODES gets zone "?". */
export function gceNodes(...names: string[]): SpecNode[] {
  return names.map((name) => gceNode(name, GCE_TEST_NODES.find((n) => n.name === name)?.zone ?? "?"));
}

/** The fake seeded with GCE_TEST_NODES (plus `options`), started once per file and reset before each test. */
/** The spec most GCE tests start from: three nodes in two zones, ports 80 and 443, a fixed uid. */
export function gceTestSpec(clusterId: string, options: NewSpecOptions = {}): LoadBalancerSpec {
  return newSpec({
    clusterId,
    uid: "5a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
    nodes: gceNodes("node-a1", "node-a2", "node-b1"),
    ports: [{ port: 80 }, { port: 443 }],
    ...options,
  });
}

export function freshFakeComputePerTest(options: FakeComputeOptions = {}): () => FakeCompute {
  let fake: FakeCompute | undefined;
  beforeAll(async () => {
    fake = await startFakeCompute({
      instances: GCE_TEST_NODES.map((n) => ({ ...n, tags: [...GCE_TEST_TAGS] })),
      ...options,
    });
  });
  afterAll(async () => {
    await fake?.stop();
  });
  beforeEach(() => fake?.reset());
  return () => {
    if (fake === undefined) throw new Error("fake Compute did not start");
    return fake;
  };
}

/** The collections a Service's load balancer lives in (instances, networks and zones are seeds). */
export const LOAD_BALANCER_COLLECTIONS = [
  "forwardingRules",
  "backendServices",
  "healthChecks",
  "firewalls",
  "instanceGroups",
  "addresses",
] as const satisfies readonly Collection[];

/**
 * A reset fake as a ProviderTestWorld. Resources are the API-made resources of the Services, not the cluster's
 * shared ones (instance groups, the kube-proxy health check and its firewall): like AWS's backend security group
 * they may outlive a Service. (A create stopped before its backend service exists leaves the instance groups
 * until the cluster's next ensure: delete finds their zones through the backend service.)
 */
export async function gceContractWorld(
  fake: FakeCompute,
  clusterId: string,
  spec: Omit<NewSpecOptions, "name" | "clusterId"> = {},
): Promise<ProviderTestWorld> {
  fake.reset();
  return {
    provider: gceTestProvider(fake),
    spec: (name) => newSpec({ nodes: gceNodes("node-a1", "node-a2", "node-b1"), ...spec, name, clusterId }),
    calls: () => fake.calls().map((c) => ({ operation: c.method, mutating: c.mutating })),
    clearCalls: () => fake.clearCalls(),
    resources: async () =>
      LOAD_BALANCER_COLLECTIONS.flatMap((c) =>
        fake
          .resources(c)
          .filter((r) => !isClusterResource(r.description, clusterId))
          .map((r) => `${c}/${r.name ?? "?"}`),
      ),
    failNthMutatingCall: (n) => fake.faults.failNthMutation(n),
  };
}
