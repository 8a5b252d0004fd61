/** Builders for GCE tests (unit and integration): a Service spec, a location, nodes. Test-only. */
import type { LoadBalancerId, LoadBalancerSpec, NodeBackend, PortSpec } from "../../src/provider.js";
import type { GceLocation } from "./gce-types.js";

export function gceTestId(name = "web", uid = "5a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", clusterId = "gce-test"): LoadBalancerId {
  return { clusterId, namespace: "default", name, uid, shortName: `default-${name}` };
}

export function gcePort(port: number, protocol: PortSpec["protocol"] = "TCP", name = `p${port}`): PortSpec {
  return { name, protocol, port, nodePort: 30000 + (port % 2000), appProtocol: undefined };
}

export function gceNode(name: string, zone: string, project = "test-project"): NodeBackend {
  return { name, addresses: [], providerID: `gce://${project}/${zone}/${name}`, zone, labels: {} };
}

export function gceSpec(overrides: Partial<LoadBalancerSpec> = {}): LoadBalancerSpec {
  return {
    id: gceTestId(),
    ports: [gcePort(80)],
    backends: { mode: "nodePort", nodes: [gceNode("node-a", "us-central1-a")] },
    healthCheck: { kind: "http", source: "kubeProxy", port: 10256, path: "/healthz" },
    externalTrafficPolicy: "Cluster",
    sourceRanges: [],
    requestedIPs: [],
    ipFamilies: ["IPv4"],
    sessionAffinity: { type: "None" },
    annotations: {},
    selector: {},
    ...overrides,
  };
}

export function gceLocation(overrides: Partial<GceLocation> = {}): GceLocation {
  return {
    project: "test-project",
    region: "us-central1",
    network: "default",
    subnetwork: "default",
    nodeTags: ["gke-node"],
    healthCheckSourceRanges: ["130.211.0.0/22", "35.191.0.0/16"],
    defaultSourceRanges: ["10.128.0.0/9"],
    ...overrides,
  };
}
