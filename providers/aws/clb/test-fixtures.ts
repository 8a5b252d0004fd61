/** Builders for classic ELB tests (unit and integration): a Service spec and its parsed AWS config. Test-only. */
import type { LoadBalancerId, LoadBalancerSpec, NodeBackend, PortSpec } from "../../../src/provider.js";
import type { AwsServiceConfig } from "../aws-types.js";
import { nlbConfig } from "../nlb/nlb-fixtures.js";

export function testId(name = "web", uid = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"): LoadBalancerId {
  return { clusterId: "test-cluster", namespace: "default", name, uid, shortName: `default-${name}` };
}

export function tcpPort(port: number, nodePort: number | undefined, name = ""): PortSpec {
  return { name, protocol: "TCP", port, nodePort, appProtocol: undefined };
}

export function nodeBackend(name: string): NodeBackend {
  return { name, addresses: [], providerID: undefined, zone: undefined, labels: {} };
}

export function testSpec(overrides: Partial<LoadBalancerSpec> = {}): LoadBalancerSpec {
  return {
    id: testId(),
    ports: [tcpPort(80, 30080, "http")],
    backends: { mode: "nodePort", nodes: [] },
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

/** The defaults cloud-provider-aws gives a classic ELB with no annotations (reference section 1). */
export function clbConfig(overrides: Partial<AwsServiceConfig> = {}): AwsServiceConfig {
  return nlbConfig({ kind: "clb", ...overrides });
}
