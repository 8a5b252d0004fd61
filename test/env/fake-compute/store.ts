/**
 * The fake's resources: one map per collection keyed by the selfLink without LINK_BASE. Resources are stored
 * in their response shape (full selfLinks in every reference field), so reads are a deep copy and cross-resource
 * rules (in use, IP already taken) are string comparisons of links.
 */
import { formatIpv4, linkOf, makeRef, parseCidr, parseIpv4, scopeLink, type Ref } from "./refs.js";
import type { Collection, ResourceOf, Scope } from "./types.js";
import { notFound } from "./types.js";

type Maps = { [C in Collection]: Map<string, ResourceOf[C]> };

export class ComputeStore {
  private maps: Maps = emptyMaps();
  /** Instance-group members (instance links) by group key: InstanceGroup has no member field of its own. */
  private members = new Map<string, string[]>();
  private idCounter = 0;
  private readonly now: () => number;

  constructor(now: () => number) {
    this.now = now;
  }

  /** A fresh numeric id as Compute's uint64 ids are sent: a decimal string. */
  nextId(): string {
    this.idCounter += 1;
    return (4_000_000_000_000_000_000n + BigInt(this.idCounter) * 7_919n).toString();
  }

  /** An opaque base64 fingerprint, new on every change. */
  nextFingerprint(): string {
    this.idCounter += 1;
    return Buffer.from(`fp-${this.idCounter}-${this.now()}`).toString("base64").slice(0, 12);
  }

  /** RFC 3339 with offset, as Compute writes creationTimestamp. */
  timestamp(): string {
    return new Date(this.now()).toISOString().replace("Z", "-00:00");
  }

  get<C extends Collection>(collection: C, key: string): ResourceOf[C] | undefined {
    const found = this.maps[collection].get(key);
    return found === undefined ? undefined : structuredClone(found);
  }

  /** The resource or a 404 naming it. */
  require<C extends Collection>(collection: C, ref: Ref): ResourceOf[C] {
    const found = this.get(collection, ref.key);
    if (found === undefined) throw notFound(ref.key);
    return found;
  }

  has(ref: Ref): boolean {
    return this.maps[ref.collection].has(ref.key);
  }

  put<C extends Collection>(collection: C, key: string, resource: ResourceOf[C]): void {
    this.maps[collection].set(key, structuredClone(resource));
  }

  delete(ref: Ref): boolean {
    this.members.delete(ref.key);
    return this.maps[ref.collection].delete(ref.key);
  }

  membersOf(groupKey: string): string[] {
    return [...(this.members.get(groupKey) ?? [])];
  }

  setMembers(groupKey: string, links: readonly string[]): void {
    this.members.set(groupKey, [...links]);
  }

  /** Removes an instance from every group (Compute does when the instance is deleted); returns the group keys. */
  dropMember(instanceLink: string): string[] {
    const changed: string[] = [];
    for (const [key, links] of this.members) {
      if (links.includes(instanceLink)) {
        this.members.set(
          key,
          links.filter((l) => l !== instanceLink),
        );
        changed.push(key);
      }
    }
    return changed;
  }

  /** Resources of `collection` in `project`/`scope` (every scope when `scope` is omitted), in key order. */
  list<C extends Collection>(collection: C, project?: string, scope?: Scope): ResourceOf[C][] {
    const prefix =
      project === undefined
        ? ""
        : scope === undefined
          ? `projects/${project}/`
          : makeRef(project, scope, collection, "").key;
    return [...this.maps[collection].entries()]
      .filter(([key]) => key.startsWith(prefix))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, value]) => structuredClone(value));
  }

  /** Links of the resources that reference `link` the way Compute's in-use rule sees it. */
  usersOf(link: string): string[] {
    const users: string[] = [];
    for (const bs of this.maps.backendServices.values()) {
      const refs = [...(bs.healthChecks ?? []), ...(bs.backends ?? []).map((b) => b.group ?? "")];
      if (refs.includes(link)) users.push(bs.selfLink ?? "");
    }
    for (const fr of this.maps.forwardingRules.values()) {
      if (fr.backendService === link) users.push(fr.selfLink ?? "");
    }
    return users;
  }

  /** Addresses of `subnetLink` already taken (by instances, reserved addresses, forwarding rules) and by whom. */
  takenIps(subnetLink: string): Map<number, { readonly link: string; readonly collection: Collection }> {
    const taken = new Map<number, { link: string; collection: Collection }>();
    const take = (ip: string | null | undefined, link: string | null | undefined, collection: Collection) => {
      const value = parseIpv4(ip ?? "");
      if (value !== undefined) taken.set(value, { link: link ?? "", collection });
    };
    for (const vm of this.maps.instances.values()) {
      for (const nic of vm.networkInterfaces ?? []) {
        if (nic.subnetwork === subnetLink) take(nic.networkIP, vm.selfLink, "instances");
      }
    }
    for (const a of this.maps.addresses.values()) {
      if (a.subnetwork === subnetLink) take(a.address, a.selfLink, "addresses");
    }
    for (const fr of this.maps.forwardingRules.values()) {
      if (fr.subnetwork === subnetLink) take(fr.IPAddress, fr.selfLink, "forwardingRules");
    }
    return taken;
  }

  /** The lowest usable free address of the subnetwork, or undefined when it is full. */
  freeIp(subnet: ResourceOf["subnetworks"]): string | undefined {
    const range = parseCidr(subnet.ipCidrRange ?? "");
    if (range === undefined) return undefined;
    const taken = this.takenIps(subnet.selfLink ?? "");
    for (let ip = range.first + 2; ip <= range.first + range.size - 3; ip += 1) {
      if (!taken.has(ip)) return formatIpv4(ip);
    }
    return undefined;
  }

  /** Forget everything (seeds included). */
  clear(): void {
    this.maps = emptyMaps();
    this.members.clear();
  }
}

function emptyMaps(): Maps {
  return {
    addresses: new Map(),
    backendServices: new Map(),
    firewalls: new Map(),
    forwardingRules: new Map(),
    healthChecks: new Map(),
    instanceGroups: new Map(),
    instances: new Map(),
    networks: new Map(),
    subnetworks: new Map(),
    zones: new Map(),
  };
}

/** Output fields every stored resource carries. */
export function outputFields(store: ComputeStore, ref: Ref, kind: string, id: string) {
  const scopeField =
    ref.scope.kind === "region"
      ? { region: scopeLink(ref.project, ref.scope) }
      : ref.scope.kind === "zone"
        ? { zone: scopeLink(ref.project, ref.scope) }
        : {};
  return {
    kind: `compute#${kind}`,
    id,
    name: ref.name,
    selfLink: linkOf(ref),
    creationTimestamp: store.timestamp(),
    ...scopeField,
  };
}
