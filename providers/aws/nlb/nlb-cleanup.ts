/**
 * Deleting NLB resources: a load balancer (its listeners go with it), then the target groups we own, which AWS
 * reports as ResourceInUse until the load balancer's deletion has released them (cloud-provider-aws deletes in
 * the same order, reference section 2 item 7). Everything treats "already gone" as success.
 */
import {
  DeleteLoadBalancerCommand,
  DeleteTargetGroupCommand,
  type LoadBalancer,
  type TargetGroup,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import type { Logger } from "pino";
import type { LoadBalancerId } from "../../../src/provider.js";
import { RetryAfterError } from "../../../src/errors.js";
import { hasCode } from "../aws-call.js";
import type { Elbv2Api } from "./elbv2-api.js";
import { isOwned } from "./ownership.js";

export interface DeleteRetry {
  /** Tries of DeleteTargetGroup while it answers ResourceInUse, the first included. */
  readonly attempts: number;
  readonly delayMs: number;
  readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
}

/** Retry the Service after this long when a target group is still in use after every attempt. */
const IN_USE_RETRY_AFTER_MS = 15_000;

export interface CleanupContext {
  readonly api: Elbv2Api;
  readonly retry: DeleteRetry;
  readonly logger: Logger | undefined;
}

export async function deleteTargetGroup(ctx: CleanupContext, tg: TargetGroup, signal: AbortSignal): Promise<void> {
  const arn = tg.TargetGroupArn;
  if (arn === undefined) return;
  for (let attempt = 1; ; attempt++) {
    try {
      await ctx.api.call("DeleteTargetGroup", signal, (o) =>
        ctx.api.client.send(new DeleteTargetGroupCommand({ TargetGroupArn: arn }), o),
      );
      ctx.logger?.info({ targetGroup: tg.TargetGroupName }, "deleted target group");
      return;
    } catch (err) {
      if (hasCode(err, "TargetGroupNotFound", "TargetGroupNotFoundException")) return;
      if (!hasCode(err, "ResourceInUse", "ResourceInUseException")) throw err;
      if (attempt >= ctx.retry.attempts) {
        throw new RetryAfterError(`target group ${tg.TargetGroupName ?? arn} is still in use`, IN_USE_RETRY_AFTER_MS, {
          cause: err,
        });
      }
      await ctx.retry.sleep(ctx.retry.delayMs, signal);
    }
  }
}

/**
 * Deletes `lb`, then the target groups it used that `id` owns, except those named in `keep` (a replacement load
 * balancer will use them). The target groups are listed before the load balancer goes: afterwards nothing links
 * them to it.
 */
export async function deleteLoadBalancerAndGroups(
  ctx: CleanupContext,
  lb: LoadBalancer,
  id: LoadBalancerId,
  keep: ReadonlySet<string>,
  signal: AbortSignal,
): Promise<void> {
  const arn = lb.LoadBalancerArn;
  if (arn === undefined) return;
  // The groups its listeners use plus those AWS associates with it (moto keeps the latter stale after a
  // ModifyListener, so neither alone is enough there).
  const listeners = await ctx.api.listListeners(arn, signal).catch((err: unknown) => {
    if (hasCode(err, "LoadBalancerNotFound", "LoadBalancerNotFoundException")) return [];
    throw err;
  });
  const forwarded = listeners.flatMap(
    (l) => l.DefaultActions?.flatMap((a) => (a.TargetGroupArn ? [a.TargetGroupArn] : [])) ?? [],
  );
  const byArn = new Map<string, TargetGroup>();
  for (const g of [
    ...(await ctx.api.targetGroupsByArn(forwarded, signal)),
    ...(await ctx.api.listTargetGroups(arn, signal)),
  ]) {
    if (g.TargetGroupArn !== undefined) byArn.set(g.TargetGroupArn, g);
  }
  const groups = [...byArn.values()];
  const tags = await ctx.api.describeTags(
    groups.flatMap((g) => (g.TargetGroupArn ? [g.TargetGroupArn] : [])),
    signal,
  );
  try {
    await ctx.api.call("DeleteLoadBalancer", signal, (o) =>
      ctx.api.client.send(new DeleteLoadBalancerCommand({ LoadBalancerArn: arn }), o),
    );
    ctx.logger?.info({ loadBalancer: lb.LoadBalancerName }, "deleted load balancer");
  } catch (err) {
    if (!hasCode(err, "LoadBalancerNotFound", "LoadBalancerNotFoundException")) throw err;
  }
  for (const g of groups) {
    if (keep.has(g.TargetGroupName ?? "") || !isOwned(tags.get(g.TargetGroupArn ?? ""), id)) continue;
    await deleteTargetGroup(ctx, g, signal);
  }
}

/** "k8s-{ns}-{name}-" of names.ts: every name of this Service, whatever its hash, starts with it. */
export function servicePrefix(name: string): string {
  return name.slice(0, name.lastIndexOf("-") + 1);
}

/**
 * Everything `id` owns, for delete. Candidates are found cheaply, ownership by tags:
 * 1. the load balancer under each name it can have now (one per scheme: the scheme is part of the name), by name;
 * 2. every load balancer and target group in the region whose name has this Service's prefix (a paged listing,
 *    400 per call, compared client-side), which catches resources made under an older name (another scheme,
 *    cluster id or hash) and target groups a crash left unattached. Only these few candidates go to
 *    DescribeTags, 20 per call: aws-load-balancer-controller fetches the tags of every resource in the region on
 *    each reconcile (reference section 3, #3171); here the listing happens once per Service deletion.
 */
export async function deleteOwned(
  ctx: CleanupContext,
  id: LoadBalancerId,
  names: readonly string[],
  signal: AbortSignal,
): Promise<void> {
  const byName = await Promise.all(names.map((n) => ctx.api.findLoadBalancer(n, signal)));
  const prefixes = new Set(names.map(servicePrefix));
  const matches = (name: string | undefined): boolean =>
    name !== undefined && [...prefixes].some((p) => name.startsWith(p));
  const [allLbs, allTgs] = await Promise.all([
    ctx.api.listLoadBalancers(signal),
    ctx.api.listTargetGroups(undefined, signal),
  ]);
  const lbs = new Map<string, LoadBalancer>();
  for (const lb of [...byName, ...allLbs.filter((l) => matches(l.LoadBalancerName))]) {
    if (lb?.LoadBalancerArn !== undefined && lb.Type === "network") lbs.set(lb.LoadBalancerArn, lb);
  }
  const tgs = allTgs.filter((g) => matches(g.TargetGroupName));
  const tags = await ctx.api.describeTags(
    [...lbs.keys(), ...tgs.flatMap((g) => (g.TargetGroupArn ? [g.TargetGroupArn] : []))],
    signal,
  );
  for (const [arn, lb] of lbs) {
    if (isOwned(tags.get(arn), id)) await deleteLoadBalancerAndGroups(ctx, lb, id, new Set(), signal);
    else
      ctx.logger?.warn(
        { loadBalancer: lb.LoadBalancerName },
        "load balancer with this Service's name is not ours; left alone",
      );
  }
  for (const g of tgs) if (isOwned(tags.get(g.TargetGroupArn ?? ""), id)) await deleteTargetGroup(ctx, g, signal);
}
