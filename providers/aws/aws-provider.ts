/**
 * The AWS provider: NLB (instance or ip targets) or classic ELB per the Service's annotations, fronted by a managed
 * security group that admits only the source ranges, with one shared backend group referenced once on the nodes.
 *
 * Order in ensure, so bad input never leaves a partial load balancer: parse and validate everything (annotations,
 * ip-mode endpoints) before the first mutating call; resolve the account (subnets, VPC, node group; cached); then
 * security groups (the NLB needs its groups at creation); then the load balancer. Each step diffs before it writes,
 * so an unchanged Service makes no mutating call. Deletion finds resources by name and ownership tags.
 */
import type { Logger } from "pino";
import { InvalidSpecError } from "../../src/errors.js";
import type {
  ExistingLoadBalancer,
  LoadBalancerId,
  LoadBalancerProvider,
  LoadBalancerSpec,
  LoadBalancerStatus,
} from "../../src/provider.js";
import { type Clock, systemClock } from "../../src/util/clock.js";
import { parseAwsConfig } from "./annotations.js";
import { type AwsEnvironmentResolver, instancesOf } from "./aws-environment.js";
import {
  AWS_ANNOTATION_PREFIX,
  type AwsServiceConfig,
  type LoadBalancerDeployer,
  type LoadBalancerKind,
} from "./aws-types.js";
import { onlyBackendsChanged } from "./backends-only.js";

export const AWS_PROVIDER_NAME = "aws";

/** The security-group steps the provider needs (security-groups/ implements them against EC2). */
export interface SecurityGroupPort {
  ensureFrontend(
    input: {
      id: LoadBalancerId;
      vpcId: string;
      ports: { protocol: "TCP" | "UDP"; port: number }[];
      sourceRanges: readonly string[];
      extraTags: Readonly<Record<string, string>>;
    },
    signal: AbortSignal,
  ): Promise<string>;
  ensureBackend(clusterId: string, vpcId: string, signal: AbortSignal): Promise<string>;
  ensureNodeAccess(nodeSecurityGroupId: string, backendGroupId: string, signal: AbortSignal): Promise<void>;
  deleteFrontend(id: LoadBalancerId, signal: AbortSignal): Promise<void>;
}

export interface AwsProviderOptions {
  readonly deployers: Readonly<Record<LoadBalancerKind, LoadBalancerDeployer>>;
  readonly securityGroups: SecurityGroupPort;
  readonly environment: AwsEnvironmentResolver;
  readonly logger: Logger;
  readonly clock?: Clock;
  /** How long the cluster-wide backend group and its node rule count as ensured. Default 5 minutes. */
  readonly clusterCacheMs?: number;
}

export class AwsProvider implements LoadBalancerProvider {
  readonly name = AWS_PROVIDER_NAME;
  /** The kind last ensured per Service uid: a type change must remove the other kind's load balancer. */
  private readonly lastKind = new Map<string, LoadBalancerKind>();
  /** Services whose load balancer exists (ensured, or restored from status after a restart). */
  private readonly existing = new Set<string>();
  /**
   * The backend group and its node rule are the same for every Service of a cluster: ensured once per cache period,
   * not once per Service and reconcile (they were 2 of the 10 describes of a no-op NLB reconcile, bench/aws-calls).
   */
  private readonly clusterSetup = new Map<string, { backendGroupId: string; at: number }>();
  /**
   * The spec last ensured per Service uid, set only after a success: a node-only change from it takes the
   * deployer's backends-only path (backends-only.ts). Dropped before each attempt, so a failed ensure, a restart
   * or a delete always leads to a full one.
   */
  private readonly lastEnsured = new Map<string, LoadBalancerSpec>();

  constructor(private readonly options: AwsProviderOptions) {}

