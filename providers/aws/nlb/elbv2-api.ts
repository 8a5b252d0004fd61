/**
 * The ELBv2 reads the NLB deployer makes and the tag writes, each through awsCall (throttling -> RetryAfterError,
 * transient faults retried) with the caller's AbortSignal. Lookups are by name or by ARN; the only region-wide
 * listings (listLoadBalancers, listTargetGroups without a load balancer) serve delete's tag fallback, never ensure.
 */
import {
  AddTagsCommand,
  DescribeListenersCommand,
  DescribeLoadBalancerAttributesCommand,
  DescribeLoadBalancersCommand,
  DescribeTagsCommand,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  RemoveTagsCommand,
  type ElasticLoadBalancingV2Client,
  type Listener,
  type LoadBalancer,
  type TargetGroup,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { awsCall, hasCode } from "../aws-call.js";
import type { DesiredTarget } from "./desired-nlb.js";
import { chunk, isTagDiffEmpty, type TagDiff } from "./nlb-diff.js";

/** DescribeTags takes at most 20 ARNs. */
const TAGS_PER_CALL = 20;

export function toRecord(entries: readonly { Key?: string; Value?: string }[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of entries ?? []) if (t.Key !== undefined) out[t.Key] = t.Value ?? "";
  return out;
}

export function toAwsTags(tags: Readonly<Record<string, string>>): { Key: string; Value: string }[] {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}

export class Elbv2Api {
  constructor(
    readonly client: ElasticLoadBalancingV2Client,
    private readonly onAttempt?: (operation: string) => void,
  ) {}

  /** Runs `fn` (one SDK call) under awsCall; `fn` gets the SDK's per-request options. */
  call<T>(operation: string, signal: AbortSignal, fn: (opts: { abortSignal: AbortSignal }) => Promise<T>): Promise<T> {
    return awsCall(operation, () => fn({ abortSignal: signal }), { signal, onAttempt: this.onAttempt });
  }

  /** Undefined when no load balancer has this name (LoadBalancerNotFound). */
  async findLoadBalancer(name: string, signal: AbortSignal): Promise<LoadBalancer | undefined> {
    try {
      const out = await this.call("DescribeLoadBalancers", signal, (o) =>
        this.client.send(new DescribeLoadBalancersCommand({ Names: [name] }), o),
      );
      return out.LoadBalancers?.[0];
    } catch (err) {
      if (hasCode(err, "LoadBalancerNotFound", "LoadBalancerNotFoundException")) return undefined;
      throw err;
    }
  }

  /** Undefined when no target group has this name. */
  async findTargetGroup(name: string, signal: AbortSignal): Promise<TargetGroup | undefined> {
    try {
      const out = await this.call("DescribeTargetGroups", signal, (o) =>
        this.client.send(new DescribeTargetGroupsCommand({ Names: [name] }), o),
      );
      return out.TargetGroups?.[0];
    } catch (err) {
      if (hasCode(err, "TargetGroupNotFound", "TargetGroupNotFoundException")) return undefined;
      throw err;
    }
  }

  /** Every load balancer in the region (paged). Delete's fallback only. */
  async listLoadBalancers(signal: AbortSignal): Promise<LoadBalancer[]> {
    const all: LoadBalancer[] = [];
    let marker: string | undefined;
    do {
      const out = await this.call("DescribeLoadBalancers", signal, (o) =>
        this.client.send(new DescribeLoadBalancersCommand({ Marker: marker }), o),
      );
      all.push(...(out.LoadBalancers ?? []));
      marker = out.NextMarker;
    } while (marker);
    return all;
  }

  /** The target groups of one load balancer, or (no ARN) every one in the region, paged. */
  async listTargetGroups(loadBalancerArn: string | undefined, signal: AbortSignal): Promise<TargetGroup[]> {
    const all: TargetGroup[] = [];
    let marker: string | undefined;
    do {
      try {
        const out = await this.call("DescribeTargetGroups", signal, (o) =>
          this.client.send(new DescribeTargetGroupsCommand({ LoadBalancerArn: loadBalancerArn, Marker: marker }), o),
        );
        all.push(...(out.TargetGroups ?? []));
        marker = out.NextMarker;
      } catch (err) {
        // A gone load balancer has no groups; moto answers TargetGroupNotFound for one without groups.
        if (
          loadBalancerArn !== undefined &&
          hasCode(
            err,
            "LoadBalancerNotFound",
            "LoadBalancerNotFoundException",
            "TargetGroupNotFound",
            "TargetGroupNotFoundException",
          )
        )
          return all;
        throw err;
      }
    } while (marker);
    return all;
  }

  /**
   * The target groups with these ARNs (the ones listeners forward to). A group that vanished meanwhile is left
   * out: one missing ARN fails the whole call, so then each is described on its own.
   */
  async targetGroupsByArn(arns: readonly string[], signal: AbortSignal): Promise<TargetGroup[]> {
    const unique = [...new Set(arns)];
    if (unique.length === 0) return [];
    const describe = (TargetGroupArns: string[]): Promise<TargetGroup[]> =>
      this.call("DescribeTargetGroups", signal, (o) =>
        this.client.send(new DescribeTargetGroupsCommand({ TargetGroupArns }), o),
      ).then((out) => out.TargetGroups ?? []);
    const notFound = (err: unknown): TargetGroup[] => {
      if (hasCode(err, "TargetGroupNotFound", "TargetGroupNotFoundException")) return [];
      throw err;
    };
    try {
      return await describe(unique);
    } catch (err) {
      notFound(err);
      if (unique.length === 1) return [];
      const each = await Promise.all(unique.map((arn) => describe([arn]).catch(notFound)));
      return each.flat();
    }
  }

  async listListeners(loadBalancerArn: string, signal: AbortSignal): Promise<Listener[]> {
    const all: Listener[] = [];
    let marker: string | undefined;
    do {
      const out = await this.call("DescribeListeners", signal, (o) =>
        this.client.send(new DescribeListenersCommand({ LoadBalancerArn: loadBalancerArn, Marker: marker }), o),
      );
      all.push(...(out.Listeners ?? []));
      marker = out.NextMarker;
    } while (marker);
    return all;
  }

  /** Tags of many resources, 20 ARNs per call. Resources that are gone are simply missing from the map. */
  async describeTags(arns: readonly string[], signal: AbortSignal): Promise<Map<string, Record<string, string>>> {
    const tags = new Map<string, Record<string, string>>();
    for (const batch of chunk([...new Set(arns)], TAGS_PER_CALL)) {
      const out = await this.call("DescribeTags", signal, (o) =>
        this.client.send(new DescribeTagsCommand({ ResourceArns: batch }), o),
      );
      for (const d of out.TagDescriptions ?? []) if (d.ResourceArn) tags.set(d.ResourceArn, toRecord(d.Tags));
    }
    return tags;
  }

  async loadBalancerAttributes(arn: string, signal: AbortSignal): Promise<Record<string, string>> {
    const out = await this.call("DescribeLoadBalancerAttributes", signal, (o) =>
      this.client.send(new DescribeLoadBalancerAttributesCommand({ LoadBalancerArn: arn }), o),
    );
    return toRecord(out.Attributes);
  }

  async targetGroupAttributes(arn: string, signal: AbortSignal): Promise<Record<string, string>> {
    const out = await this.call("DescribeTargetGroupAttributes", signal, (o) =>
      this.client.send(new DescribeTargetGroupAttributesCommand({ TargetGroupArn: arn }), o),
    );
    return toRecord(out.Attributes);
  }

  /**
   * Registered targets, without those already draining: a draining target that is desired again must be
   * registered again, and one that is not desired needs no second deregistration.
   */
  async registeredTargets(arn: string, signal: AbortSignal): Promise<DesiredTarget[]> {
    const out = await this.call("DescribeTargetHealth", signal, (o) =>
      this.client.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn }), o),
    );
    const targets: DesiredTarget[] = [];
    for (const d of out.TargetHealthDescriptions ?? []) {
      if (d.TargetHealth?.State === "draining" || d.Target?.Id === undefined || d.Target.Port === undefined) continue;
      targets.push({ id: d.Target.Id, port: d.Target.Port });
    }
    return targets;
  }

  /** Writes a tag diff: AddTags and RemoveTags only when there is something to write. */
  async applyTags(arn: string, diff: TagDiff, signal: AbortSignal): Promise<void> {
    if (isTagDiffEmpty(diff)) return;
    if (Object.keys(diff.add).length > 0) {
      await this.call("AddTags", signal, (o) =>
        this.client.send(new AddTagsCommand({ ResourceArns: [arn], Tags: toAwsTags(diff.add) }), o),
      );
    }
    if (diff.remove.length > 0) {
      await this.call("RemoveTags", signal, (o) =>
        this.client.send(new RemoveTagsCommand({ ResourceArns: [arn], TagKeys: [...diff.remove] }), o),
      );
    }
  }
}
