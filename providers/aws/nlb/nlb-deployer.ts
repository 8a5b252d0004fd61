/**
 * The NLB deployer: converges a Network Load Balancer, its target groups, targets and listeners to desiredNlb()
 * (desired-nlb.ts), writing only what differs (nlb-diff.ts).
 *
 * ensure, in order:
 * 1. DescribeLoadBalancers by name (never a region-wide list). Missing: an owned load balancer under the other
 *    scheme's name is deleted first (a scheme cannot change in place, and an NLB target group serves one load
 *    balancer, so the replacement takes its groups over), then CreateLoadBalancer.
 * 2. Existing: DescribeListeners, then DescribeTargetGroups for the groups they forward to (by ARN: what an NLB
 *    uses is exactly its listeners' default actions; moto never updates its LoadBalancerArn filter after a
 *    ModifyListener), then one DescribeTags for the load balancer, its groups and listeners (20 ARNs per call);
 *    the load balancer must carry our ownership tags before anything is written (a name clash with a stranger
 *    is a ForeignResourceError).
 * 3. Load balancer tags, subnets, security groups, attributes: each written only when different.
 * 4. Target groups before listeners, so a listener only ever points at a group that already has its targets.
 * 5. Listeners: create missing, modify changed, delete extra.
 * 6. Target groups of ours the listeners used before this ensure and no listener uses now are deleted.
 *
 * A converged Service costs DescribeLoadBalancers, DescribeListeners, DescribeTargetGroups, DescribeTags and
 * DescribeLoadBalancerAttributes, plus per target group DescribeTargetHealth (and DescribeTargetGroupAttributes
 * when target-group-attributes or proxy-protocol is set): 5 + ports calls (7 for two ports), and no write.
 * cloud-provider-aws makes about ten describes and one needless ModifyTargetGroup for an ETP=Local NLB
 * (reference section 3).
 */
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  DeleteListenerCommand,
  ModifyListenerCommand,
  ModifyLoadBalancerAttributesCommand,
  SetSecurityGroupsCommand,
  SetSubnetsCommand,
  type Listener,
  type LoadBalancer,
  type TargetGroup,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { setTimeout as delay } from "node:timers/promises";
import type { Logger } from "pino";
import type { LoadBalancerId } from "../../../src/provider.js";
import type { AwsClients, DeployInput, LoadBalancerDeployer, Scheme } from "../aws-types.js";
import { hasCode } from "../aws-call.js";
import { loadBalancerName } from "../names.js";
import { desiredNlb, type DesiredListener, type DesiredLoadBalancer, type DesiredNlb } from "./desired-nlb.js";
import { Elbv2Api, toAwsTags } from "./elbv2-api.js";
import { deleteLoadBalancerAndGroups, deleteOwned, deleteTargetGroup, type CleanupContext } from "./nlb-cleanup.js";
import { diffAttributes, diffTags, planListeners, sameSet, type CurrentListener } from "./nlb-diff.js";
import { ensureTargetGroup } from "./nlb-target-groups.js";
import { ForeignResourceError, assertOwned, isOwned, ownedTagKeys } from "./ownership.js";

export interface NlbDeployerOptions {
  readonly clients: Pick<AwsClients, "elbv2">;
  readonly logger?: Logger;
  /** Counts every AWS call attempt (metrics). */
  readonly onAttempt?: (operation: string) => void;
  /** DeleteTargetGroup tries while the group is still in use (ResourceInUse). Default 5, 2 s apart. */
  readonly targetGroupDeleteAttempts?: number;
  readonly targetGroupDeleteDelayMs?: number;
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

const SCHEMES: readonly Scheme[] = ["internet-facing", "internal"];

interface Observed {
  readonly lb: LoadBalancer;
  readonly arn: string;
  readonly listeners: readonly Listener[];
  /** Target groups the listeners forwarded to before this ensure wrote anything. */
  readonly attached: readonly TargetGroup[];
  readonly tags: ReadonlyMap<string, Record<string, string>>;
}

/** The groups a listener's only default action forwards to: none unless it has exactly one, of type forward. */
function forwardedTargetGroups(l: Listener): string[] {
  const action = l.DefaultActions?.length === 1 ? l.DefaultActions[0] : undefined;
  if (action?.Type !== "forward") return [];
  const weighted =
    action.ForwardConfig?.TargetGroups?.flatMap((t) => (t.TargetGroupArn ? [t.TargetGroupArn] : [])) ?? [];
  if (weighted.length > 0) return weighted;
  return action.TargetGroupArn !== undefined ? [action.TargetGroupArn] : [];
}

function toCurrentListener(l: Listener): CurrentListener {
  return {
    arn: l.ListenerArn ?? "",
    port: l.Port ?? 0,
    protocol: l.Protocol ?? "",
    certificateArn: l.Certificates?.[0]?.CertificateArn,
    sslPolicy: l.SslPolicy,
    targetGroupArns: forwardedTargetGroups(l),
  };
}

function listenerInput(
  d: DesiredListener,
  targetGroupArn: string,
): {
  Port: number;
  Protocol: DesiredListener["protocol"];
  Certificates: { CertificateArn: string }[] | undefined;
  SslPolicy: string | undefined;
  DefaultActions: { Type: "forward"; TargetGroupArn: string }[];
} {
  return {
    Port: d.port,
    Protocol: d.protocol,
    Certificates: d.certificateArn !== undefined ? [{ CertificateArn: d.certificateArn }] : undefined,
    SslPolicy: d.sslPolicy,
    DefaultActions: [{ Type: "forward", TargetGroupArn: targetGroupArn }],
  };
}

export class NlbDeployer implements LoadBalancerDeployer {
  private readonly api: Elbv2Api;
  private readonly cleanup: CleanupContext;
  private readonly logger: Logger | undefined;

