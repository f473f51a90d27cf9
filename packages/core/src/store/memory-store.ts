import { LRUCache } from 'lru-cache'
import {
  type BalanceEntry,
  type BalanceStore,
  type EntrySnapshot,
  type Observation,
  type OrderLock,
  type ReserveOutcome,
  type Settlement,
} from './balance-store'
import { commitTo, countOrder, newEntry, observeOn, reserveFrom, settleOn, snapshotOf } from './entry-steps'

export interface MemoryStoreOptions {
  /** Most (plan, holder) pairs kept; the least recently used go first. Default 10,000. */
  max?: number
}

const NO_LOCK: OrderLock = { release() {} }

/**
 * The default `BalanceStore`: one process, in memory, synchronous (so every method is trivially
 * atomic). Entries holding reservations or unacknowledged redemptions are never forgotten by the
 * LRU: forgetting them would let the next balance read hand those credits out again.
 *
 * @example
 * const gate = createPlanGate({ store: new MemoryBalanceStore({ max: 50_000 }) })
 */
export class MemoryBalanceStore implements BalanceStore {
  readonly #entries: LRUCache<string, BalanceEntry>
  /** Evicted while credits were outstanding; dropped once they settle. */
  readonly #pinned = new Map<string, BalanceEntry>()
  /** Times of recent orders per key, for the spend guard. */
  readonly #orders: LRUCache<string, number[]>

  constructor(options: MemoryStoreOptions = {}) {
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
    return reserveFrom(this.#find(key), cost, now, ttlMs)
  }

  release(key: string, cost: number): void {
    const entry = this.#find(key)
    if (entry === undefined) return
    entry.reserved -= cost
    this.#unpin(key, entry)
  }

  commit(key: string, cost: number, served = cost): void {
    const entry = this.#find(key)
    if (entry !== undefined) commitTo(entry, cost, served)
  }

  settle(key: string, amount: number, settlement: Settlement): void {
    const entry = this.#find(key)
    if (entry === undefined) return
    settleOn(entry, amount, settlement)
    this.#unpin(key, entry)
  }

  observe(key: string, observation: Observation, startedAt: EntrySnapshot, now: number): void {
    observeOn(this.#find(key) ?? this.#create(key), observation, startedAt, now)
  }

  snapshot(key: string): EntrySnapshot {
    return snapshotOf(this.#find(key))
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

  #find(key: string): BalanceEntry | undefined {
    return this.#entries.get(key) ?? this.#pinned.get(key)
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
