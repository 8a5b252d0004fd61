/**
 * The classic ELB deployer (cloud-provider-aws's only non-NLB path; aws-load-balancer-controller has none):
 * listeners Service port -> NodePort, the health check, attributes, the proxy-protocol backend policy, tags, and
 * instances, each diffed against one DescribeLoadBalancers, one DescribeTags and one
 * DescribeLoadBalancerAttributes. A converged load balancer costs those three describes and no write.
 *
 * The load balancer is always looked up with DescribeLoadBalancers first: several classic ELB calls on an unknown
 * name make moto answer HTTP 500 instead of LoadBalancerNotFound (reference section 6), and a 500 would be
 * retried as transient. An existing load balancer is modified only when its ownership tags say it is ours.
 * Classic ELBs cannot be found by tag without listing the region, so the names are deterministic
 * (names.ts) and delete checks both schemes' names.
 */
import {
  AddTagsCommand,
  ApplySecurityGroupsToLoadBalancerCommand,
  AttachLoadBalancerToSubnetsCommand,
  ConfigureHealthCheckCommand,
  CreateLoadBalancerCommand,
  CreateLoadBalancerListenersCommand,
  CreateLoadBalancerPolicyCommand,
  DeleteLoadBalancerCommand,
  DeleteLoadBalancerListenersCommand,
  DescribeLoadBalancerAttributesCommand,
  DescribeLoadBalancersCommand,
  DescribeTagsCommand,
  DetachLoadBalancerFromSubnetsCommand,
  ModifyLoadBalancerAttributesCommand,
  SetLoadBalancerPoliciesForBackendServerCommand,
  type HealthCheck,
  type Listener,
  type LoadBalancerDescription,
} from "@aws-sdk/client-elastic-load-balancing";
import type { Logger } from "pino";
import { InvalidSpecError, LbOperatorError } from "../../../src/errors.js";
import type { LoadBalancerId } from "../../../src/provider.js";
import { awsCall, hasCode } from "../aws-call.js";
import {
  AWS_ANNOTATION_PREFIX,
  ownershipTags,
  type AwsClients,
  type DeployInput,
  type LoadBalancerDeployer,
  type NodeInstance,
  type Scheme,
} from "../aws-types.js";
import { classicHealthTarget, healthCheckFor } from "../health-check.js";
import { loadBalancerName } from "../names.js";
import { convergeInstances } from "./clb-instances.js";
import {
  PROXY_PROTOCOL_POLICY,
  attributeChanges,
  currentListeners,
  desiredHealthCheck,
  desiredListeners,
  diffListeners,
  diffSets,
  healthCheckDiffers,
  isOwned,
  missingTags,
  proxyProtocolPlan,
  tagMap,
} from "./clb-model.js";

export const CLB_RESOURCE = "LoadBalancer";

/** A classic ELB with our deterministic name exists but is not tagged as this Service's: never touched. */
export class ForeignLoadBalancerError extends LbOperatorError {
  readonly loadBalancerName: string;
  constructor(name: string) {
    super(`classic ELB ${name} exists but does not carry this Service's ownership tags; not modifying it`);
    this.loadBalancerName = name;
  }
}

export interface ClbDeployerOptions {
  readonly clients: AwsClients;
  readonly logger?: Logger;
}

const SCHEMES: readonly Scheme[] = ["internet-facing", "internal"];

interface DesiredClb {
  readonly listeners: Listener[];
  readonly healthCheck: HealthCheck;
  readonly subnets: string[];
  readonly securityGroups: string[];
  readonly tags: Record<string, string>;
  readonly name: string;
}

