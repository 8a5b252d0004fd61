/**
 * The Services bench/aws-calls.ts reconciles against moto, and the check that a delete left nothing owned.
 */
import { DescribeSecurityGroupsCommand } from "@aws-sdk/client-ec2";
import type { V1Node, V1Service } from "@kubernetes/client-node";
import { TAG_RESOURCE, type AwsClients } from "../../providers/aws/aws-types.js";
import { BACKEND_SG_RESOURCE } from "../../providers/aws/security-groups/backend-security-group.js";
import { deriveSpec } from "../../src/model/derive-spec.js";
import type { LoadBalancerSpec } from "../../src/provider.js";
import { listOwned } from "../../test/env/aws-world.js";
import {
  newService,
  tweakAnnotation,
  tweakLocal,
  tweakNamespace,
  tweakPorts,
  type ServiceTweak,
} from "../../test/fixtures/services.js";

export type BenchKind = "nlb" | "clb";

const TYPE_ANNOTATION = "service.beta.kubernetes.io/aws-load-balancer-type";
const NODE_PORT_BASE = 30_000;
/** Two NodePorts per Service (traffic, health check) inside the default 30000-32767 range. */
export const MAX_SERVICES = Math.floor((32_767 - NODE_PORT_BASE + 1) / 2);

export interface BenchService {
  readonly service: V1Service;
  /** externalTrafficPolicy Local: an HTTP health check on healthCheckNodePort (CPA's ModifyTargetGroup case). */
  readonly local: boolean;
}

const tweakUid =
  (uid: string): ServiceTweak =>
  (svc) => {
    svc.metadata!.uid = uid;
  };

/**
 * `n` Services of one kind in namespace `bench-<kind>-<n>`, one TCP port each with its own NodePort; every
 * even-numbered one (so the single Service at n = 1 too) has externalTrafficPolicy Local.
 */
export function benchServices(kind: BenchKind, n: number): BenchService[] {
  const namespace = `bench-${kind}-${n}`;
  return Array.from({ length: n }, (_, i) => {
    const local = i % 2 === 0;
    const name = `svc-${String(i).padStart(4, "0")}`;
    const tweaks: ServiceTweak[] = [
      tweakNamespace(namespace),
      tweakUid(`uid-${namespace}-${name}`),
      tweakPorts({ name: "tcp", protocol: "TCP", port: 80, targetPort: 8080, nodePort: NODE_PORT_BASE + 2 * i }),
    ];
    if (local) tweaks.push(tweakLocal(NODE_PORT_BASE + 2 * i + 1));
    if (kind === "nlb") tweaks.push(tweakAnnotation(TYPE_ANNOTATION, "nlb"));
    return { service: newService(name, ...tweaks), local };
  });
}

export function benchSpecs(
  services: readonly BenchService[],
  nodes: readonly V1Node[],
  clusterId: string,
): LoadBalancerSpec[] {
  return services.map((s) => deriveSpec(s.service, [], nodes, { clusterId }));
}

export interface Leftovers {
  readonly loadBalancers: number;
  readonly classicLoadBalancers: number;
  readonly targetGroups: number;
  readonly listeners: number;
  /** Security groups tagged as the cluster's, other than the shared backend group. */
  readonly securityGroups: number;
  /** The cluster's shared backend group: kept on purpose when Services go (backend-security-group.ts). */
  readonly sharedBackendGroups: number;
}

/** What the cluster still owns in the account, by the ownership tags (test/env/aws-world.ts listOwned). */
export async function leftovers(clients: AwsClients, clusterId: string): Promise<Leftovers> {
  const owned = await listOwned(clients, { clusterId });
  let shared = 0;
  if (owned.securityGroups.length > 0) {
    const out = await clients.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: owned.securityGroups }));
    shared = (out.SecurityGroups ?? []).filter((g) =>
      (g.Tags ?? []).some((t) => t.Key === TAG_RESOURCE && t.Value === BACKEND_SG_RESOURCE),
    ).length;
  }
  return {
    loadBalancers: owned.loadBalancers.length,
    classicLoadBalancers: owned.classicLoadBalancers.length,
    targetGroups: owned.targetGroups.length,
    listeners: owned.listeners.length,
    securityGroups: owned.securityGroups.length - shared,
    sharedBackendGroups: shared,
  };
}

export function describeLeftovers(l: Leftovers): string {
  const service = l.loadBalancers + l.classicLoadBalancers + l.targetGroups + l.listeners + l.securityGroups;
  const parts =
    `${l.loadBalancers} NLBs, ${l.classicLoadBalancers} classic ELBs, ${l.targetGroups} target groups, ` +
    `${l.listeners} listeners, ${l.securityGroups} per-Service security groups`;
  return (
    `${service === 0 ? "nothing per-Service remains" : `LEFTOVERS: ${service} per-Service resources remain`} (${parts}); ` +
    `${l.sharedBackendGroups} shared backend security group(s) kept by design`
  );
}
