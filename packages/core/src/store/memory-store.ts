import { LRUCache } from 'lru-cache'
import {
  available,
  type BalanceEntry,
  type BalanceStore,
  type EntrySnapshot,
  type Observation,
  type OrderLock,
  type ReserveOutcome,
  type Settlement,
} from './balance-store'

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
    const entry = this.#find(key)
    if (entry === undefined || entry.observedAt === 0 || now - entry.observedAt > ttlMs) {
      return { ok: false, reason: 'stale', remaining: entry ? Math.max(0, available(entry, now)) : 0 }
    }
    const left = available(entry, now)
    if (left < cost) return { ok: false, reason: 'insufficient', remaining: Math.max(0, left) }
    entry.reserved += cost
    return { ok: true, remaining: left - cost, expiresAt: entry.expiresAt }
  }

  release(key: string, cost: number): void {
    const entry = this.#find(key)
    if (entry === undefined) return
    entry.reserved -= cost
    this.#unpin(key, entry)
  }

  commit(key: string, cost: number): void {
    const entry = this.#find(key)
    if (entry === undefined) return
    entry.reserved -= cost
    entry.pending += cost
  }

  settle(key: string, amount: number, settlement: Settlement): void {
    const entry = this.#find(key)
    if (entry === undefined) return
    entry.pending -= amount
    if (settlement.ok && settlement.startedAt.epoch === entry.epoch) {
      // Fresh word from upstream, less what other redemptions may have taken since it started.
      entry.upstream = settlement.remainingAfter - (entry.acked - settlement.startedAt.acked)
    } else {
      // A balance was observed while this redemption was in flight and may not include it.
      entry.upstream -= amount
      if (!settlement.ok) entry.observedAt = 0
    }
    entry.acked += amount
    this.#unpin(key, entry)
  }

  observe(key: string, observation: Observation, startedAt: EntrySnapshot, now: number): void {
    const entry = this.#find(key) ?? this.#create(key)
    entry.upstream = observation.remaining - (entry.acked - startedAt.acked)
    entry.total = observation.total
    entry.expiresAt = observation.expiresAt
    entry.observedAt = now
    entry.epoch += 1
  }

  snapshot(key: string): EntrySnapshot {
    const entry = this.#find(key)
    if (entry === undefined) {
      return { acked: 0, epoch: 0, upstream: 0, total: undefined, expiresAt: null, reserved: 0, pending: 0 }
    }
    const { acked, epoch, upstream, total, expiresAt, reserved, pending } = entry
    return { acked, epoch, upstream, total, expiresAt, reserved, pending }
  }

  recordOrder(key: string, now: number, windowMs: number, max: number): boolean {
    const recent = (this.#orders.get(key) ?? []).filter((at) => now - at < windowMs)
    if (recent.length >= max) {
      this.#orders.set(key, recent)
      return false
    }
    recent.push(now)
    this.#orders.set(key, recent)
    return true
  }

  lockOrder(): OrderLock {
    // One process: the gate's own single-flight already allows one order per key.
    return NO_LOCK
  }

  #find(key: string): BalanceEntry | undefined {
    return this.#entries.get(key) ?? this.#pinned.get(key)
  }

  #create(key: string): BalanceEntry {
    const entry: BalanceEntry = {
      upstream: 0,
      reserved: 0,
      pending: 0,
      acked: 0,
      epoch: 0,
      total: undefined,
      expiresAt: null,
      observedAt: 0,
    }
    this.#entries.set(key, entry)
    return entry
  }

  #unpin(key: string, entry: BalanceEntry): void {
    if (entry.reserved === 0 && entry.pending === 0 && this.#pinned.get(key) === entry) this.#pinned.delete(key)
  }
}
