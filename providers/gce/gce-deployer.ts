/**
 * Converges one Service's internal passthrough load balancer (desired.ts) over the Compute API, writing only what
 * differs (diff.ts).
 *
 * ensure, in order (the anchor's order, ../shared/reference/gce.md section 1):
 * 1. Validate: the subnetwork (annotation or default) exists; a requested IP lies in its range. Then GET the
 *    forwarding rule, backend service, health check and both firewalls, and check every one that exists is ours
 *    (ownershipDescription, or the cluster id for shared ones) before the first write: bad input and name clashes
 *    leave nothing behind.
 * 2. Instance groups of the zones with nodes (instance-groups.ts).
 * 3. Health check, then its firewall.
 * 4. A forwarding rule whose immutable fields differ is deleted now, before the backend-service update, so a
 *    TCP<->UDP change succeeds (Compute rejects a backend service whose protocol differs from its rule's).
 * 5. Backend service: created, or PUT with the fingerprint read in step 1 when it differs.
 * 6. Forwarding rule: created (and read back for its IP), keeping the old IP across a recreate in the same subnet.
 * 7. Traffic firewall to the VIP.
 * 8. Leftovers: groups of zones the backend service used and no longer does; the previous health check and its
 *    firewall after a traffic-policy switch.
 * A converged Service costs subnetworks.get, forwardingRules.get, regionBackendServices.get, healthChecks.get,
 * firewalls.get x2 and per zone instanceGroups.get + listInstances, and no write.
 *
 * delete: forwarding rule, backend service, traffic firewall, the Service's own health check and its firewall,
 * then the shared health check (and its firewall) and the groups the backend service used, each only if no other
 * backend service uses it (Compute refuses: resourceInUseByAnotherResource).
 */
import type { protos } from "@google-cloud/compute";
import type { Logger } from "pino";
import { InvalidSpecError, LbOperatorError } from "../../src/errors.js";
import type { LoadBalancerId, LoadBalancerSpec } from "../../src/provider.js";
import { backendServiceDiffers, firewallPatch, forwardingRuleChanges, healthCheckUpdate } from "./diff.js";
import { checkRequestedIPInSubnet, SUBNET_ANNOTATION, type GceServiceConfig } from "./gce-config.js";
import type { GceApi } from "./gce-api.js";
import type { GceLocation } from "./gce-types.js";
import {
  desiredLoadBalancer,
  desiredTrafficFirewall,
  nodeInstances,
  trafficSourceRanges,
  type DesiredLoadBalancer,
  type Owned,
} from "./desired.js";
import { InstanceGroups } from "./instance-groups.js";
import {
  healthCheckFirewallName,
  instanceGroupName,
  lbName,
  sharedHealthCheckName,
  trafficFirewallName,
} from "./names.js";
import { assertOwner, isOwnedByOwner, type Owner } from "./ownership.js";
import { lastSegment } from "./gce-operations.js";
import { resourcePath, sameResource, subnetworkUrl, zoneOf } from "./resource-paths.js";

type IHealthCheck = protos.google.cloud.compute.v1.IHealthCheck;
type IBackendService = protos.google.cloud.compute.v1.IBackendService;
type IForwardingRule = protos.google.cloud.compute.v1.IForwardingRule;
type IFirewall = protos.google.cloud.compute.v1.IFirewall;

export interface GceDeployerOptions {
  readonly api: GceApi;
  readonly location: GceLocation;
  readonly logger?: Logger;
}

interface Observed {
  readonly forwardingRule: IForwardingRule | undefined;
  readonly backendService: IBackendService | undefined;
  readonly healthCheck: IHealthCheck | undefined;
  readonly healthCheckFirewall: IFirewall | undefined;
  readonly trafficFirewall: IFirewall | undefined;
}

export class GceDeployer {
  private readonly api: GceApi;
  private readonly location: GceLocation;
  private readonly logger: Logger | undefined;
  private readonly groups: InstanceGroups;