/** Validates everything before the first write, so bad input leaves no partial load balancer. */
function desiredClb(input: DeployInput): DesiredClb {
  const { spec, config, env } = input;
  const id = spec.id;
  if (spec.backends.mode !== "nodePort") {
    throw new InvalidSpecError(
      "spec.allocateLoadBalancerNodePorts",
      "a classic ELB targets instances on NodePorts; pod mode needs an NLB with ip targets",
    );
  }
  const listeners = desiredListeners(spec.ports, config);
  const firstPort = spec.ports[0];
  const firstNodePort = firstPort?.nodePort;
  if (!firstPort || firstNodePort === undefined)
    throw new InvalidSpecError("spec.ports", "a classic ELB needs a port with a NodePort");
  const settings = healthCheckFor("clb", "instance", spec, config, firstPort);
  const healthCheck = desiredHealthCheck(settings, classicHealthTarget(settings, firstNodePort));
  if (env.subnets.length === 0)
    throw new InvalidSpecError(`${AWS_ANNOTATION_PREFIX}subnets`, "no subnet found for the load balancer");
  return {
    listeners,
    healthCheck,
    subnets: env.subnets.map((s) => s.id),
    securityGroups: [...new Set([...input.securityGroupIds, ...config.extraSecurityGroups])],
    tags: { ...config.additionalTags, ...ownershipTags(id, CLB_RESOURCE) },
    name: loadBalancerName(id, "clb", config.scheme),
  };
}

export class ClbDeployer implements LoadBalancerDeployer {
  constructor(private readonly options: ClbDeployerOptions) {}

  async ensure(input: DeployInput, signal: AbortSignal): Promise<{ readonly dnsName: string }> {
    const { spec, config, env } = input;
    const id = spec.id;
    const desired = desiredClb(input);
    const { listeners, healthCheck, tags, name } = desired;

    const lb = (await this.describe(name, signal)) ?? (await this.create(input, desired, signal));
    const currentTags = await this.tagsOf(name, signal);
    if (!isOwned(currentTags, id.clusterId, id.uid)) throw new ForeignLoadBalancerError(name);

    await this.convergeListeners(name, lb, listeners, signal);
    await this.convergeNetwork(name, lb, desired.subnets, desired.securityGroups, signal);
    if (healthCheckDiffers(lb.HealthCheck, healthCheck)) {
      await this.call("ConfigureHealthCheck", signal, () =>
        this.elb.send(new ConfigureHealthCheckCommand({ LoadBalancerName: name, HealthCheck: healthCheck }), {
          abortSignal: signal,
        }),
      );
    }
    const attributes = await this.call("DescribeLoadBalancerAttributes", signal, () =>
      this.elb.send(new DescribeLoadBalancerAttributesCommand({ LoadBalancerName: name }), { abortSignal: signal }),
    );
    const changes = attributeChanges(attributes.LoadBalancerAttributes, config);
    if (changes) {
      await this.call("ModifyLoadBalancerAttributes", signal, () =>
        this.elb.send(
          new ModifyLoadBalancerAttributesCommand({ LoadBalancerName: name, LoadBalancerAttributes: changes }),
          { abortSignal: signal },
        ),
      );
    }
    await this.convergeProxyProtocol(
      name,
      lb,
      listeners.flatMap((l) => (l.InstancePort === undefined ? [] : [l.InstancePort])),
      config.proxyProtocol,
      signal,
    );
    const addTags = missingTags(currentTags, tags);
    if (addTags.length > 0) {
      await this.call("AddTags", signal, () =>
        this.elb.send(new AddTagsCommand({ LoadBalancerNames: [name], Tags: addTags }), { abortSignal: signal }),
      );
    }
    await convergeInstances(
      this.elb,
      { ...lb, LoadBalancerName: name },
      env.instances.map((i) => i.instanceId),
      signal,
    );
    if (!lb.DNSName) throw new LbOperatorError(`classic ELB ${name} has no DNS name`);
    return { dnsName: lb.DNSName };
  }