  constructor(options: NlbDeployerOptions) {
    this.api = new Elbv2Api(options.clients.elbv2, options.onAttempt);
    this.logger = options.logger;
    this.cleanup = {
      api: this.api,
      logger: options.logger,
      retry: {
        attempts: options.targetGroupDeleteAttempts ?? 5,
        delayMs: options.targetGroupDeleteDelayMs ?? 2_000,
        sleep: options.sleep ?? ((ms, signal) => delay(ms, undefined, { signal })),
      },
    };
  }

  async ensure(input: DeployInput, signal: AbortSignal): Promise<{ readonly dnsName: string }> {
    signal.throwIfAborted();
    const desired = desiredNlb(input);
    const id = input.spec.id;
    const observed = await this.observeOrCreate(desired, id, signal);
    await this.syncLoadBalancer(observed, desired.loadBalancer, id, signal);

    const attachedByName = new Map(observed.attached.map((g) => [g.TargetGroupName ?? "", g]));
    const tgArns = new Map<string, string>();
    for (const tg of desired.targetGroups) {
      const group = attachedByName.get(tg.name);
      const known = group ? { group, tags: observed.tags.get(group.TargetGroupArn ?? "") } : undefined;
      tgArns.set(tg.name, await ensureTargetGroup(this.api, id, tg, known, signal));
    }

    await this.syncListeners(observed, desired, tgArns, id, signal);

    const used = new Set(tgArns.values());
    for (const g of observed.attached) {
      if (used.has(g.TargetGroupArn ?? "") || !isOwned(observed.tags.get(g.TargetGroupArn ?? ""), id)) continue;
      await deleteTargetGroup(this.cleanup, g, signal);
    }
    return { dnsName: observed.lb.DNSName ?? "" };
  }

  async delete(id: LoadBalancerId, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    await deleteOwned(
      this.cleanup,
      id,
      SCHEMES.map((s) => loadBalancerName(id, "nlb", s)),
      signal,
    );
  }

  private async observeOrCreate(desired: DesiredNlb, id: LoadBalancerId, signal: AbortSignal): Promise<Observed> {
    const want = desired.loadBalancer;
    const lb = await this.api.findLoadBalancer(want.name, signal);
    if (lb === undefined) return this.create(desired, id, signal);
    const arn = lb.LoadBalancerArn;
    if (arn === undefined) throw new Error(`load balancer ${want.name} has no ARN`);
    const listeners = await this.api.listListeners(arn, signal);
    const attached = await this.api.targetGroupsByArn(
      listeners.flatMap((l) => toCurrentListener(l).targetGroupArns),
      signal,
    );
    const arns = [
      arn,
      ...attached.map((g) => g.TargetGroupArn ?? ""),
      ...listeners.map((l) => l.ListenerArn ?? ""),
    ].filter((a) => a !== "");
    const tags = await this.api.describeTags(arns, signal);
    assertOwned("load balancer", want.name, tags.get(arn), id);
    if (lb.Type !== "network")
      throw new ForeignResourceError("load balancer", want.name, `type ${lb.Type ?? "unknown"}, not network`);
    return { lb, arn, listeners, attached, tags };
  }