  constructor(options: GceDeployerOptions) {
    this.api = options.api;
    this.location = options.location;
    this.logger = options.logger;
    this.groups = new InstanceGroups(options.api, options.logger);
  }

  /** Converges the load balancer; returns the forwarding rule's IP. */
  async ensure(
    spec: LoadBalancerSpec,
    config: GceServiceConfig,
    signal: AbortSignal,
  ): Promise<{ readonly ip: string }> {
    signal.throwIfAborted();
    const id = spec.id;
    const subnetwork = await this.resolveSubnetwork(config, signal);
    const nodes = spec.backends.mode === "nodePort" ? spec.backends.nodes : [];
    const { instances, skipped } = nodeInstances(nodes, this.location.region);
    if (skipped.length > 0)
      this.logger?.warn({ service: `${id.namespace}/${id.name}`, skipped }, "nodes left out of the instance groups");

    const name = lbName(id);
    const forwardingRule = await this.api.getForwardingRule(name, signal);
    const keepIP =
      forwardingRule?.IPAddress && sameResource(forwardingRule.subnetwork, subnetwork)
        ? forwardingRule.IPAddress
        : undefined;
    const desired = desiredLoadBalancer({
      spec,
      config,
      location: this.location,
      subnetwork,
      instances,
      ipAddress: config.requestedIP ?? keepIP,
    });
    const owner: Owner = { kind: "service", id };
    const observed = await this.observe(desired, forwardingRule, id, signal);
    // The traffic firewall is built last (it needs the VIP); its sources may be refused, so check them before any write.
    trafficSourceRanges(spec, config, this.location);

    await this.groups.ensure(
      desired.instanceGroupName,
      { kind: "cluster", clusterId: id.clusterId },
      desired.instanceGroups,
      signal,
    );
    await this.ensureHealthCheck(desired.healthCheck, observed.healthCheck, signal);
    await this.ensureFirewall(desired.healthCheckFirewall, observed.healthCheckFirewall, signal);

    const ip = await this.convergeRuleAndBackendService(desired, observed, signal);

    const traffic: Owned<IFirewall> = {
      owner,
      resource: desiredTrafficFirewall({ spec, config, location: this.location }, ip),
    };
    await this.ensureFirewall(traffic, observed.trafficFirewall, signal);
    await this.cleanUp(id, desired, observed, signal);
    return { ip };
  }

  /**
   * Steps 4 to 6: a forwarding rule whose immutable fields differ is deleted before the backend-service update (so a
   * TCP<->UDP change succeeds), then the backend service, then the rule is created when missing. Returns its IP.
   */
  private async convergeRuleAndBackendService(
    desired: DesiredLoadBalancer,
    observed: Observed,
    signal: AbortSignal,
  ): Promise<string> {
    const name = desired.name;
    let rule = observed.forwardingRule;
    const changed = rule ? forwardingRuleChanges(rule, desired.forwardingRule) : [];
    if (changed.length > 0) {
      this.logger?.info({ forwardingRule: name, changed }, "recreating forwarding rule: immutable fields changed");
      await this.api.deleteForwardingRule(name, signal);
      rule = undefined;
    }
    await this.ensureBackendService(desired.backendService, observed.backendService, signal);
    if (rule === undefined) {
      await this.api.insertForwardingRule(desired.forwardingRule, signal);
      rule = await this.api.getForwardingRule(name, signal);
      this.logger?.info({ forwardingRule: name, ip: rule?.IPAddress }, "created forwarding rule");
    }
    const ip = rule?.IPAddress;
    if (!ip) throw new LbOperatorError(`forwarding rule ${name} has no IP address`);
    return ip;
  }

