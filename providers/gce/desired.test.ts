import { describe, expect, it } from "vitest";
import { InvalidSpecError } from "../../src/errors.js";
import type { LoadBalancerSpec, NodeBackend } from "../../src/provider.js";
import { gceLocation, gceNode } from "../../test/fixtures/gce.js";
import { newSpec, type NewSpecOptions, type SpecNode } from "../../testing/new-spec.js";
import {
  compactPortRanges,
  desiredLoadBalancer,
  desiredTrafficFirewall,
  nodeInstances,
  trafficSourceRanges,
  type DesiredInputs,
} from "./desired.js";
import { parseGceConfig } from "./gce-config.js";
import { ownershipDescription } from "./gce-types.js";
import { clusterDescription } from "./ownership.js";

const BASE = "https://www.googleapis.com/compute/v1/projects/test-project";
const SUBNET = `${BASE}/regions/us-central1/subnetworks/default`;
const gceSpec = (options: NewSpecOptions = {}): LoadBalancerSpec =>
  newSpec({
    clusterId: "gce-test",
    uid: "5a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
    nodes: [gceNode("node-a", "us-central1-a")],
    ...options,
  });
const id = gceSpec().id;

/** The nodes as deriveSpec hands them to a provider. */
function nodeBackends(...nodes: SpecNode[]): readonly NodeBackend[] {
  const backends = newSpec({ nodes }).backends;
  return backends.mode === "nodePort" ? backends.nodes : [];
}
const name = "a5a1b2c3d4e5f4a6b8c7d9e0f1a2b3c4";

function inputs(spec = gceSpec(), ipAddress?: string): DesiredInputs {
  const location = gceLocation();
  return {
    spec,
    config: parseGceConfig(spec),
    location,
    subnetwork: SUBNET,
    instances: nodeInstances(spec.backends.mode === "nodePort" ? spec.backends.nodes : [], location.region).instances,
    ipAddress,
  };
}

describe("nodeInstances", () => {
  it("reads gce://project/zone/instance, skips other provider IDs and other regions, sorts by zone then name", () => {
    const out = nodeInstances(
      nodeBackends(
        gceNode("n2", "us-central1-b"),
        gceNode("n1", "us-central1-b"),
        gceNode("n0", "us-central1-a"),
        gceNode("far", "europe-west1-b"),
        { ...gceNode("x", "us-central1-a"), providerID: "aws:///i-1" },
      ),
      "us-central1",
    );
    expect(out.instances.map((i) => `${i.zone}/${i.instance}`)).toEqual([
      "us-central1-a/n0",
      "us-central1-b/n1",
      "us-central1-b/n2",
    ]);
    expect(out.skipped.map((s) => s.node)).toEqual(["far", "x"]);
  });

  it("caps a zone at 1000 instances (instance-group limit)", () => {
    const nodes = nodeBackends(
      ...Array.from({ length: 1002 }, (_, i) => gceNode(`n${String(i).padStart(4, "0")}`, "us-central1-a")),
    );
    const out = nodeInstances(nodes, "us-central1");
    expect(out.instances).toHaveLength(1000);
    expect(out.skipped.map((s) => s.node)).toEqual(["n1000", "n1001"]);
  });
});

describe("compactPortRanges", () => {
  it("merges consecutive ports and sorts", () => {
    expect(compactPortRanges([8082, 80, 8080, 8081, 443, 80])).toEqual(["80", "443", "8080-8082"]);
    expect(compactPortRanges([])).toEqual([]);
  });
});

