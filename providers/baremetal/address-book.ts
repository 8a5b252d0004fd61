/**
 * Who holds which address: the allocator's bookkeeping, with no rules. The allocator decides whether an
 * assignment is allowed; this class records it and answers "who else is on this address" and "which
 * addresses are shared under this key" without scanning every Service.
 */
import type { IPFamily } from "../../src/provider.js";
import { formatIPValue, type IPValue } from "../../src/toolkit/index.js";
import type { SharingParty } from "./sharing.js";
import { SharingIndex } from "./sharing-index.js";

export interface Holder {
  readonly uid: string | undefined;
  readonly addrs: readonly IPValue[];
  readonly party: SharingParty;
}

export class AddressBook {
  private readonly holders = new Map<string, Holder>();
  /** ip -> keys of the Services using it (more than one only when shared, or after a conflicting restore). */
  private readonly users = new Map<string, Set<string>>();
  private readonly sharing = new SharingIndex();

  get(key: string): Holder | undefined {
    return this.holders.get(key);
  }

  /** Keys in code-unit order, so reports built from them are stable. */
  keys(): string[] {
    return [...this.holders.keys()].sort();
  }

  /** Every held address, once per holder. */
  *addresses(): Iterable<IPValue> {
    for (const holder of this.holders.values()) yield* holder.addrs;
  }

  /** The other Services on `addr`, besides `exceptKey`. */
  others(addr: IPValue, exceptKey: string): SharingParty[] {
    const parties: SharingParty[] = [];
    for (const key of this.users.get(formatIPValue(addr)) ?? []) {
      const holder = this.holders.get(key);
      if (key !== exceptKey && holder !== undefined) parties.push(holder.party);
    }
    return parties;
  }

  /** The lowest address in [from, to] that `party` may join under its sharing key; see SharingIndex.lowest. */
  lowestShareable(
    party: SharingParty,
    family: IPFamily,
    from: bigint,
    to: bigint,
    accept: (value: bigint) => boolean,
  ): bigint | undefined {
    return this.sharing.lowest(party, family, from, to, accept);
  }

  /**
   * Records `key`'s holding; `key` must hold nothing (unassign first). Returns the addresses nobody used
   * before, so the caller can mark them used in the pool index.
   */
  add(key: string, holder: Holder): IPValue[] {
    if (this.holders.has(key)) throw new Error(`${key} already holds addresses; unassign first`);
    this.holders.set(key, holder);
    const newlyUsed: IPValue[] = [];
    for (const addr of holder.addrs) {
      const ip = formatIPValue(addr);
      let keys = this.users.get(ip);
      if (keys === undefined) {
        keys = new Set();
        this.users.set(ip, keys);
        newlyUsed.push(addr);
      }
      keys.add(key);
      this.sharing.add(holder.party, addr);
    }
    return newlyUsed;
  }

  /** Drops `key`'s holding. Returns the addresses nobody uses any more. */
  unassign(key: string): IPValue[] {
    const holder = this.holders.get(key);
    if (holder === undefined) return [];
    this.holders.delete(key);
    const freed: IPValue[] = [];
    for (const addr of holder.addrs) {
      const ip = formatIPValue(addr);
      const keys = this.users.get(ip);
      keys?.delete(key);
      if (keys === undefined || keys.size === 0) {
        this.users.delete(ip);
        freed.push(addr);
      }
      this.sharing.remove(holder.party, addr);
    }
    return freed;
  }
}
