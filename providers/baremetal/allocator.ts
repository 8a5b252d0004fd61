/**
 * The address allocator: pure, synchronous, deterministic in-memory state, keyed by "namespace/name".
 * It has no store of its own: after a restart, restore() rebuilds it from Service status, as MetalLB's
 * controller does (MLB controller/service.go; ../shared/reference/baremetal.md section 2).
 *
 * Rules (MetalLB's, MLB internal/allocator/allocator.go, except where noted):
 * - Stable: a Service keeps the addresses it holds for as long as they are still valid. It moves only when
 *   it asks to: different requested addresses, or a pool annotation naming another pool. Unlike MetalLB,
 *   an address that became invalid (a conflict, or its pool was removed) is never moved silently: the
 *   Service keeps it and allocate() throws, because a new address breaks every client and DNS record.
 * - Requested addresses must lie in a pool (any pool: autoAssign only governs automatic picks) and be free,
 *   or shareable under the sharing rules (sharing.ts).
 * - Otherwise the lowest free (or shareable) address is taken from the named pool, or from the autoAssign
 *   pools in name order; every family from the same pool, as MetalLB does for dual-stack.
 */
import type { IPFamily } from "../../src/provider.js";
import { AddressBook, type Holder } from "./address-book.js";
import { AddressPicker } from "./address-picker.js";
import { validatePools, type AddressPool } from "./address-pool.js";
import type { Allocation, AllocationIssue, AllocationRequest, PoolUsage, RestoreRequest } from "./allocation-types.js";
import { ANNOTATION_ADDRESS_POOL, annotationField } from "./annotations.js";
import {
  ALLOCATION_RETRY_AFTER_MS,
  AddressNotInPoolError,
  PoolScopeError,
  UnknownPoolError,
  type AddressInUseError,
} from "./baremetal-errors.js";
import { formatIPValue, parseIPValue, type IPValue } from "../../src/toolkit/index.js";
import { PoolIndex } from "./pool-index.js";
import { scopeRefusal, type ServiceIdentity } from "./pool-scope.js";
import { checkFamilies, parseRequestedAddresses } from "./requested-addresses.js";
import { sharingConflict, type SharingParty } from "./sharing.js";

export interface AllocatorOptions {
  readonly pools: readonly AddressPool[];
  /** Delay carried by AddressInUseError and PoolExhaustedError. Default ALLOCATION_RETRY_AFTER_MS. */
  readonly retryAfterMs?: number;
}

export class AddressAllocator {
  private index: PoolIndex;
  private readonly retryAfterMs: number;
  private readonly book = new AddressBook();

  /** Throws InvalidPoolError for invalid or overlapping pools. */
  constructor(options: AllocatorOptions) {
    this.index = new PoolIndex(validatePools(options.pools, "address pools"));
    this.retryAfterMs = options.retryAfterMs ?? ALLOCATION_RETRY_AFTER_MS;
  }

  get pools(): readonly AddressPool[] {
    return this.index.pools;
  }

  /**
   * Returns one address per requested family, in `request.ipFamilies` order, and records them for `key`.
   * Transactional: on any error the state is unchanged (the Service keeps what it held), except that an
   * allocation left by a deleted namesake with another uid is dropped first.
   */
  allocate(key: string, request: AllocationRequest): string[] {
    checkFamilies(request.ipFamilies);
    const families = request.ipFamilies;
    this.checkNamedPool(request);
    const previous = this.book.get(key);
    if (previous?.uid !== undefined && request.uid !== undefined && previous.uid !== request.uid) this.unassign(key);
    const current = this.book.get(key);
    const party: SharingParty = {
      key,
      sharingKey: request.sharingKey,
      backendKey: request.backendKey,
      backendKnown: true,
      ports: [...request.ports],
    };
    const field = request.requestedBy ?? "spec.loadBalancerIP";
    const requested = parseRequestedAddresses(request.requestedIPs, families, field);

    let addrs: IPValue[];
    if (requested.length > 0) {
      addrs = this.checkRequested(requested, request, party, field);
    } else if (current !== undefined && this.keepable(current, families, request.pool)) {
      addrs = this.keep(current, families, party, request.service);
    } else {
      addrs = this.picker().pick(families, request.pool, party, request.service);
    }

    this.assign(key, { uid: request.uid ?? current?.uid, addrs, party });
    return addrs.map(formatIPValue);
  }