  /**
   * After a restart: Services with an address have a load balancer (an ip-mode one may then be emptied), of the
   * kind its address names, so their first ensure need not look for the other kind (2 reads per NLB Service and 4
   * per classic one on every restart, bench/aws-calls). The address is the last one ensured: a kind change since
   * then leaves it naming the other kind, whose load balancer the first ensure then removes as before.
   */
  async restore(existing: readonly ExistingLoadBalancer[]): Promise<void> {
    for (const lb of existing) {
      this.existing.add(lb.id.uid);
      const kind = kindOfAddress(lb.status.ingress[0]?.hostname);
      if (kind !== undefined) this.lastKind.set(lb.id.uid, kind);
    }
  }

  async ensure(spec: LoadBalancerSpec, signal: AbortSignal): Promise<LoadBalancerStatus> {
    const config = parseAwsConfig(spec);
    const narrow = await this.ensureBackendsOnly(spec, config, signal);
    if (narrow) return narrow;
    this.lastEnsured.delete(spec.id.uid);
    validateTargets(spec, config, this.existing.has(spec.id.uid));
    const env = await this.options.environment.resolve(spec, config, signal);
    if (config.eipAllocations && config.eipAllocations.length !== env.subnets.length) {
      throw new InvalidSpecError(
        `${AWS_ANNOTATION_PREFIX}eip-allocations`,
        `${config.eipAllocations.length} allocation(s) for ${env.subnets.length} subnet(s) (${env.subnets.map((s) => s.id).join(", ")}): one per subnet is needed`,
      );
    }
    const securityGroupIds = await this.securityGroupsFor(spec, config, env.vpcId, env.nodeSecurityGroupId, signal);
    const other: LoadBalancerKind = config.kind === "nlb" ? "clb" : "nlb";
    if (this.lastKind.get(spec.id.uid) !== config.kind) {
      // First ensure since start, or the type annotation changed: make sure the other kind is gone.
      await this.options.deployers[other].delete(spec.id, signal);
    }
    const { dnsName } = await this.options.deployers[config.kind].ensure(
      { spec, config, env, securityGroupIds },
      signal,
    );
    this.lastKind.set(spec.id.uid, config.kind);
    this.existing.add(spec.id.uid);
    this.lastEnsured.set(spec.id.uid, spec);
    return statusOf(spec, dnsName);
  }

  async delete(id: LoadBalancerId, signal: AbortSignal): Promise<void> {
    await this.options.deployers.nlb.delete(id, signal);
    await this.options.deployers.clb.delete(id, signal);
    await this.options.securityGroups.deleteFrontend(id, signal);
    this.lastKind.delete(id.uid);
    this.existing.delete(id.uid);
    this.lastEnsured.delete(id.uid);
  }

  /**
   * Node churn as upstream's UpdateLoadBalancer (a classic ELB's: describe + register/deregister, bench/aws-calls),
   * when the deployer has the narrow path and the spec differs from the last one ensured only in its nodes.
   * undefined: run the full ensure. The frontend group, attributes and tags wait for the next full ensure (a drift
   * resync re-ensures an unchanged spec, which never takes this path).
   */
  private async ensureBackendsOnly(
    spec: LoadBalancerSpec,
    config: AwsServiceConfig,
    signal: AbortSignal,
  ): Promise<LoadBalancerStatus | undefined> {
    const uid = spec.id.uid;
    const deployer = this.options.deployers[config.kind];
    if (!deployer.ensureBackends || this.lastKind.get(uid) !== config.kind) return undefined;
    if (!onlyBackendsChanged(this.lastEnsured.get(uid), spec)) return undefined;
    this.lastEnsured.delete(uid);
    const out = await deployer.ensureBackends({ spec, config, instances: instancesOf(spec, config) }, signal);
    if (!out) return undefined;
    this.lastEnsured.set(uid, spec);
    return statusOf(spec, out.dnsName);
  }

