/**
 * Finds the lowest address a Service may join under its sharing key without testing shared addresses one
 * by one. MetalLB tries every address of the pool in turn (MLB internal/allocator/allocator.go
 * getIPFromCIDR); with thousands of Services under one key (a blanket `allow-shared-ip: "true"`) and the
 * same ports, that is quadratic. Here each sharing group keeps its addresses, and per port the subset of
 * them where the group already uses that port, so "the first address not using port p" is a binary search.
 */
import type { IPFamily } from "../../src/provider.js";
import type { IPValue } from "../../src/toolkit/index.js";
import { formatPort, type SharingParty } from "./sharing.js";
import { SortedBigints } from "./sorted-bigints.js";

const SEP = "\u0000";

export class SharingIndex {
  /** group -> addresses with at least one user in the group. */
  private readonly members = new Map<string, SortedBigints>();
  /** group + port -> the member addresses where a user in the group uses that port. */
  private readonly portUsers = new Map<string, SortedBigints>();
  /** Reference counts behind both maps (several users of one address, and conflicting restores). */
  private readonly counts = new Map<string, number>();

  add(party: SharingParty, addr: IPValue): void {
    const group = groupOf(party, addr.family);
    if (group === undefined) return;
    this.increment(this.members, group, addr.value);
    for (const port of portsOf(party)) this.increment(this.portUsers, group + SEP + port, addr.value);
  }

  remove(party: SharingParty, addr: IPValue): void {
    const group = groupOf(party, addr.family);
    if (group === undefined) return;
    this.decrement(this.members, group, addr.value);
    for (const port of portsOf(party)) this.decrement(this.portUsers, group + SEP + port, addr.value);
  }

  /**
   * The lowest address in [from, to] that `party`'s group shares, where the group uses none of `party`'s
   * ports, and that `accept` approves (the caller's full check: pool, avoidBuggyIPs, users outside the group).
   */
  lowest(
    party: SharingParty,
    family: IPFamily,
    from: bigint,
    to: bigint,
    accept: (value: bigint) => boolean,
  ): bigint | undefined {
    const group = groupOf(party, family);
    const members = group === undefined ? undefined : this.members.get(group);
    if (group === undefined || members === undefined) return undefined;
    // Search by the most-used port first: it rules out the most addresses per step.
    const taken = portsOf(party)
      .map((port) => this.portUsers.get(group + SEP + port) ?? new SortedBigints())
      .sort((a, b) => b.size - a.size);
    const [first, ...rest] = taken;
    let x = from;
    for (;;) {
      const value = first === undefined ? members.firstAtOrAfter(x) : members.firstNotIn(first, x);
      if (value === undefined || value > to) return undefined;
      if (!rest.some((set) => set.has(value)) && accept(value)) return value;
      x = value + 1n;
    }
  }

  private increment(map: Map<string, SortedBigints>, key: string, value: bigint): void {
    const countKey = `${key}${SEP}${value}`;
    const count = (this.counts.get(countKey) ?? 0) + 1;
    this.counts.set(countKey, count);
    if (count > 1) return;
    const set = map.get(key) ?? new SortedBigints();
    set.insert(value);
    map.set(key, set);
  }

  private decrement(map: Map<string, SortedBigints>, key: string, value: bigint): void {
    const countKey = `${key}${SEP}${value}`;
    const count = (this.counts.get(countKey) ?? 0) - 1;
    if (count > 0) {
      this.counts.set(countKey, count);
      return;
    }
    this.counts.delete(countKey);
    const set = map.get(key);
    set?.delete(value);
    if (set?.size === 0) map.delete(key);
  }
}

/**
 * Services may share only within one group: same family, same sharing key, same backend key. Restored
 * allocations with an unknown backend key are filed under "" (Cluster); the caller's full check decides.
 */
function groupOf(party: SharingParty, family: IPFamily): string | undefined {
  if (party.sharingKey === undefined) return undefined;
  return [family, party.sharingKey, party.backendKey ?? ""].join(SEP);
}

function portsOf(party: SharingParty): string[] {
  return [...new Set(party.ports.map(formatPort))];
}
