/**
 * Shared types of the AWS provider (providers/aws/). The provider turns a LoadBalancerSpec plus the Service's
 * `service.beta.kubernetes.io/aws-load-balancer-*` annotations (annotations.ts -> AwsServiceConfig) and what it
 * learns about the account (AwsEnvironment: VPC, subnets, node instances) into an NLB (nlb/) or a classic ELB
 * (clb/), with a managed frontend security group (security-groups/). Facts about the anchors are in
 * ../shared/reference/aws.md; names and tags follow the aws-load-balancer-controller ownership model (section 7).
 */
import type { ElasticLoadBalancingClient } from "@aws-sdk/client-elastic-load-balancing";
import type { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import type { EC2Client } from "@aws-sdk/client-ec2";
import type { LoadBalancerId } from "../../src/provider.js";

export const AWS_ANNOTATION_PREFIX = "service.beta.kubernetes.io/aws-load-balancer-";

/** The three SDK v3 clients the provider uses; tests point them at moto and wrap them to count calls. */
export interface AwsClients {
  readonly elbv2: ElasticLoadBalancingV2Client;
  readonly elb: ElasticLoadBalancingClient;
  readonly ec2: EC2Client;
}

export type LoadBalancerKind = "nlb" | "clb";
export type TargetType = "instance" | "ip";
export type Scheme = "internet-facing" | "internal";

/** A health check as the user asked for it; undefined fields take the kind's defaults (health-check.ts). */
export interface HealthCheckOverrides {
  readonly protocol?: "TCP" | "HTTP" | "HTTPS";
  /** A port number, or "traffic-port" (the target's own port). */
  readonly port?: number | "traffic-port";
  readonly path?: string;
  readonly intervalSeconds?: number;
  readonly timeoutSeconds?: number;
  readonly healthyThreshold?: number;
  readonly unhealthyThreshold?: number;
}

/** A health check with every field decided. */
export interface HealthCheckSettings {
  readonly protocol: "TCP" | "HTTP" | "HTTPS";
  readonly port: number | "traffic-port";
  /** HTTP(S) only. */
  readonly path: string | undefined;
  readonly intervalSeconds: number;
  readonly timeoutSeconds: number;
  readonly healthyThreshold: number;
  readonly unhealthyThreshold: number;
}

export interface AccessLogConfig {
  readonly enabled: boolean;
  readonly bucket: string | undefined;
  readonly prefix: string | undefined;
  /** Classic ELB only: 5 or 60 minutes. */
  readonly emitIntervalMinutes: number | undefined;
}

/** Everything the annotations say, validated (annotations.ts). Errors are InvalidSpecError naming the annotation. */
export interface AwsServiceConfig {
  readonly kind: LoadBalancerKind;
  /** NLB only: "ip" in pod mode or with `nlb-target-type: ip`. A classic ELB always targets instances. */
  readonly targetType: TargetType;
  readonly scheme: Scheme;
  /** Subnet IDs or Name tags; undefined: discover by the kubernetes.io/role/(internal-)elb tags. */
  readonly subnets: readonly string[] | undefined;
  /** Replaces the managed frontend security group. */
  readonly securityGroups: readonly string[] | undefined;
  /** Classic ELB only: added next to the managed one. */
  readonly extraSecurityGroups: readonly string[];
  readonly additionalTags: Readonly<Record<string, string>>;
  readonly crossZone: boolean;
  readonly sslCertificate: string | undefined;
  /** Ports (by number or Service port name) that terminate TLS; "*" for all. */
  readonly sslPorts: readonly (number | string)[] | "*";
  readonly sslNegotiationPolicy: string | undefined;
  readonly backendProtocol: "tcp" | "ssl" | "http" | "https" | undefined;
  /** NLB target group attributes, e.g. preserve_client_ip.enabled. */
  readonly targetGroupAttributes: Readonly<Record<string, string>>;
  /** NLB, internet-facing only: one per subnet. */
  readonly eipAllocations: readonly string[] | undefined;
  /** Instance targets only on nodes with these labels. */
  readonly targetNodeLabels: Readonly<Record<string, string>>;
  readonly accessLog: AccessLogConfig;
  readonly proxyProtocol: boolean;
  readonly healthCheck: HealthCheckOverrides;
  /** Classic ELB attributes. */
  readonly connectionDraining: { readonly enabled: boolean; readonly timeoutSeconds: number };
  readonly idleTimeoutSeconds: number;
}

export interface SubnetInfo {
  readonly id: string;
  readonly availabilityZone: string;
  readonly cidr: string;
}

/** A node as an instance target: the EC2 instance behind `spec.providerID` (aws:///<az>/<instance-id>). */
export interface NodeInstance {
  readonly nodeName: string;
  readonly instanceId: string;
  readonly availabilityZone: string | undefined;
}

/** What the provider looked up in the account for one Service (resolved per ensure, cached by the provider). */
export interface AwsEnvironment {
  readonly vpcId: string;
  /** The load balancer's subnets, one per availability zone, sorted by zone. */
  readonly subnets: readonly SubnetInfo[];
  /** Instance targets (after target-node-labels), sorted by instance id. */
  readonly instances: readonly NodeInstance[];
  /** The security group every cluster node carries (tag kubernetes.io/cluster/<id>), where backend rules go. */
  readonly nodeSecurityGroupId: string | undefined;
}

/**
 * Ownership tags on everything the provider creates, so delete finds leftovers by tag even when a create was
 * interrupted between two calls (aws-load-balancer-controller's tracking tags, reference section 2).
 */
export const TAG_CLUSTER = "elbv2.k8s.aws/cluster";
export const TAG_STACK = "service.k8s.aws/stack";
export const TAG_RESOURCE = "service.k8s.aws/resource";
export const TAG_SERVICE_UID = "lb-operator.io/service-uid";
export const TAG_LEGACY_SERVICE_NAME = "kubernetes.io/service-name";
/** On NLB resources: which keys came from additional-resource-tags, so a key removed there is removed in AWS. */
export const TAG_ADDITIONAL_KEYS = "lb-operator.io/additional-tag-keys";

export function ownershipTags(id: LoadBalancerId, resource: string): Record<string, string> {
  return {
    [TAG_CLUSTER]: id.clusterId,
    [TAG_STACK]: `${id.namespace}/${id.name}`,
    [TAG_RESOURCE]: resource,
    [TAG_SERVICE_UID]: id.uid,
    [TAG_LEGACY_SERVICE_NAME]: `${id.namespace}/${id.name}`,
    [`kubernetes.io/cluster/${id.clusterId}`]: "owned",
  };
}

/** What a deployer (nlb/, clb/) gets for one ensure. Read-only. */
export interface DeployInput {
  readonly spec: import("../../src/provider.js").LoadBalancerSpec;
  readonly config: AwsServiceConfig;
  readonly env: AwsEnvironment;
  /** Security groups to attach: the managed frontend + shared backend groups, or the user's (annotation). */
  readonly securityGroupIds: readonly string[];
}

/** One load balancer kind's resources. Both methods are idempotent; ensure makes no mutating call when converged. */
export interface LoadBalancerDeployer {
  ensure(input: DeployInput, signal: AbortSignal): Promise<{ readonly dnsName: string }>;
  /**
   * Optional narrow path for a spec that differs from the last one fully ensured only in its nodes
   * (backends-only.ts): converge the targets to `instances` and nothing else. undefined when the load balancer is
   * not there (deleted behind our back): the caller then runs the full ensure.
   */
  ensureBackends?(
    input: Pick<DeployInput, "spec" | "config"> & { readonly instances: readonly NodeInstance[] },
    signal: AbortSignal,
  ): Promise<{ readonly dnsName: string } | undefined>;
  /** Deletes every resource of this kind owned by `id` (found by tags, not only by name). Gone is success. */
  delete(id: LoadBalancerId, signal: AbortSignal): Promise<void>;
}
