/**
 * The cluster's zonal unmanaged instance groups `k8s-ig--{clusterId}`, shared by every Service (the anchor's
 * instance-group sync, ../shared/reference/gce.md section 1): one per zone with nodes, membership converged by
 * difference (listInstances, then addInstances/removeInstances of exactly what differs), so an unchanged node set
 * costs a get and a list per zone and no write. A group of a zone that lost its nodes is emptied and deleted;
 * while another Service's backend service still lists it, Compute refuses the delete and it stays (that Service's
 * next ensure drops it from its backends, and the group is deleted then).
 */
import type { Logger } from "pino";
import type { DeleteOutcome, GceApi } from "./gce-api.js";
import { diffMembers } from "./diff.js";
import { assertOwner, descriptionFor, isOwnedByOwner, type Owner } from "./ownership.js";

export class InstanceGroups {
  constructor(
    private readonly api: GceApi,
    private readonly logger: Logger | undefined,
  ) {}

  /** Creates missing groups and converges membership in every zone of `desired` (zone -> instance URLs). */
  async ensure(
    name: string,
    owner: Owner,
    desired: ReadonlyMap<string, readonly string[]>,
    signal: AbortSignal,
  ): Promise<void> {
    for (const [zone, instances] of desired) {
      const group = await this.api.getInstanceGroup(zone, name, signal);
      let members: string[] = [];
      if (group === undefined) {
        await this.api.insertInstanceGroup(zone, { name, description: descriptionFor(owner) }, signal);
        this.logger?.info({ zone, instanceGroup: name }, "created instance group");
      } else {
        assertOwner("instance group", `${zone}/${name}`, group.description, owner);
        members = await this.api.listInstances(zone, name, signal);
      }
      const { add, remove } = diffMembers(members, instances);
      if (remove.length > 0) await this.api.removeInstances(zone, name, remove, signal);
      if (add.length > 0) await this.api.addInstances(zone, name, add, signal);
      if (add.length + remove.length > 0)
        this.logger?.info(
          { zone, instanceGroup: name, added: add.length, removed: remove.length },
          "instance group membership changed",
        );
    }
  }

  /**
   * Empties and deletes the group in each of `zones` (zones without nodes). Foreign groups are left alone; a group
   * still in use stays (it is shared).
   */
  async removeZones(name: string, owner: Owner, zones: Iterable<string>, signal: AbortSignal): Promise<void> {
    for (const zone of zones) {
      const group = await this.api.getInstanceGroup(zone, name, signal);
      if (group === undefined || !isOwnedByOwner(group.description, owner)) continue;
      const members = await this.api.listInstances(zone, name, signal);
      if (members.length > 0) await this.api.removeInstances(zone, name, members, signal);
      const outcome: DeleteOutcome = await this.api.deleteInstanceGroup(zone, name, signal);
      this.logger?.info(
        { zone, instanceGroup: name, outcome },
        outcome === "inUse" ? "instance group still in use; kept" : "instance group of a zone without nodes removed",
      );
    }
  }

  /** Deletes the group in each of `zones` if no backend service uses it any more (404 and in use are fine). */
  async deleteIfUnused(name: string, owner: Owner, zones: Iterable<string>, signal: AbortSignal): Promise<void> {
    for (const zone of zones) {
      const group = await this.api.getInstanceGroup(zone, name, signal);
      if (group === undefined || !isOwnedByOwner(group.description, owner)) continue;
      const outcome = await this.api.deleteInstanceGroup(zone, name, signal);
      this.logger?.debug({ zone, instanceGroup: name, outcome }, "instance group delete");
    }
  }
}
