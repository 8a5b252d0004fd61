/**
 * Converging one target group: create it when missing, otherwise write only the health check, tags, attributes
 * and targets that differ. Every health-check field is sent on create and modify, so AWS (or moto, whose defaults
 * are ALB-style HTTP/30 s/5/2, reference section 6) never fills in one of its own.
 */
import {
  CreateTargetGroupCommand,
  DeregisterTargetsCommand,
  ModifyTargetGroupAttributesCommand,
  ModifyTargetGroupCommand,
  RegisterTargetsCommand,
  type TargetGroup,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import type { LoadBalancerId } from "../../../src/provider.js";
import type { HealthCheckSettings } from "../aws-types.js";
import type { DesiredTarget, DesiredTargetGroup } from "./desired-nlb.js";
import { toAwsTags, type Elbv2Api } from "./elbv2-api.js";
import { chunk, diffAttributes, diffTags, diffTargets, healthCheckDiffers, healthCheckPortString } from "./nlb-diff.js";
import { assertOwned, ownedTagKeys } from "./ownership.js";

/** cloud-provider-aws registers instance targets in chunks of 100 (reference section 2). */
export const TARGETS_PER_CALL = 100;

function healthCheckInput(hc: HealthCheckSettings): {
  HealthCheckEnabled: boolean;
  HealthCheckProtocol: HealthCheckSettings["protocol"];
  HealthCheckPort: string;
  HealthCheckPath: string | undefined;
  HealthCheckIntervalSeconds: number;
  HealthCheckTimeoutSeconds: number;
  HealthyThresholdCount: number;
  UnhealthyThresholdCount: number;
} {
  return {
    HealthCheckEnabled: true,
    HealthCheckProtocol: hc.protocol,
    HealthCheckPort: healthCheckPortString(hc),
    // AWS rejects a path on TCP checks.
    HealthCheckPath: hc.protocol === "TCP" ? undefined : (hc.path ?? "/"),
    HealthCheckIntervalSeconds: hc.intervalSeconds,
    HealthCheckTimeoutSeconds: hc.timeoutSeconds,
    HealthyThresholdCount: hc.healthyThreshold,
    UnhealthyThresholdCount: hc.unhealthyThreshold,
  };
}

function awsTargets(targets: readonly DesiredTarget[]): { Id: string; Port: number }[] {
  return targets.map((t) => ({ Id: t.id, Port: t.port }));
}

/**
 * Registers before it deregisters, so a selector flip (every old target replaced) never leaves the group empty
 * (aws-load-balancer-controller#3621, reference section 4 item 3).
 */
async function syncTargets(
  api: Elbv2Api,
  arn: string,
  current: readonly DesiredTarget[],
  desired: readonly DesiredTarget[],
  signal: AbortSignal,
): Promise<void> {
  const { register, deregister } = diffTargets(current, desired);
  for (const batch of chunk(register, TARGETS_PER_CALL)) {
    await api.call("RegisterTargets", signal, (o) =>
      api.client.send(new RegisterTargetsCommand({ TargetGroupArn: arn, Targets: awsTargets(batch) }), o),
    );
  }
  for (const batch of chunk(deregister, TARGETS_PER_CALL)) {
    await api.call("DeregisterTargets", signal, (o) =>
      api.client.send(new DeregisterTargetsCommand({ TargetGroupArn: arn, Targets: awsTargets(batch) }), o),
    );
  }
}

async function modifyAttributes(
  api: Elbv2Api,
  arn: string,
  changed: Readonly<Record<string, string>>,
  signal: AbortSignal,
): Promise<void> {
  if (Object.keys(changed).length === 0) return;
  const Attributes = Object.entries(changed).map(([Key, Value]) => ({ Key, Value }));
  await api.call("ModifyTargetGroupAttributes", signal, (o) =>
    api.client.send(new ModifyTargetGroupAttributesCommand({ TargetGroupArn: arn, Attributes }), o),
  );
}

async function createTargetGroup(api: Elbv2Api, desired: DesiredTargetGroup, signal: AbortSignal): Promise<string> {
  const out = await api.call("CreateTargetGroup", signal, (o) =>
    api.client.send(
      new CreateTargetGroupCommand({
        Name: desired.name,
        Protocol: desired.protocol,
        Port: desired.port,
        VpcId: desired.vpcId,
        TargetType: desired.targetType,
        ...healthCheckInput(desired.healthCheck),
        Tags: toAwsTags(desired.tags),
      }),
      o,
    ),
  );
  const arn = out.TargetGroups?.[0]?.TargetGroupArn;
  if (arn === undefined) throw new Error(`CreateTargetGroup ${desired.name} returned no ARN`);
  // A new group has AWS's defaults: write every attribute we manage, and every target.
  await modifyAttributes(api, arn, desired.attributes, signal);
  await syncTargets(api, arn, [], desired.targets, signal);
  return arn;
}

/** What ensure already knows about a target group attached to the load balancer. */
export interface KnownTargetGroup {
  readonly group: TargetGroup;
  readonly tags: Readonly<Record<string, string>> | undefined;
}

/**
 * Converges one target group and returns its ARN. `known` is the group of that name attached to the load balancer
 * (with the tags ensure fetched in its batch); otherwise it is looked up by name, which also finds a group a
 * crash left unattached. A group with our name but without our tags is never touched (ForeignResourceError).
 */
export async function ensureTargetGroup(
  api: Elbv2Api,
  id: LoadBalancerId,
  desired: DesiredTargetGroup,
  known: KnownTargetGroup | undefined,
  signal: AbortSignal,
): Promise<string> {
  let group = known?.group;
  let tags = known?.tags;
  if (group === undefined) {
    group = await api.findTargetGroup(desired.name, signal);
    if (group === undefined) return createTargetGroup(api, desired, signal);
    tags = (await api.describeTags([group.TargetGroupArn ?? ""], signal)).get(group.TargetGroupArn ?? "");
  }
  assertOwned("target group", desired.name, tags, id);
  const arn = group.TargetGroupArn;
  if (arn === undefined) throw new Error(`target group ${desired.name} has no ARN`);
  if (healthCheckDiffers(group, desired.healthCheck)) {
    await api.call("ModifyTargetGroup", signal, (o) =>
      api.client.send(
        new ModifyTargetGroupCommand({ TargetGroupArn: arn, ...healthCheckInput(desired.healthCheck) }),
        o,
      ),
    );
  }
  await api.applyTags(arn, diffTags(tags ?? {}, desired.tags, ownedTagKeys(id)), signal);
  if (Object.keys(desired.attributes).length > 0) {
    const current = await api.targetGroupAttributes(arn, signal);
    await modifyAttributes(api, arn, diffAttributes(current, desired.attributes), signal);
  }
  await syncTargets(api, arn, await api.registeredTargets(arn, signal), desired.targets, signal);
  return arn;
}
