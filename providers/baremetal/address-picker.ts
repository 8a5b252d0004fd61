/**
 * Where a Service's new addresses come from: the lowest free (or shareable) address of a pool, and the
 * errors for when there is none. A short-lived view over the allocator's state, made per allocation.
 */
import type { IPFamily } from "../../src/provider.js";
import type { AddressBook } from "./address-book.js";
import { ANNOTATION_ADDRESS_POOL, annotationField } from "./annotations.js";
import { NoSuitablePoolError, PoolExhaustedError } from "./baremetal-errors.js";
import { formatIPValue as formatIP, type IPValue as IPAddress } from "../../src/toolkit/index.js";
import type { PoolIndex } from "./pool-index.js";
import { autoAssignOrder, type ServiceIdentity } from "./pool-scope.js";
import { sharingConflict, type SharingParty } from "./sharing.js";

export class AddressPicker {
  constructor(
    private readonly index: PoolIndex,
    private readonly book: AddressBook,
    private readonly retryAfterMs: number,
  ) {}

  /** An address of `family` from `poolName`: the family a single-stack Service lacks when it turns dual-stack. */
  pickFamily(poolName: string, family: IPFamily, party: SharingParty): IPAddress {
    if (!this.index.hasFamily(poolName, family)) {
      const message = `pool ${poolName}, which holds this Service's other address, has no ${family} addresses`;
      throw new NoSuitablePoolError("spec.ipFamilies", message);
    }
    const addr = this.pickInPool(poolName, family, party);
    if (addr === undefined) throw this.exhausted([poolName], [family], `pool ${poolName}`);
    return addr;
  }

  /**
   * Fresh addresses, one per family, all from one pool: the named pool (whose scope the caller checked), else
   * the first autoAssign pool admitting the Service (pool-scope.ts order) that has every family and room for all.
   */
  pick(
    families: readonly IPFamily[],
    pool: string | undefined,
    party: SharingParty,
    service: ServiceIdentity | undefined,
  ): IPAddress[] {
    const candidates = pool !== undefined ? [pool] : autoAssignOrder(this.index.pools, service).map((p) => p.name);
    if (candidates.length === 0) {
      const message =
        this.index.names.length === 0
          ? "no address pools are configured"
          : this.index.pools.some((p) => p.autoAssign)
            ? `no address pool with autoAssign enabled serves this Service: the others are limited to other ` +
              `namespaces or Services by serviceAllocation (pools: ${this.index.describe()}); ` +
              `name one with ${ANNOTATION_ADDRESS_POOL} or request an address`
            : `no address pool has autoAssign enabled (pools: ${this.index.describe()}); ` +
              `name one with ${ANNOTATION_ADDRESS_POOL} or request an address`;
      throw new NoSuitablePoolError(annotationField(ANNOTATION_ADDRESS_POOL), message);
    }
    const eligible = candidates.filter((n) => families.every((f) => this.index.hasFamily(n, f)));
    if (eligible.length === 0) {
      const where = pool !== undefined ? `pool ${pool} has` : "no auto-assign address pool has";
      const message = `${where} ${families.join(" and ")} addresses (pools: ${this.index.describe()})`;
      throw new NoSuitablePoolError("spec.ipFamilies", message);
    }
    for (const name of eligible) {
      const found = families.map((f) => this.pickInPool(name, f, party));
      if (found.every((a) => a !== undefined)) return found;
    }
    throw this.exhausted(eligible, families, pool !== undefined ? `pool ${pool}` : "any auto-assign pool");
  }

  /**
   * The lower of the pool's lowest free address and the lowest address this Service may share: the first
   * address that MetalLB's walk over the pool would accept (MLB internal/allocator/allocator.go getIPFromCIDR).
   */
  private pickInPool(poolName: string, family: IPFamily, party: SharingParty): IPAddress | undefined {
    const free = this.index.lowestFree(poolName, family);
    if (party.sharingKey === undefined) return free;
    const accept = (value: bigint): boolean => {
      const addr = { family, value };
      const loc = this.index.locate(addr);
      return loc?.pool.name === poolName && !loc.excluded && this.shareable(addr, party);
    };
    for (const range of this.index.ranges(poolName, family)) {
      const to = free !== undefined && free.value <= range.last ? free.value - 1n : range.last;
      if (to < range.first) break;
      const value = this.book.lowestShareable(party, family, range.first, to, accept);
      if (value !== undefined) return { family, value };
    }
    return free;
  }

  private shareable(addr: IPAddress, party: SharingParty): boolean {
    return sharingConflict(formatIP(addr), party, this.book.others(addr, party.key), this.retryAfterMs) === undefined;
  }

  private exhausted(pools: readonly string[], families: readonly IPFamily[], where: string): PoolExhaustedError {
    const count = (p: string, f: IPFamily): string =>
      `${p} ${f} ${this.index.usedCount(p, f)}/${this.index.capacity(p, f)}`;
    const counts = pools.flatMap((p) => families.map((f) => count(p, f)));
    const message =
      `no free ${families.join(" and ")} address in ${where} (in use: ${counts.join(", ")}); ` +
      "retrying until another Service releases one";
    return new PoolExhaustedError(pools, message, this.retryAfterMs);
  }
}