  private async backendGroup(
    clusterId: string,
    vpcId: string,
    nodeGroupId: string | undefined,
    signal: AbortSignal,
  ): Promise<string> {
    const key = `${clusterId}|${vpcId}|${nodeGroupId ?? ""}`;
    const now = (this.options.clock ?? systemClock).now();
    const cached = this.clusterSetup.get(key);
    if (cached && now - cached.at < (this.options.clusterCacheMs ?? 300_000)) return cached.backendGroupId;
    const sg = this.options.securityGroups;
    const backendGroupId = await sg.ensureBackend(clusterId, vpcId, signal);
    if (nodeGroupId) await sg.ensureNodeAccess(nodeGroupId, backendGroupId, signal);
    else
      this.options.logger.warn(
        { cluster: clusterId },
        "no node security group tagged kubernetes.io/cluster/<id>=owned: node access rule not managed",
      );
    this.clusterSetup.set(key, { backendGroupId, at: now });
    return backendGroupId;
  }

  private async securityGroupsFor(
    spec: LoadBalancerSpec,
    config: AwsServiceConfig,
    vpcId: string,
    nodeGroupId: string | undefined,
    signal: AbortSignal,
  ): Promise<string[]> {
    if (config.securityGroups) return [...config.securityGroups];
    const sg = this.options.securityGroups;
    const ports = spec.ports.flatMap((p) => (p.protocol === "SCTP" ? [] : [{ protocol: p.protocol, port: p.port }]));
    const frontend = await sg.ensureFrontend(
      { id: spec.id, vpcId, ports, sourceRanges: spec.sourceRanges, extraTags: config.additionalTags },
      signal,
    );
    const backend = await this.backendGroup(spec.id.clusterId, vpcId, nodeGroupId, signal);
    return [frontend, backend, ...(config.kind === "clb" ? config.extraSecurityGroups : [])];
  }
}

function statusOf(spec: LoadBalancerSpec, dnsName: string): LoadBalancerStatus {
  const ports = spec.ports.map(({ port, protocol }) => ({ port, protocol }));
  return { ingress: [{ hostname: dnsName.toLowerCase(), ports }] };
}

/**
 * The kind an AWS load balancer DNS name belongs to, as cloud-provider-aws tells them apart
 * (validateServiceAnnotations, pkg/providers/v1/aws_validations.go): an NLB's is `<name>-<id>.elb.<region>.amazonaws.com`,
 * a classic ELB's `<name>-<id>.<region>.elb.amazonaws.com` (`.cn` after both in China). moto names NLBs the
 * classic way; read as clb, an NLB Service's first ensure then removes a classic ELB that is not there, as before.
 */
export function kindOfAddress(hostname: string | undefined): LoadBalancerKind | undefined {
  if (hostname === undefined) return undefined;
  if (/\.elb\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/.test(hostname)) return "nlb";
  if (/\.elb\.amazonaws\.com(\.cn)?$/.test(hostname)) return "clb";
  return undefined;
}

/**
 * Bad input that would otherwise create a load balancer with nothing behind it, or fail half-way. An ip-mode
 * Service without ready endpoints gets no new load balancer; one we already made is converged (to no targets,
 * e.g. during a rollout) rather than refused.
 */
function validateTargets(spec: LoadBalancerSpec, config: AwsServiceConfig, exists: boolean): void {
  if (spec.requestedIPs.length > 0) {
    // cloud-provider-aws rejects it too: AWS picks the addresses (an NLB can take Elastic IPs per subnet).
    throw new InvalidSpecError(
      "spec.loadBalancerIP",
      `a requested address (${spec.requestedIPs.join(", ")}) is not supported on AWS; use ${"service.beta.kubernetes.io/aws-load-balancer-eip-allocations"} with an NLB`,
    );
  }
  if (config.targetType !== "ip") return;
  if (spec.backends.mode !== "pod") {
    throw new InvalidSpecError(
      "spec.allocateLoadBalancerNodePorts",
      "ip targets need the pod addresses: set spec.allocateLoadBalancerNodePorts=false (pod mode)",
    );
  }
  if (!exists && !spec.backends.endpoints.some((e) => e.ready)) {
    throw new InvalidSpecError(
      "endpoints",
      "ip targets: the Service has no ready endpoints, so no load balancer was created; it will be once pods are ready",
    );
  }
}