  /**
   * The backends-only path (backends-only.ts): 1 describe and at most one register and one deregister, where
   * cloud-provider-aws's UpdateLoadBalancer for a classic ELB makes 3 reads and the registration. Ownership was
   * checked by the full ensure this follows; the name holds the Service's uid, so it is still this Service's.
   */
  async ensureBackends(
    input: Pick<DeployInput, "spec" | "config"> & { readonly instances: readonly NodeInstance[] },
    signal: AbortSignal,
  ): Promise<{ readonly dnsName: string } | undefined> {
    const name = loadBalancerName(input.spec.id, "clb", input.config.scheme);
    const lb = await this.describe(name, signal);
    if (!lb?.DNSName) return undefined;
    await convergeInstances(
      this.elb,
      { ...lb, LoadBalancerName: name },
      input.instances.map((i) => i.instanceId),
      signal,
    );
    return { dnsName: lb.DNSName };
  }

  /** Creates the load balancer; a scheme change gives a new name, so the old one goes once the new one exists. */
  private async create(
    input: DeployInput,
    desired: ReturnType<typeof desiredClb>,
    signal: AbortSignal,
  ): Promise<LoadBalancerDescription> {
    const { spec, config } = input;
    const id = spec.id;
    const { listeners, subnets, securityGroups, tags, name } = desired;
    await this.call("CreateLoadBalancer", signal, () =>
      this.elb.send(
        new CreateLoadBalancerCommand({
          LoadBalancerName: name,
          Listeners: listeners,
          Subnets: subnets,
          SecurityGroups: securityGroups,
          ...(config.scheme === "internal" ? { Scheme: "internal" } : {}),
          Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
        }),
        { abortSignal: signal },
      ),
    );
    this.options.logger?.info({ loadBalancer: name, service: `${id.namespace}/${id.name}` }, "created classic ELB");
    const lb = await this.describe(name, signal);
    if (!lb) throw new LbOperatorError(`classic ELB ${name} is not visible right after CreateLoadBalancer`);
    for (const scheme of SCHEMES)
      if (scheme !== config.scheme) await this.deleteIfOwned(id, loadBalancerName(id, "clb", scheme), signal);
    return lb;
  }

  async delete(id: LoadBalancerId, signal: AbortSignal): Promise<void> {
    for (const scheme of SCHEMES) await this.deleteIfOwned(id, loadBalancerName(id, "clb", scheme), signal);
  }

  private get elb(): AwsClients["elb"] {
    return this.options.clients.elb;
  }

  private call<T>(operation: string, signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
    return awsCall(operation, fn, { signal });
  }

  /** undefined when there is no load balancer of that name (AccessPointNotFound; "LoadBalancerNotFound" in the API docs). */
  private async describe(name: string, signal: AbortSignal): Promise<LoadBalancerDescription | undefined> {
    try {
      const out = await this.call("DescribeLoadBalancers", signal, () =>
        this.elb.send(new DescribeLoadBalancersCommand({ LoadBalancerNames: [name] }), { abortSignal: signal }),
      );
      return out.LoadBalancerDescriptions?.find((d) => d.LoadBalancerName === name);
    } catch (err) {
      if (hasCode(err, "AccessPointNotFoundException", "AccessPointNotFound", "LoadBalancerNotFound")) return undefined;
      throw err;
    }
  }

  private async tagsOf(name: string, signal: AbortSignal): Promise<Record<string, string>> {
    const out = await this.call("DescribeTags", signal, () =>
      this.elb.send(new DescribeTagsCommand({ LoadBalancerNames: [name] }), { abortSignal: signal }),
    );
    return tagMap(out.TagDescriptions?.find((d) => d.LoadBalancerName === name)?.Tags);
  }

  private async deleteIfOwned(id: LoadBalancerId, name: string, signal: AbortSignal): Promise<void> {
    if (!(await this.describe(name, signal))) return;
    const tags = await this.tagsOf(name, signal);
    if (!isOwned(tags, id.clusterId, id.uid)) {
      this.options.logger?.warn({ loadBalancer: name }, "classic ELB with our name is not tagged as ours; leaving it");
      return;
    }
    await this.call("DeleteLoadBalancer", signal, () =>
      this.elb.send(new DeleteLoadBalancerCommand({ LoadBalancerName: name }), { abortSignal: signal }),
    );
    this.options.logger?.info({ loadBalancer: name, service: `${id.namespace}/${id.name}` }, "deleted classic ELB");
  }

