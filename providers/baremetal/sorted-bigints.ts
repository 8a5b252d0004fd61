/**
 * A sorted set of bigints with "first value not in the set at or after x" in O(log n). The allocator keeps
 * one per pool range holding the addresses in use, so finding the lowest free address never walks the
 * range address by address the way MetalLB's getIPFromCIDR cursor does (MLB internal/allocator/allocator.go).
 * Insert and delete are a binary search plus an array splice (a memmove): fine for tens of thousands.
 */
export class SortedBigints {
  private readonly items: bigint[] = [];

  get size(): number {
    return this.items.length;
  }

  has(value: bigint): boolean {
    const i = this.lowerBound(value);
    return this.items[i] === value;
  }

  /** Returns false when the value was already present. */
  insert(value: bigint): boolean {
    const i = this.lowerBound(value);
    if (this.items[i] === value) return false;
    this.items.splice(i, 0, value);
    return true;
  }

  /** Returns false when the value was not present. */
  delete(value: bigint): boolean {
    const i = this.lowerBound(value);
    if (this.items[i] !== value) return false;
    this.items.splice(i, 1);
    return true;
  }

  /**
   * The smallest y >= x that is not in the set. From the first element >= x, the run of consecutive values
   * x, x+1, ... ends at the first index i where items[i] - x > i - p; that predicate is monotone because the
   * items are distinct and sorted, so the end of the run is found by binary search too.
   */
  firstAbsentAtOrAfter(x: bigint): bigint {
    const p = this.lowerBound(x);
    if (this.items[p] !== x) return x;
    let lo = p;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.at(mid) - x > BigInt(mid - p)) hi = mid;
      else lo = mid + 1;
    }
    return x + BigInt(lo - p);
  }

  /** The smallest element >= x, if any. */
  firstAtOrAfter(x: bigint): bigint | undefined {
    return this.items[this.lowerBound(x)];
  }

  /**
   * The smallest element >= x that is not in `subset`, which must hold only elements of this set. Past x,
   * the two sorted arrays agree index by index until the first element `subset` lacks, and disagree from
   * there on (subset has fallen behind for good), so that element is found by binary search as well.
   */
  firstNotIn(subset: SortedBigints, x: bigint): bigint | undefined {
    const i0 = this.lowerBound(x);
    const j0 = subset.lowerBound(x);
    let lo = i0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (subset.items[j0 + (mid - i0)] !== this.at(mid)) hi = mid;
      else lo = mid + 1;
    }
    return this.items[lo];
  }

  /** Index of the first element >= value (items.length when none). */
  private lowerBound(value: bigint): number {
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.at(mid) < value) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private at(i: number): bigint {
    const v = this.items[i];
    if (v === undefined) throw new RangeError(`index ${i} out of bounds`);
    return v;
  }
}