describe("desiredLoadBalancer", () => {
  it("Cluster policy: shared kube-proxy health check, INTERNAL backend service over the zones' groups, rule with ports", () => {
    const spec = gceSpec({
      nodes: [gceNode("n1", "us-central1-b"), gceNode("n0", "us-central1-a")],
      ports: [{ port: 443 }, { port: 80 }],
    });
    const d = desiredLoadBalancer(inputs(spec));
    expect(d.healthCheck).toEqual({
      owner: { kind: "cluster", clusterId: "gce-test" },
      resource: {
        name: "k8s-gce-test-node",
        description: clusterDescription("gce-test"),
        type: "HTTP",
        httpHealthCheck: { port: 10256, requestPath: "/healthz" },
        checkIntervalSec: 8,
        timeoutSec: 1,
        healthyThreshold: 1,
        unhealthyThreshold: 3,
      },
    });
    expect(d.healthCheckFirewall.resource).toMatchObject({
      name: "k8s-gce-test-node-hc",
      sourceRanges: ["130.211.0.0/22", "35.191.0.0/16"],
      allowed: [{ IPProtocol: "tcp", ports: ["10256"] }],
      targetTags: ["gke-node"],
    });
    expect(d.backendService).toEqual({
      name,
      description: ownershipDescription(id),
      protocol: "TCP",
      loadBalancingScheme: "INTERNAL",
      healthChecks: [`${BASE}/global/healthChecks/k8s-gce-test-node`],
      backends: [
        { group: `${BASE}/zones/us-central1-a/instanceGroups/k8s-ig--gce-test` },
        { group: `${BASE}/zones/us-central1-b/instanceGroups/k8s-ig--gce-test` },
      ],
      sessionAffinity: "NONE",
    });
    expect(d.forwardingRule).toEqual({
      name,
      description: ownershipDescription(id),
      IPProtocol: "TCP",
      loadBalancingScheme: "INTERNAL",
      backendService: `${BASE}/regions/us-central1/backendServices/${name}`,
      ports: ["80", "443"],
      network: `${BASE}/global/networks/default`,
      subnetwork: SUBNET,
      allowGlobalAccess: false,
    });
    expect([...d.instanceGroups]).toEqual([
      ["us-central1-a", [`${BASE}/zones/us-central1-a/instances/n0`]],
      ["us-central1-b", [`${BASE}/zones/us-central1-b/instances/n1`]],
    ]);
  });

  it("Local policy: the Service's own health check on healthCheckNodePort, owned by the Service", () => {
    const spec = gceSpec({ healthCheckNodePort: 32000 });
    const d = desiredLoadBalancer(inputs(spec));
    expect(d.healthCheck.owner).toEqual({ kind: "service", id });
    expect(d.healthCheck.resource).toMatchObject({
      name,
      description: ownershipDescription(id),
      httpHealthCheck: { port: 32000, requestPath: "/healthz" },
    });
    expect(d.healthCheckFirewall.resource).toMatchObject({
      name: `${name}-hc`,
      allowed: [{ IPProtocol: "tcp", ports: ["32000"] }],
    });
    expect(d.backendService.healthChecks).toEqual([`${BASE}/global/healthChecks/${name}`]);
  });

  it("more than five ports: allPorts and no ports; five: ports", () => {
    const six = desiredLoadBalancer(
      inputs(gceSpec({ ports: [1, 2, 3, 4, 5, 6].map((port) => ({ port })) })),
    ).forwardingRule;
    expect(six.allPorts).toBe(true);
    expect(six.ports).toBeUndefined();
    const five = desiredLoadBalancer(
      inputs(gceSpec({ ports: [1, 2, 3, 4, 5].map((port) => ({ port })) })),
    ).forwardingRule;
    expect(five.ports).toEqual(["1", "2", "3", "4", "5"]);
    expect(five.allPorts).toBeUndefined();
  });

  it("UDP, ClientIP affinity, global access and a requested address", () => {
    const spec = gceSpec({
      ports: [{ port: 53, protocol: "UDP" }],
      clientIPAffinity: true,
      annotations: { "networking.gke.io/internal-load-balancer-allow-global-access": "true" },
    });
    const d = desiredLoadBalancer(inputs(spec, "10.128.0.9"));
    expect(d.backendService).toMatchObject({ protocol: "UDP", sessionAffinity: "CLIENT_IP" });
    expect(d.forwardingRule).toMatchObject({ IPProtocol: "UDP", allowGlobalAccess: true, IPAddress: "10.128.0.9" });
  });
});

describe("traffic firewall", () => {
  it("admits the Service's source ranges to the VIP on the compacted ports", () => {
    const spec = gceSpec({
      ports: [{ port: 8080 }, { port: 8081 }, { port: 80 }],
      sourceRanges: ["192.168.0.0/16", "10.0.0.0/8"],
    });
    const fw = desiredTrafficFirewall(inputs(spec), "10.128.0.5");
    expect(fw).toMatchObject({
      name: `k8s-fw-${name}`,
      description: ownershipDescription(id),
      sourceRanges: ["10.0.0.0/8", "192.168.0.0/16"],
      destinationRanges: ["10.128.0.5"],
      allowed: [{ IPProtocol: "tcp", ports: ["80", "8080-8081"] }],
      targetTags: ["gke-node"],
    });
  });

  it("with no source ranges admits the VPC ranges, and 0.0.0.0/0 only with the opt-in (kubernetes/kubernetes#56371)", () => {
    const plain = inputs();
    expect(trafficSourceRanges(plain.spec, plain.config, plain.location)).toEqual(["10.128.0.0/9"]);
    const optIn = inputs(gceSpec({ annotations: { "lb-operator.io/gce-allow-all-sources": "true" } }));
    expect(trafficSourceRanges(optIn.spec, optIn.config, optIn.location)).toEqual(["0.0.0.0/0"]);
    expect(() => trafficSourceRanges(plain.spec, plain.config, gceLocation({ defaultSourceRanges: [] }))).toThrow(
      InvalidSpecError,
    );
  });
});
