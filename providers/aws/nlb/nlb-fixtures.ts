/** Builders for NLB tests (unit and integration): a Service spec, its parsed AWS config, a DeployInput. Test-only. */
import type { LoadBalancerId, LoadBalancerSpec, PodEndpoint, PortSpec } from "../../../src/provider.js";
import type { AwsEnvironment, AwsServiceConfig, DeployInput } from "../aws-types.js";

export function nlbTestId(name = "web", uid = "5a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"): LoadBalancerId {
  return { clusterId: "nlb-test", namespace: "default", name, uid, shortName: `default-${name}` };
}

export function port(portNumber: number, nodePort: number | undefined, name = "", protocol: PortSpec["protocol"] = "TCP"): PortSpec {
  return { name, protocol, port: portNumber, nodePort, appProtocol: undefined };
}

export function endpoint(ip: string, ports: Record<string, number>, ready = true): PodEndpoint {
  return { ip, ports, nodeName: undefined, zone: undefined, ready, serving: ready };
}

export function nlbSpec(overrides: Partial<LoadBalancerSpec> = {}): LoadBalancerSpec {
  return {
    id: nlbTestId(),
    ports: [port(80, 30080, "http")],
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

/** An NLB with no annotations beyond the type. */
export function nlbConfig(overrides: Partial<AwsServiceConfig> = {}): AwsServiceConfig {
  return {
    kind: "nlb",
    targetType: "instance",
    scheme: "internet-facing",
    subnets: undefined,
    securityGroups: undefined,
    extraSecurityGroups: [],
    additionalTags: {},
    crossZone: false,
    sslCertificate: undefined,
    sslPorts: "*",
    sslNegotiationPolicy: undefined,
    backendProtocol: undefined,
    targetGroupAttributes: {},
    eipAllocations: undefined,
    targetNodeLabels: {},
    accessLog: { enabled: false, bucket: undefined, prefix: undefined, emitIntervalMinutes: undefined },
    proxyProtocol: false,
    healthCheck: {},
    connectionDraining: { enabled: false, timeoutSeconds: 300 },
    idleTimeoutSeconds: 60,
    ...overrides,
  };
}

export function nlbEnv(overrides: Partial<AwsEnvironment> = {}): AwsEnvironment {
  return {
    vpcId: "vpc-1",
    subnets: [
      { id: "subnet-a", availabilityZone: "us-east-1a", cidr: "10.0.0.0/24" },
      { id: "subnet-b", availabilityZone: "us-east-1b", cidr: "10.0.1.0/24" },
    ],
    instances: [
      { nodeName: "node-b", instanceId: "i-bbb", availabilityZone: "us-east-1b" },
      { nodeName: "node-a", instanceId: "i-aaa", availabilityZone: "us-east-1a" },
    ],
    nodeSecurityGroupId: undefined,
    ...overrides,
  };
}

export function nlbInput(parts: { spec?: LoadBalancerSpec; config?: AwsServiceConfig; env?: AwsEnvironment; securityGroupIds?: string[] } = {}): DeployInput {
  return {
    spec: parts.spec ?? nlbSpec(),
    config: parts.config ?? nlbConfig(),
    env: parts.env ?? nlbEnv(),
    securityGroupIds: parts.securityGroupIds ?? [],
  };
}
