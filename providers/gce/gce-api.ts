/**
 * The Compute calls the deployer makes, one method each, over GceClients: reads return undefined on 404, every
 * mutating call is awaited to DONE through OperationWaiter (gce-operations.ts), and deletes report whether the
 * resource was deleted, already gone, or still in use by another resource.
 *
 * "In use": Compute refuses to delete a resource another one references with HTTP 400
 * resourceInUseByAnotherResource, or finishes the delete operation with RESOURCE_IN_USE_BY_ANOTHER_RESOURCE. The
 * REST client keeps only the HTTP status of an error (the `errors[].reason` list is dropped by google-gax's
 * decoder), so a 400 answer to a DELETE counts as in use: a DELETE has no body, so a 400 can only be about the
 * resource's state. Callers use it only for shared resources and otherwise treat it as an error.
 */
import type { protos } from "@google-cloud/compute";
import type { CallOptions } from "google-gax";
import type { CloudCallObserver } from "../../src/cloud-call-observer.js";
import { type GceCallOptions, gceCall, httpStatusOf, isNotFound } from "./gce-call.js";
import { GceOperationError, OperationWaiter, operationOf } from "./gce-operations.js";
import type { GceClients } from "./gce-types.js";

type IHealthCheck = protos.google.cloud.compute.v1.IHealthCheck;
type IBackendService = protos.google.cloud.compute.v1.IBackendService;
type IForwardingRule = protos.google.cloud.compute.v1.IForwardingRule;
type IFirewall = protos.google.cloud.compute.v1.IFirewall;
type IInstanceGroup = protos.google.cloud.compute.v1.IInstanceGroup;
type ISubnetwork = protos.google.cloud.compute.v1.ISubnetwork;

export type DeleteOutcome = "deleted" | "notFound" | "inUse";

type Lro = readonly [{ readonly latestResponse?: unknown }, ...unknown[]];

export interface GceApiOptions {
  readonly clients: GceClients;
  readonly project: string;
  readonly region: string;
  readonly waiter: OperationWaiter;
  readonly minRetryDelayMs?: number;
  /** Told of every Compute request sent (metrics). */
  readonly observer?: CloudCallObserver | undefined;
}

export class GceApi {
  constructor(private readonly options: GceApiOptions) {}

  private get c(): GceClients {
    return this.options.clients;
  }

  private callOptions(signal: AbortSignal): GceCallOptions {
    return { signal, minRetryDelayMs: this.options.minRetryDelayMs, observer: this.options.observer };
  }