  async delete(id: LoadBalancerId, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const owner: Owner = { kind: "service", id };
    const shared: Owner = { kind: "cluster", clusterId: id.clusterId };
    const name = lbName(id);
    const rule = await this.api.getForwardingRule(name, signal);
    if (rule !== undefined && this.mine("forwarding rule", name, rule.description, owner))
      await this.api.deleteForwardingRule(name, signal);
    const bs = await this.api.getBackendService(name, signal);
    const zones = new Set((bs?.backends ?? []).flatMap((b) => zoneOf(b.group) ?? []));
    if (bs !== undefined && this.mine("backend service", name, bs.description, owner)) {
      const outcome = await this.api.deleteBackendService(name, signal);
      if (outcome === "inUse") throw new LbOperatorError(`backend service ${name} is still in use by another resource`);
    }
    await this.deleteFirewall(trafficFirewallName(id), owner, signal);
    if ((await this.deleteHealthCheck(name, owner, signal)) !== "inUse")
      await this.deleteFirewall(healthCheckFirewallName(id, "Local"), owner, signal);
    if ((await this.deleteHealthCheck(sharedHealthCheckName(id.clusterId), shared, signal)) !== "inUse") {
      await this.deleteFirewall(healthCheckFirewallName(id, "Cluster"), shared, signal);
    }
    await this.groups.deleteIfUnused(instanceGroupName(id.clusterId), shared, zones, signal);
  }

  /** The subnetwork URL the forwarding rule uses; the annotation must name an existing subnetwork of the region. */
  private async resolveSubnetwork(config: GceServiceConfig, signal: AbortSignal): Promise<string> {
    const url = subnetworkUrl(this.location, config.subnetwork);
    const path = resourcePath(url).split("/");
    const region = path[3] ?? this.location.region;
    const subnetName = lastSegment(url);
    const subnet = await this.api.getSubnetwork(region, subnetName, signal);
    if (subnet === undefined) {
      if (config.subnetwork !== undefined) {
        throw new InvalidSpecError(
          `metadata.annotations[${SUBNET_ANNOTATION}]`,
          `subnetwork "${subnetName}" does not exist in region ${region}`,
        );
      }
      throw new LbOperatorError(
        `the cluster's subnetwork ${resourcePath(url)} does not exist (check --gce-subnetwork)`,
      );
    }
    if (config.requestedIP !== undefined)
      checkRequestedIPInSubnet(config.requestedIP, subnetName, subnet.ipCidrRange ?? "");
    return subnet.selfLink ?? url;
  }

  private async observe(
    desired: DesiredLoadBalancer,
    forwardingRule: IForwardingRule | undefined,
    id: LoadBalancerId,
    signal: AbortSignal,
  ): Promise<Observed> {
    const owner: Owner = { kind: "service", id };
    const name = desired.name;
    const backendService = await this.api.getBackendService(name, signal);
    const hcName = desired.healthCheck.resource.name ?? "";
    const healthCheck = await this.api.getHealthCheck(hcName, signal);
    const hcFwName = desired.healthCheckFirewall.resource.name ?? "";
    const healthCheckFirewall = await this.api.getFirewall(hcFwName, signal);
    const trafficName = trafficFirewallName(id);
    const trafficFirewall = await this.api.getFirewall(trafficName, signal);
    if (forwardingRule) assertOwner("forwarding rule", name, forwardingRule.description, owner);
    if (backendService) assertOwner("backend service", name, backendService.description, owner);
    if (healthCheck) assertOwner("health check", hcName, healthCheck.description, desired.healthCheck.owner);
    if (healthCheckFirewall)
      assertOwner("firewall", hcFwName, healthCheckFirewall.description, desired.healthCheckFirewall.owner);
    if (trafficFirewall) assertOwner("firewall", trafficName, trafficFirewall.description, owner);
    return { forwardingRule, backendService, healthCheck, healthCheckFirewall, trafficFirewall };
  }

  private async ensureHealthCheck(
    desired: Owned<IHealthCheck>,
    current: IHealthCheck | undefined,
    signal: AbortSignal,
  ): Promise<void> {
    const name = desired.resource.name ?? "";
    if (current === undefined) {
      await this.api.insertHealthCheck(desired.resource, signal);
      this.logger?.info({ healthCheck: name }, "created health check");
      return;
    }
    const update = healthCheckUpdate(current, desired.resource);
    if (update !== undefined) await this.api.updateHealthCheck(name, update, signal);
  }