  private async create(desired: DesiredNlb, id: LoadBalancerId, signal: AbortSignal): Promise<Observed> {
    const want = desired.loadBalancer;
    // The other scheme's load balancer goes first: its target groups (same names) move to the new one.
    const keep = new Set(desired.targetGroups.map((g) => g.name));
    for (const scheme of SCHEMES) {
      if (scheme === want.scheme) continue;
      const old = await this.api.findLoadBalancer(loadBalancerName(id, "nlb", scheme), signal);
      if (old?.LoadBalancerArn === undefined) continue;
      if (!isOwned((await this.api.describeTags([old.LoadBalancerArn], signal)).get(old.LoadBalancerArn), id)) continue;
      this.logger?.info(
        { loadBalancer: old.LoadBalancerName, scheme: want.scheme },
        "replacing load balancer: scheme changed",
      );
      await deleteLoadBalancerAndGroups(this.cleanup, old, id, keep, signal);
    }
    const out = await this.api.call("CreateLoadBalancer", signal, (o) =>
      this.api.client.send(
        new CreateLoadBalancerCommand({
          Name: want.name,
          Type: "network",
          Scheme: want.scheme,
          IpAddressType: "ipv4",
          SubnetMappings: want.subnetMappings.map((m) => ({ SubnetId: m.subnetId, AllocationId: m.allocationId })),
          SecurityGroups: want.securityGroupIds.length > 0 ? [...want.securityGroupIds] : undefined,
          Tags: toAwsTags(want.tags),
        }),
        o,
      ),
    );
    const lb = out.LoadBalancers?.[0];
    if (lb?.LoadBalancerArn === undefined) throw new Error(`CreateLoadBalancer ${want.name} returned no load balancer`);
    this.logger?.info({ loadBalancer: want.name }, "created load balancer");
    // Created with the desired tags, subnets and security groups: syncLoadBalancer finds nothing to write there.
    const tags = new Map([[lb.LoadBalancerArn, { ...want.tags }]]);
    return { lb, arn: lb.LoadBalancerArn, listeners: [], attached: [], tags };
  }

  private async syncLoadBalancer(
    observed: Observed,
    want: DesiredLoadBalancer,
    id: LoadBalancerId,
    signal: AbortSignal,
  ): Promise<void> {
    const { lb, arn } = observed;
    await this.api.applyTags(arn, diffTags(observed.tags.get(arn) ?? {}, want.tags, ownedTagKeys(id)), signal);
    const subnets = (lb.AvailabilityZones ?? []).flatMap((z) => (z.SubnetId ? [z.SubnetId] : []));
    if (
      !sameSet(
        subnets,
        want.subnetMappings.map((m) => m.subnetId),
      )
    ) {
      const SubnetMappings = want.subnetMappings.map((m) => ({ SubnetId: m.subnetId, AllocationId: m.allocationId }));
      await this.api.call("SetSubnets", signal, (o) =>
        this.api.client.send(new SetSubnetsCommand({ LoadBalancerArn: arn, SubnetMappings }), o),
      );
    }
    if (!sameSet(lb.SecurityGroups ?? [], want.securityGroupIds)) {
      const SecurityGroups = [...want.securityGroupIds];
      await this.api.call("SetSecurityGroups", signal, (o) =>
        this.api.client.send(new SetSecurityGroupsCommand({ LoadBalancerArn: arn, SecurityGroups }), o),
      );
    }
    const changed = diffAttributes(await this.api.loadBalancerAttributes(arn, signal), want.attributes);
    if (Object.keys(changed).length > 0) {
      const Attributes = Object.entries(changed).map(([Key, Value]) => ({ Key, Value }));
      await this.api.call("ModifyLoadBalancerAttributes", signal, (o) =>
        this.api.client.send(new ModifyLoadBalancerAttributesCommand({ LoadBalancerArn: arn, Attributes }), o),
      );
    }
  }

  private async syncListeners(
    observed: Observed,
    desired: DesiredNlb,
    tgArns: ReadonlyMap<string, string>,
    id: LoadBalancerId,
    signal: AbortSignal,
  ): Promise<void> {
    const plan = planListeners(observed.listeners.map(toCurrentListener), desired.listeners, tgArns);
    const arnOf = (d: DesiredListener): string => tgArns.get(d.targetGroupName) ?? "";
    for (const d of plan.create) {
      await this.api.call("CreateListener", signal, (o) =>
        this.api.client.send(
          new CreateListenerCommand({
            LoadBalancerArn: observed.arn,
            ...listenerInput(d, arnOf(d)),
            Tags: toAwsTags(d.tags),
          }),
          o,
        ),
      );
    }
    for (const { arn, desired: d } of plan.modify) {
      await this.api.call("ModifyListener", signal, (o) =>
        this.api.client.send(new ModifyListenerCommand({ ListenerArn: arn, ...listenerInput(d, arnOf(d)) }), o),
      );
    }
    const removed = new Set(plan.remove);
    for (const arn of plan.remove) {
      try {
        await this.api.call("DeleteListener", signal, (o) =>
          this.api.client.send(new DeleteListenerCommand({ ListenerArn: arn }), o),
        );
      } catch (err) {
        if (!hasCode(err, "ListenerNotFound", "ListenerNotFoundException")) throw err;
      }
    }
    const byPort = new Map(desired.listeners.map((d) => [d.port, d]));
    for (const l of observed.listeners) {
      const d = byPort.get(l.Port ?? 0);
      if (d === undefined || l.ListenerArn === undefined || removed.has(l.ListenerArn)) continue;
      await this.api.applyTags(
        l.ListenerArn,
        diffTags(observed.tags.get(l.ListenerArn) ?? {}, d.tags, ownedTagKeys(id)),
        signal,
      );
    }
  }
}
