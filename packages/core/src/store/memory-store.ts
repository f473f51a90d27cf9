import { LRUCache } from 'lru-cache'
import {
  type BalanceEntry,
  type BalanceStore,
  type CommitOutcome,
  type EntrySnapshot,
  type Observation,
  type OrderLock,
  type ReserveOutcome,
  type Settlement,
} from './balance-store'
import { commitNowhere, commitTo, countOrder, newEntry, observeOn, releaseFrom, reserveFrom, settleOn, snapshotOf } from './entry-steps'
import { resolveReservationLeaseMs, sweepLeases } from './leases'

export interface MemoryStoreOptions {
  /** Most (plan, holder) pairs kept; the least recently used go first. Default 10,000. */
  max?: number
  /**
   * How long a reservation is held without its release or commit (ms, 1 to one week): then its
   * credits go back, so a release that never came (a crashed handler, a lost call) does not keep
   * them from the holder. Longer than any request lives: a commit after it still burns what was
   * served. Default 600,000 (ten minutes).
   */
  reservationLeaseMs?: number
  /** The clock leases are timed by (ms). Default `Date.now`; a test may move it. */
  now?: () => number
}

const NO_LOCK: OrderLock = { release() {} }

/**
 * The default `BalanceStore`: one process, in memory, synchronous (so every method is trivially
 * atomic). Entries holding reservations or unacknowledged redemptions are never forgotten by the
 * LRU: forgetting them would let the next balance read hand those credits out again.
 *
 * @example
 * const gate = createPlanGate({ store: new MemoryBalanceStore({ max: 50_000, reservationLeaseMs: 120_000 }) })
 */
export class MemoryBalanceStore implements BalanceStore {
  readonly #entries: LRUCache<string, BalanceEntry>
  /** Evicted while credits were outstanding; dropped once they settle. */
  readonly #pinned = new Map<string, BalanceEntry>()
  /** Times of recent orders per key, for the spend guard. */
  readonly #orders: LRUCache<string, number[]>
  readonly #leaseMs: number
  readonly #now: () => number
  /** The last reservation id handed out: ids are unique for the store's life. */
  #lastId = 0

  constructor(options: MemoryStoreOptions = {}) {
    this.#leaseMs = resolveReservationLeaseMs(options.reservationLeaseMs, 'plangate (MemoryBalanceStore)')
    if (options.now !== undefined && typeof options.now !== 'function') {
      throw new TypeError('plangate (MemoryBalanceStore): invalid option "now": expected a function returning epoch milliseconds.')
    }
    this.#now = options.now ?? Date.now
    this.#orders = new LRUCache<string, number[]>({ max: options.max ?? 10_000 })
    this.#entries = new LRUCache<string, BalanceEntry>({
      max: options.max ?? 10_000,
      dispose: (entry, key, reason) => {
        if ((reason === 'evict' || reason === 'delete') && (entry.reserved > 0 || entry.pending > 0)) {
          this.#pinned.set(key, entry)
        }
      },
    })
  }

  /** How many entries are held (for tests and benchmarks). */
  get size(): number {
    return this.#entries.size + this.#pinned.size
  }

  /**
   * The keys of the entries held, `<planId>:<holder address>` (for tests and debugging). Never an
   * API key: the gate keys balances by the holder's address.
   */
  keys(): string[] {
    return [...this.#entries.keys(), ...this.#pinned.keys()]
  }

  reserve(key: string, cost: number, now: number, ttlMs: number): ReserveOutcome {
    const at = this.#now()
    const entry = this.#find(key, at)
    return reserveFrom(entry, cost, now, ttlMs, cost > 0 ? String(++this.#lastId) : '', at + this.#leaseMs)
  }

  release(key: string, reservationId: string): void {
    const entry = this.#find(key, this.#now())
    if (entry === undefined) return
    releaseFrom(entry, reservationId)
    this.#unpin(key, entry)
  }

  commit(key: string, reservationId: string, cost: number, served?: number): CommitOutcome {
    const at = this.#now()
    const entry = this.#find(key, at)
    if (entry === undefined) return commitNowhere(served ?? cost)
    return commitTo(entry, reservationId, cost, served, at)
  }

  settle(key: string, amount: number, settlement: Settlement): void {
    const entry = this.#find(key, this.#now())
    if (entry === undefined) return
    settleOn(entry, amount, settlement)
    this.#unpin(key, entry)
  }

  observe(key: string, observation: Observation, startedAt: EntrySnapshot, now: number): void {
    observeOn(this.#find(key, this.#now()) ?? this.#create(key), observation, startedAt, now)
  }

  snapshot(key: string): EntrySnapshot {
    return snapshotOf(this.#find(key, this.#now()))
  }

  recordOrder(key: string, now: number, windowMs: number, max: number): boolean {
    const { times, allowed } = countOrder(this.#orders.get(key) ?? [], now, windowMs, max)
    this.#orders.set(key, times)
    return allowed
  }

  lockOrder(): OrderLock {
    // One process: the gate's own single-flight already allows one order per key.
    return NO_LOCK
  }

  /** The entry, its ended leases given back first (every step goes through here). */
  #find(key: string, at: number): BalanceEntry | undefined {
    const entry = this.#entries.get(key) ?? this.#pinned.get(key)
    if (entry !== undefined && sweepLeases(entry, at) && entry.reserved === 0 && entry.pending === 0 && this.#pinned.get(key) === entry) {
      // Pinned only by leases that ended: back to the LRU (the step may write to it), which may let it go.
      this.#pinned.delete(key)
      this.#entries.set(key, entry)
    }
    return entry
  }

  #create(key: string): BalanceEntry {
    const entry = newEntry()
    this.#entries.set(key, entry)
    return entry
  }

  #unpin(key: string, entry: BalanceEntry): void {
    if (entry.reserved === 0 && entry.pending === 0 && this.#pinned.get(key) === entry) this.#pinned.delete(key)
  }
}
