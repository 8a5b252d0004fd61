/**
 * A classic ELB's registered instances, converged to the wanted set: used by the full ensure (clb-deployer.ts) and
 * by the backends-only path, which is cloud-provider-aws's UpdateLoadBalancer for a classic ELB
 * (a describe, then the registration: bench/README.md aws-calls, node-added and node-removed columns).
 */
import {
  DeregisterInstancesFromLoadBalancerCommand,
  RegisterInstancesWithLoadBalancerCommand,
  type LoadBalancerDescription,
} from "@aws-sdk/client-elastic-load-balancing";
import { awsCall } from "../aws-call.js";
import type { AwsClients } from "../aws-types.js";
import { diffSets } from "./clb-model.js";

/** At most one register and one deregister; no call when `lb` already has exactly `instanceIds`. */
export async function convergeInstances(
  elb: AwsClients["elb"],
  lb: LoadBalancerDescription & { readonly LoadBalancerName: string },
  instanceIds: readonly string[],
  signal: AbortSignal,
): Promise<void> {
  const name = lb.LoadBalancerName;
  const current = (lb.Instances ?? []).flatMap((i) => (i.InstanceId ? [i.InstanceId] : []));
  const diff = diffSets(current, [...instanceIds]);
  const input = (ids: string[]): { LoadBalancerName: string; Instances: { InstanceId: string }[] } => ({
    LoadBalancerName: name,
    Instances: ids.map((InstanceId) => ({ InstanceId })),
  });
  const options = { abortSignal: signal };
  // Register before deregister: a node swap never leaves the load balancer with fewer backends in between.
  if (diff.add.length > 0) {
    const register = (): Promise<unknown> =>
      elb.send(new RegisterInstancesWithLoadBalancerCommand(input(diff.add)), options);
    await awsCall("RegisterInstancesWithLoadBalancer", register, { signal });
  }
  if (diff.remove.length > 0) {
    const deregister = (): Promise<unknown> =>
      elb.send(new DeregisterInstancesFromLoadBalancerCommand(input(diff.remove)), options);
    await awsCall("DeregisterInstancesFromLoadBalancer", deregister, { signal });
  }
}