  private async ensureFirewall(
    desired: Owned<IFirewall>,
    current: IFirewall | undefined,
    signal: AbortSignal,
  ): Promise<void> {
    const name = desired.resource.name ?? "";
    if (current === undefined) {
      await this.api.insertFirewall(desired.resource, signal);
      this.logger?.info({ firewall: name }, "created firewall");
      return;
    }
    const patch = firewallPatch(current, desired.resource);
    if (patch !== undefined) await this.api.patchFirewall(name, patch, signal);
  }

  private async ensureBackendService(
    desired: IBackendService,
    current: IBackendService | undefined,
    signal: AbortSignal,
  ): Promise<void> {
    const name = desired.name ?? "";
    if (current === undefined) {
      await this.api.insertBackendService(desired, signal);
      this.logger?.info({ backendService: name }, "created backend service");
    } else if (backendServiceDiffers(current, desired)) {
      await this.api.updateBackendService(name, { ...desired, fingerprint: current.fingerprint }, signal);
    }
  }

  /** Groups of zones the backend service no longer lists; the previous health check after a policy switch. */
  private async cleanUp(
    id: LoadBalancerId,
    desired: DesiredLoadBalancer,
    observed: Observed,
    signal: AbortSignal,
  ): Promise<void> {
    const before = observed.backendService;
    if (before === undefined) return;
    const shared: Owner = { kind: "cluster", clusterId: id.clusterId };
    const gone = new Set(
      (before.backends ?? []).flatMap((b) => zoneOf(b.group) ?? []).filter((z) => !desired.instanceGroups.has(z)),
    );
    if (gone.size > 0) await this.groups.removeZones(desired.instanceGroupName, shared, gone, signal);
    const oldHc = (before.healthChecks ?? [])[0];
    if (oldHc === undefined || sameResource(oldHc, desired.backendService.healthChecks?.[0])) return;
    const oldName = lastSegment(resourcePath(oldHc));
    const local = oldName === lbName(id);
    const oldOwner: Owner = local ? { kind: "service", id } : shared;
    if (!local && oldName !== sharedHealthCheckName(id.clusterId)) return;
    const outcome = await this.deleteHealthCheck(oldName, oldOwner, signal);
    this.logger?.info({ healthCheck: oldName, outcome }, "previous health check after a traffic-policy change");
    if (outcome !== "inUse")
      await this.deleteFirewall(healthCheckFirewallName(id, local ? "Local" : "Cluster"), oldOwner, signal);
  }

  private async deleteHealthCheck(
    name: string,
    owner: Owner,
    signal: AbortSignal,
  ): Promise<"deleted" | "notFound" | "inUse" | "foreign"> {
    const hc = await this.api.getHealthCheck(name, signal);
    if (hc === undefined) return "notFound";
    if (!this.mine("health check", name, hc.description, owner)) return "foreign";
    const outcome = await this.api.deleteHealthCheck(name, signal);
    if (outcome === "inUse" && owner.kind === "service")
      throw new LbOperatorError(`health check ${name} is still in use by another resource`);
    return outcome;
  }

  private async deleteFirewall(name: string, owner: Owner, signal: AbortSignal): Promise<void> {
    const fw = await this.api.getFirewall(name, signal);
    if (fw !== undefined && this.mine("firewall", name, fw.description, owner))
      await this.api.deleteFirewall(name, signal);
  }

  /** Whether a resource found by name is ours; a stranger's is logged and left alone. */
  private mine(kind: string, name: string, description: string | null | undefined, owner: Owner): boolean {
    if (isOwnedByOwner(description, owner)) return true;
    this.logger?.warn({ kind, name, description }, "resource with our name is not ours; left alone");
    return false;
  }
}