  /**
   * Frees `key`'s addresses. Idempotent. With `uid`, only an allocation made for that uid (or restored
   * without one) is freed, so a late delete of a deleted Service cannot free its recreated namesake's address.
   */
  release(key: string, uid?: string): boolean {
    const holder = this.book.get(key);
    if (holder === undefined) return false;
    if (uid !== undefined && holder.uid !== undefined && holder.uid !== uid) return false;
    this.unassign(key);
    return true;
  }

  /**
   * Records addresses a Service already holds (from its status) as they are, even when they conflict with
   * another Service or lie outside every pool: they are in use on the network, so handing them to anyone
   * else would be worse. Such cases come back as issues; allocate() for these keys then throws until resolved.
   */
  restore(key: string, ips: readonly string[], request: RestoreRequest): AllocationIssue[] {
    const issues: AllocationIssue[] = [];
    const addrs: IPValue[] = [];
    for (const text of ips) {
      const addr = parseIPValue(text.trim());
      if (addr === undefined) {
        const message = `${key}: status address ${JSON.stringify(text)} is not an IP address; ignored`;
        issues.push({ kind: "invalid-address", key, ip: text, message });
      } else if (!addrs.some((a) => a.value === addr.value && a.family === addr.family)) addrs.push(addr);
    }
    if (addrs.length === 0) return issues;
    const party: SharingParty = {
      key,
      sharingKey: request.sharingKey,
      backendKey: request.backendKey,
      backendKnown: request.backendKey !== undefined,
      ports: [...request.ports],
    };
    for (const addr of addrs) {
      const outside = this.outsideReason(key, addr);
      if (outside !== undefined) issues.push(outside);
      const conflict = this.conflict(addr, party);
      if (conflict !== undefined) {
        issues.push({ kind: "conflict", key, ip: formatIPValue(addr), message: `${key}: ${conflict.message}` });
      }
    }
    this.assign(key, { uid: request.uid, addrs, party });
    return issues;
  }

  /**
   * Replaces the pools (throws InvalidPoolError and changes nothing if they are invalid). Allocations now
   * outside every pool are kept and returned as issues, never moved.
   */
  setPools(pools: readonly AddressPool[]): AllocationIssue[] {
    const index = new PoolIndex(validatePools(pools, "address pools"));
    for (const addr of this.book.addresses()) index.markUsed(addr);
    this.index = index;
    const issues: AllocationIssue[] = [];
    for (const key of this.book.keys()) {
      for (const addr of this.book.get(key)?.addrs ?? []) {
        const outside = this.outsideReason(key, addr);
        if (outside !== undefined) issues.push(outside);
      }
    }
    return issues;
  }

  assigned(key: string): Allocation | undefined {
    const holder = this.book.get(key);
    if (holder === undefined) return undefined;
    const addresses = holder.addrs.map((addr) => {
      const loc = this.index.locate(addr);
      const pool = loc === undefined || loc.excluded ? undefined : loc.pool.name;
      return { ip: formatIPValue(addr), family: addr.family, pool };
    });
    const { sharingKey, backendKey, ports } = holder.party;
    return { key, uid: holder.uid, addresses, sharingKey, backendKey, ports };
  }

  usage(pool: string): PoolUsage | undefined {
    if (this.index.pool(pool) === undefined) return undefined;
    const capacity = { IPv4: this.index.capacity(pool, "IPv4"), IPv6: this.index.capacity(pool, "IPv6") };
    const used = { IPv4: this.index.usedCount(pool, "IPv4"), IPv6: this.index.usedCount(pool, "IPv6") };
    return { pool, capacity, used };
  }

  /** The pool annotation must name a pool that exists and whose serviceAllocation admits the Service. */
  private checkNamedPool(request: AllocationRequest): void {
    if (request.pool === undefined) return;
    const named = this.index.pool(request.pool);
    if (named === undefined) {
      const message = `unknown address pool ${JSON.stringify(request.pool)} (pools: ${this.index.describe()})`;
      throw new UnknownPoolError(annotationField(ANNOTATION_ADDRESS_POOL), request.pool, message);
    }
    const refusal = scopeRefusal(named, request.service);
    if (refusal !== undefined) throw new PoolScopeError(annotationField(ANNOTATION_ADDRESS_POOL), named.name, refusal);
  }