  private async convergeListeners(
    name: string,
    lb: LoadBalancerDescription,
    desired: Listener[],
    signal: AbortSignal,
  ): Promise<void> {
    const diff = diffListeners(currentListeners(lb), desired);
    // Delete first: a classic ELB has one listener per port, so a changed listener is removed, then re-created.
    // One port per call: moto 5.2.5 deletes nothing when given several ports (its loop keeps every listener that
    // differs from any one of them); AWS takes a list, but listener changes are rare enough not to matter.
    for (const port of diff.remove) {
      await this.call("DeleteLoadBalancerListeners", signal, () =>
        this.elb.send(new DeleteLoadBalancerListenersCommand({ LoadBalancerName: name, LoadBalancerPorts: [port] }), {
          abortSignal: signal,
        }),
      );
    }
    if (diff.create.length > 0) {
      await this.call("CreateLoadBalancerListeners", signal, () =>
        this.elb.send(new CreateLoadBalancerListenersCommand({ LoadBalancerName: name, Listeners: diff.create }), {
          abortSignal: signal,
        }),
      );
    }
  }

  private async convergeNetwork(
    name: string,
    lb: LoadBalancerDescription,
    subnets: string[],
    securityGroups: string[],
    signal: AbortSignal,
  ): Promise<void> {
    const subnetDiff = diffSets(lb.Subnets ?? [], subnets);
    // Attach before detach, so the load balancer keeps a subnet in every step.
    if (subnetDiff.add.length > 0) {
      await this.call("AttachLoadBalancerToSubnets", signal, () =>
        this.elb.send(new AttachLoadBalancerToSubnetsCommand({ LoadBalancerName: name, Subnets: subnetDiff.add }), {
          abortSignal: signal,
        }),
      );
    }
    if (subnetDiff.remove.length > 0) {
      await this.call("DetachLoadBalancerFromSubnets", signal, () =>
        this.elb.send(
          new DetachLoadBalancerFromSubnetsCommand({ LoadBalancerName: name, Subnets: subnetDiff.remove }),
          { abortSignal: signal },
        ),
      );
    }
    const sgDiff = diffSets(lb.SecurityGroups ?? [], securityGroups);
    if (sgDiff.add.length > 0 || sgDiff.remove.length > 0) {
      await this.call("ApplySecurityGroupsToLoadBalancer", signal, () =>
        this.elb.send(
          new ApplySecurityGroupsToLoadBalancerCommand({ LoadBalancerName: name, SecurityGroups: securityGroups }),
          { abortSignal: signal },
        ),
      );
    }
  }

  private async convergeProxyProtocol(
    name: string,
    lb: LoadBalancerDescription,
    instancePorts: number[],
    enabled: boolean,
    signal: AbortSignal,
  ): Promise<void> {
    const plan = proxyProtocolPlan(lb, instancePorts, enabled);
    if (plan.createPolicy) {
      await this.call("CreateLoadBalancerPolicy", signal, () =>
        this.elb.send(
          new CreateLoadBalancerPolicyCommand({
            LoadBalancerName: name,
            PolicyName: PROXY_PROTOCOL_POLICY,
            PolicyTypeName: "ProxyProtocolPolicyType",
            PolicyAttributes: [{ AttributeName: "ProxyProtocol", AttributeValue: "true" }],
          }),
          { abortSignal: signal },
        ),
      );
    }
    for (const change of plan.backendChanges) {
      await this.call("SetLoadBalancerPoliciesForBackendServer", signal, () =>
        this.elb.send(
          new SetLoadBalancerPoliciesForBackendServerCommand({
            LoadBalancerName: name,
            InstancePort: change.instancePort,
            PolicyNames: change.policyNames,
          }),
          { abortSignal: signal },
        ),
      );
    }
  }
}