  private async read<T>(
    operation: string,
    signal: AbortSignal,
    fn: (o: CallOptions) => Promise<readonly [T, ...unknown[]]>,
  ): Promise<T | undefined> {
    try {
      const [out] = await gceCall(operation, fn, this.callOptions(signal));
      return out;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  private async mutate(operation: string, signal: AbortSignal, fn: (o: CallOptions) => Promise<Lro>): Promise<void> {
    const [lro] = await gceCall(operation, fn, this.callOptions(signal));
    await this.options.waiter.wait(operation, operationOf(lro), signal);
  }

  private async remove(
    operation: string,
    signal: AbortSignal,
    fn: (o: CallOptions) => Promise<Lro>,
  ): Promise<DeleteOutcome> {
    try {
      await this.mutate(operation, signal, fn);
      return "deleted";
    } catch (err) {
      if (isNotFound(err) || (err instanceof GceOperationError && err.codes.includes("RESOURCE_NOT_FOUND")))
        return "notFound";
      if (
        httpStatusOf(err) === 400 ||
        (err instanceof GceOperationError && err.codes.includes("RESOURCE_IN_USE_BY_ANOTHER_RESOURCE"))
      )
        return "inUse";
      throw err;
    }
  }

  private get project(): string {
    return this.options.project;
  }

  private get region(): string {
    return this.options.region;
  }

  // Subnetworks (read only).
  getSubnetwork(region: string, subnetwork: string, signal: AbortSignal): Promise<ISubnetwork | undefined> {
    return this.read("subnetworks.get", signal, (o) =>
      this.c.subnetworks.get({ project: this.project, region, subnetwork }, o),
    );
  }

  // Health checks (global).
  getHealthCheck(healthCheck: string, signal: AbortSignal): Promise<IHealthCheck | undefined> {
    return this.read("healthChecks.get", signal, (o) =>
      this.c.healthChecks.get({ project: this.project, healthCheck }, o),
    );
  }
  insertHealthCheck(healthCheckResource: IHealthCheck, signal: AbortSignal): Promise<void> {
    return this.mutate("healthChecks.insert", signal, (o) =>
      this.c.healthChecks.insert({ project: this.project, healthCheckResource }, o),
    );
  }
  updateHealthCheck(healthCheck: string, healthCheckResource: IHealthCheck, signal: AbortSignal): Promise<void> {
    return this.mutate("healthChecks.update", signal, (o) =>
      this.c.healthChecks.update({ project: this.project, healthCheck, healthCheckResource }, o),
    );
  }
  deleteHealthCheck(healthCheck: string, signal: AbortSignal): Promise<DeleteOutcome> {
    return this.remove("healthChecks.delete", signal, (o) =>
      this.c.healthChecks.delete({ project: this.project, healthCheck }, o),
    );
  }

  // Firewalls (global).
  getFirewall(firewall: string, signal: AbortSignal): Promise<IFirewall | undefined> {
    return this.read("firewalls.get", signal, (o) => this.c.firewalls.get({ project: this.project, firewall }, o));
  }
  insertFirewall(firewallResource: IFirewall, signal: AbortSignal): Promise<void> {
    return this.mutate("firewalls.insert", signal, (o) =>
      this.c.firewalls.insert({ project: this.project, firewallResource }, o),
    );
  }
  patchFirewall(firewall: string, firewallResource: IFirewall, signal: AbortSignal): Promise<void> {
    return this.mutate("firewalls.patch", signal, (o) =>
      this.c.firewalls.patch({ project: this.project, firewall, firewallResource }, o),
    );
  }
  deleteFirewall(firewall: string, signal: AbortSignal): Promise<DeleteOutcome> {
    return this.remove("firewalls.delete", signal, (o) =>
      this.c.firewalls.delete({ project: this.project, firewall }, o),
    );
  }

  // Regional backend services.
  getBackendService(backendService: string, signal: AbortSignal): Promise<IBackendService | undefined> {
    return this.read("regionBackendServices.get", signal, (o) =>
      this.c.backendServices.get({ project: this.project, region: this.region, backendService }, o),
    );
  }
  insertBackendService(backendServiceResource: IBackendService, signal: AbortSignal): Promise<void> {
    return this.mutate("regionBackendServices.insert", signal, (o) =>
      this.c.backendServices.insert({ project: this.project, region: this.region, backendServiceResource }, o),
    );
  }
  /** PUT with the fingerprint of the version read: a concurrent change makes it fail (412) instead of being overwritten. */
  updateBackendService(
    backendService: string,
    backendServiceResource: IBackendService,
    signal: AbortSignal,
  ): Promise<void> {
    return this.mutate("regionBackendServices.update", signal, (o) =>
      this.c.backendServices.update(
        { project: this.project, region: this.region, backendService, backendServiceResource },
        o,
      ),
    );
  }
  deleteBackendService(backendService: string, signal: AbortSignal): Promise<DeleteOutcome> {
    return this.remove("regionBackendServices.delete", signal, (o) =>
      this.c.backendServices.delete({ project: this.project, region: this.region, backendService }, o),
    );
  }

  // Regional forwarding rules.
  getForwardingRule(forwardingRule: string, signal: AbortSignal): Promise<IForwardingRule | undefined> {
    return this.read("forwardingRules.get", signal, (o) =>
      this.c.forwardingRules.get({ project: this.project, region: this.region, forwardingRule }, o),
    );
  }
  insertForwardingRule(forwardingRuleResource: IForwardingRule, signal: AbortSignal): Promise<void> {
    return this.mutate("forwardingRules.insert", signal, (o) =>
      this.c.forwardingRules.insert({ project: this.project, region: this.region, forwardingRuleResource }, o),
    );
  }
  deleteForwardingRule(forwardingRule: string, signal: AbortSignal): Promise<DeleteOutcome> {
    return this.remove("forwardingRules.delete", signal, (o) =>
      this.c.forwardingRules.delete({ project: this.project, region: this.region, forwardingRule }, o),
    );
  }

  // Zonal instance groups.
  getInstanceGroup(zone: string, instanceGroup: string, signal: AbortSignal): Promise<IInstanceGroup | undefined> {
    return this.read("instanceGroups.get", signal, (o) =>
      this.c.instanceGroups.get({ project: this.project, zone, instanceGroup }, o),
    );
  }
  insertInstanceGroup(zone: string, instanceGroupResource: IInstanceGroup, signal: AbortSignal): Promise<void> {
    return this.mutate("instanceGroups.insert", signal, (o) =>
      this.c.instanceGroups.insert({ project: this.project, zone, instanceGroupResource }, o),
    );
  }
  deleteInstanceGroup(zone: string, instanceGroup: string, signal: AbortSignal): Promise<DeleteOutcome> {
    return this.remove("instanceGroups.delete", signal, (o) =>
      this.c.instanceGroups.delete({ project: this.project, zone, instanceGroup }, o),
    );
  }
  /** Every member's instance URL (instanceState ALL, as the anchor lists them; all pages). */
  async listInstances(zone: string, instanceGroup: string, signal: AbortSignal): Promise<string[]> {
    const [members] = await gceCall(
      "instanceGroups.listInstances",
      (o) =>
        this.c.instanceGroups.listInstances(
          {
            project: this.project,
            zone,
            instanceGroup,
            instanceGroupsListInstancesRequestResource: { instanceState: "ALL" },
          },
          o,
        ),
      this.callOptions(signal),
    );
    return members.flatMap((m) => (m.instance ? [m.instance] : []));
  }
  addInstances(zone: string, instanceGroup: string, urls: readonly string[], signal: AbortSignal): Promise<void> {
    const instanceGroupsAddInstancesRequestResource = { instances: urls.map((instance) => ({ instance })) };
    return this.mutate("instanceGroups.addInstances", signal, (o) =>
      this.c.instanceGroups.addInstances(
        { project: this.project, zone, instanceGroup, instanceGroupsAddInstancesRequestResource },
        o,
      ),
    );
  }
  removeInstances(zone: string, instanceGroup: string, urls: readonly string[], signal: AbortSignal): Promise<void> {
    const instanceGroupsRemoveInstancesRequestResource = { instances: urls.map((instance) => ({ instance })) };
    return this.mutate("instanceGroups.removeInstances", signal, (o) =>
      this.c.instanceGroups.removeInstances(
        { project: this.project, zone, instanceGroup, instanceGroupsRemoveInstancesRequestResource },
        o,
      ),
    );
  }
}
