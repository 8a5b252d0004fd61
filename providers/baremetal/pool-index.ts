/**
 * Pools compiled for lookups: which pool owns an address (binary search over all ranges of a family), and
 * the lowest free address of a pool (one sorted set of used addresses per range). The index only knows
 * which addresses are in use, not by whom; the allocator owns that.
 */
import type { IPFamily } from "../../src/provider.js";
import { describePool, poolRanges, type AddressPool } from "./address-pool.js";
import { buggyCount, rangeSize, type AddressRange } from "./address-range.js";
import type { IPValue } from "../../src/toolkit/index.js";
import { SortedBigints } from "./sorted-bigints.js";

interface IndexedRange {
  readonly pool: AddressPool;
  readonly range: AddressRange;
  readonly used: SortedBigints;
}

export interface AddressLocation {
  readonly pool: AddressPool;
  readonly range: AddressRange;
  /** In the range, but the pool's avoidBuggyIPs rules it out (MetalLB's poolFor treats it as in no pool). */
  readonly excluded: boolean;
}

export class PoolIndex {
  /** Pool names in allocation order: plain code-unit order, so the result never depends on input order. */
  readonly names: readonly string[];
  private readonly byName = new Map<string, { readonly pool: AddressPool; readonly ranges: readonly IndexedRange[] }>();
  private readonly byFamily: Readonly<Record<IPFamily, readonly IndexedRange[]>>;

  /** `pools` must have passed validatePools (no overlaps, parseable entries). */
  constructor(pools: readonly AddressPool[]) {
    const all: IndexedRange[] = [];
    for (const pool of pools) {
      const ranges = poolRanges(pool)
        .map((range) => ({ pool, range, used: new SortedBigints() }))
        .sort((a, b) => compare(a.range.first, b.range.first));
      this.byName.set(pool.name, { pool, ranges });
      all.push(...ranges);
    }
    all.sort((a, b) => compare(a.range.first, b.range.first));
    const ofFamily = (family: IPFamily): IndexedRange[] => all.filter((r) => r.range.family === family);
    this.byFamily = { IPv4: ofFamily("IPv4"), IPv6: ofFamily("IPv6") };
    this.names = [...this.byName.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  pool(name: string): AddressPool | undefined {
    return this.byName.get(name)?.pool;
  }

  get pools(): readonly AddressPool[] {
    return this.names.map((name) => this.byName.get(name)?.pool).filter((p): p is AddressPool => p !== undefined);
  }

  locate(addr: IPValue): AddressLocation | undefined {
    const entry = this.findRange(addr);
    if (entry === undefined) return undefined;
    return { pool: entry.pool, range: entry.range, excluded: entry.pool.avoidBuggyIPs && isBuggyIP(addr) };
  }

  /** Records that an address is in use; a no-op for addresses outside every pool. */
  markUsed(addr: IPValue): void {
    this.findRange(addr)?.used.insert(addr.value);
  }

  markFree(addr: IPValue): void {
    this.findRange(addr)?.used.delete(addr.value);
  }

  /** The lowest address of `family` in the pool that no Service uses, skipping .0/.255 under avoidBuggyIPs. */
  lowestFree(poolName: string, family: IPFamily): IPValue | undefined {
    for (const entry of this.rangesOf(poolName, family)) {
      let from = entry.range.first;
      for (;;) {
        const value = entry.used.firstAbsentAtOrAfter(from);
        if (value > entry.range.last) break;
        const addr = { family, value };
        // At most two consecutive skips (x.255, x+1.0), so this loop is short.
        if (!entry.pool.avoidBuggyIPs || !isBuggyIP(addr)) return addr;
        from = value + 1n;
      }
    }
    return undefined;
  }

  /** The pool's ranges of `family`, lowest first. */
  ranges(poolName: string, family: IPFamily): AddressRange[] {
    return this.rangesOf(poolName, family).map((r) => r.range);
  }

  hasFamily(poolName: string, family: IPFamily): boolean {
    return this.rangesOf(poolName, family).length > 0;
  }

  /** Addresses of `family` the pool can hand out (avoidBuggyIPs already subtracted). */
  capacity(poolName: string, family: IPFamily): bigint {
    let total = 0n;
    for (const { pool, range } of this.rangesOf(poolName, family)) {
      total += rangeSize(range) - (pool.avoidBuggyIPs ? buggyCount(range) : 0n);
    }
    return total;
  }

  /** Distinct addresses of `family` in the pool held by at least one Service. */
  usedCount(poolName: string, family: IPFamily): number {
    return this.rangesOf(poolName, family).reduce((n, r) => n + r.used.size, 0);
  }

  /** "lab 192.0.2.100-192.0.2.120; dev 198.51.100.0/24", or "none configured". */
  describe(): string {
    const pools = this.pools;
    return pools.length === 0 ? "none configured" : pools.map(describePool).join("; ");
  }

  private rangesOf(poolName: string, family: IPFamily): readonly IndexedRange[] {
    return (this.byName.get(poolName)?.ranges ?? []).filter((r) => r.range.family === family);
  }

  /** The last range starting at or before the address, if it also ends at or after it. */
  private findRange(addr: IPValue): IndexedRange | undefined {
    const ranges = this.byFamily[addr.family];
    let lo = 0;
    let hi = ranges.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const r = ranges[mid];
      if (r !== undefined && r.range.first <= addr.value) lo = mid + 1;
      else hi = mid;
    }
    const candidate = ranges[lo - 1];
    return candidate !== undefined && addr.value <= candidate.range.last ? candidate : undefined;
  }
}

function compare(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * IPv4 addresses ending in .0 or .255, which MetalLB's `avoidBuggyIPs` skips because they "can confuse smurf
 * protection on crappy CPE firmwares" (MLB internal/allocator/allocator.go ipConfusesBuggyFirmwares).
 * Never true for IPv6.
 */
export function isBuggyIP(addr: IPValue): boolean {
  if (addr.family !== "IPv4") return false;
  const last = addr.value & 0xffn;
  return last === 0n || last === 0xffn;
}