  private checkRequested(
    requested: IPValue[],
    request: AllocationRequest,
    party: SharingParty,
    field: string,
  ): IPValue[] {
    const pool = request.pool;
    for (const addr of requested) {
      const ip = formatIPValue(addr);
      const loc = this.index.locate(addr);
      let problem: string | undefined;
      if (loc === undefined) {
        problem = `address ${ip} is in no address pool (pools: ${this.index.describe()})`;
      } else if (loc.excluded) {
        problem = `address ${ip} ends in .0 or .255, which pool ${loc.pool.name} excludes (avoidBuggyIPs)`;
      } else if (pool !== undefined && loc.pool.name !== pool) {
        problem = `address ${ip} is in pool ${loc.pool.name}, not in pool ${pool} named by ${ANNOTATION_ADDRESS_POOL}`;
      }
      if (problem !== undefined) throw new AddressNotInPoolError(field, ip, problem);
      const refusal = loc === undefined ? undefined : scopeRefusal(loc.pool, request.service);
      if (loc !== undefined && refusal !== undefined) {
        throw new PoolScopeError(field, loc.pool.name, `address ${ip} is in pool ${loc.pool.name}: ${refusal}`);
      }
      this.throwIfConflict(addr, party);
    }
    return requested;
  }

  /** The held addresses still count unless the Service now names a different pool (an explicit move). */
  private keepable(current: Holder, families: readonly IPFamily[], pool: string | undefined): boolean {
    const kept = current.addrs.filter((a) => families.includes(a.family));
    return kept.length > 0 && (pool === undefined || kept.every((a) => this.index.locate(a)?.pool.name === pool));
  }

  /** Keeps what is held, drops unwanted families, adds a missing one from the same pool (single -> dual stack). */
  private keep(
    current: Holder,
    families: readonly IPFamily[],
    party: SharingParty,
    service: ServiceIdentity | undefined,
  ): IPValue[] {
    let poolName = "";
    for (const addr of current.addrs.filter((a) => families.includes(a.family))) {
      const ip = formatIPValue(addr);
      const loc = this.index.locate(addr);
      if (loc === undefined || loc.excluded) {
        const message =
          `address ${ip} held by this Service is no longer in any address pool (pools: ${this.index.describe()}); ` +
          "add it back to a pool, or move the Service by requesting an address or naming a pool " +
          `(${ANNOTATION_ADDRESS_POOL})`;
        throw new AddressNotInPoolError("status.loadBalancer.ingress", ip, message);
      }
      poolName = loc.pool.name;
      // Not moved silently either: the pool's scope changed, or the Service left it (namespace labels, its labels).
      const refusal = scopeRefusal(loc.pool, service);
      if (refusal !== undefined) {
        const message =
          `address ${ip} held by this Service is in pool ${loc.pool.name}: ${refusal}; move the Service by ` +
          `requesting an address or naming a pool (${ANNOTATION_ADDRESS_POOL}), or widen the pool's serviceAllocation`;
        throw new PoolScopeError("status.loadBalancer.ingress", loc.pool.name, message);
      }
      this.throwIfConflict(addr, party);
    }
    const picker = this.picker();
    return families.map((f) => current.addrs.find((a) => a.family === f) ?? picker.pickFamily(poolName, f, party));
  }

  private picker(): AddressPicker {
    return new AddressPicker(this.index, this.book, this.retryAfterMs);
  }

  private conflict(addr: IPValue, party: SharingParty): AddressInUseError | undefined {
    return sharingConflict(formatIPValue(addr), party, this.book.others(addr, party.key), this.retryAfterMs);
  }

  private throwIfConflict(addr: IPValue, party: SharingParty): void {
    const conflict = this.conflict(addr, party);
    if (conflict !== undefined) throw conflict;
  }

  private outsideReason(key: string, addr: IPValue): AllocationIssue | undefined {
    const ip = formatIPValue(addr);
    const loc = this.index.locate(addr);
    if (loc !== undefined && !loc.excluded) return undefined;
    const why =
      loc === undefined
        ? `is in no address pool (pools: ${this.index.describe()})`
        : `is excluded by avoidBuggyIPs of pool ${loc.pool.name}`;
    return { kind: "outside-pools", key, ip, message: `${key}: address ${ip} ${why}; kept, not moved` };
  }

  /** Unconditional: callers have checked what needs checking. */
  private assign(key: string, holder: Holder): void {
    // Re-ensuring a Service re-assigns the same addresses: skip the index updates that would cancel out.
    const freed = new Map(this.book.unassign(key).map((a) => [formatIPValue(a), a]));
    for (const addr of this.book.add(key, holder)) {
      if (!freed.delete(formatIPValue(addr))) this.index.markUsed(addr);
    }
    for (const addr of freed.values()) this.index.markFree(addr);
  }

  private unassign(key: string): void {
    for (const addr of this.book.unassign(key)) this.index.markFree(addr);
  }
}
