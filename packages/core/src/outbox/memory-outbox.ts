import type { BalanceStore, CommitOutcome, EntrySnapshot, Observation, OrderLock, ReserveOutcome, Settlement } from '../store/balance-store'
import { MemoryBalanceStore } from '../store/memory-store'
import type { OutboxRecord, SettlementOutbox } from '../store/outbox'
import { resolveMemoryOutboxOptions, type MemoryOutboxOptions } from './memory-outbox-options'

export type { MemoryOutboxOptions } from './memory-outbox-options'

/** One owner's part of one key's outbox (the Redis store's q:, f:, b:, s: fields). */
interface OwnerPart {
  recorded: number
  inFlight: number
  baseline: OutboxRecord['baseline']
  record: string | undefined
}

/** The outbox beside one entry: its owners' parts, and when it goes if it stays idle. */
interface KeyOutbox {
  owners: Map<string, OwnerPart>
  /** Set while no owner has credits recorded or in flight (the store's clock); undefined while busy. */
  idleUntil: number | undefined
}

/** A reservation granted through `reserveRecorded`: whose it is, and when its lease ends. */
interface OwnedReservation {
  owner: string
  credits: number
  until: number
}

/**
 * A `MemoryBalanceStore` that also keeps a settlement outbox (`SettlementOutbox`), with the
 * meaning the Redis store's gives it (see outbox-scripts.ts in `@plangate/redis`): records per
 * owner, credits marked in flight with the entry as it stood, owner leases claimed once lapsed,
 * adoption of a lapsed owner's credits and reservations, and idle outboxes forgotten after
 * `entryTtlMs`. Everything runs on one clock, `now` (the store's, as Redis's `TIME` is Redis's):
 * the `now` callers pass to `renewOwner` and `claimLapsedOwner` is ignored, as it is there.
 *
 * One process's memory dies with it, so this buys nothing on its own against a crash: it is what
 * lets two gates in one process (tests, or a gate restarted in place) hand served credits on, and
 * what a test of the outbox keeper runs on without a Redis server. A gate given one reports
 * `gate.recordsServed`.
 *
 * @example
 * let time = Date.now()
 * const store = new MemoryOutboxStore({ now: () => time, ownerLeaseMs: 1_000 })
 * await store.renewOwner('gate-a', time)
 * time += 1_001
 * await store.claimLapsedOwner(time) // 'gate-a'
 */
export class MemoryOutboxStore implements BalanceStore, SettlementOutbox {
  readonly ownerLeaseMs: number
  readonly #store: MemoryBalanceStore
  readonly #now: () => number
  readonly #leaseMs: number
  readonly #idleMs: number
  readonly #outboxes = new Map<string, KeyOutbox>()
  /** Per key, the reservations `reserveRecorded` granted and still counts as held. */
  readonly #owned = new Map<string, Map<string, OwnedReservation>>()
  /** Each owner's lease end (the store's clock). */
  readonly #leases = new Map<string, number>()
  readonly #index = new Map<string, Set<string>>()
  readonly #locks = new Map<string, { token: symbol; until: number }>()

  constructor(options: MemoryOutboxOptions = {}) {
    const resolved = resolveMemoryOutboxOptions(options)
    this.#now = resolved.now
    this.#leaseMs = resolved.reservationLeaseMs
    this.#idleMs = resolved.entryTtlMs
    this.ownerLeaseMs = resolved.ownerLeaseMs
    this.#store = new MemoryBalanceStore({ max: options.max, reservationLeaseMs: resolved.reservationLeaseMs, now: resolved.now })
  }

  // The balance store: the memory store's steps, with the reservations of owners kept apart.

  reserve(key: string, cost: number, now: number, ttlMs: number): Promise<ReserveOutcome> {
    return Promise.resolve(this.#store.reserve(key, cost, now, ttlMs))
  }

  release(key: string, reservationId: string): Promise<void> {
    this.#store.release(key, reservationId)
    this.#owned.get(key)?.delete(reservationId)
    return Promise.resolve()
  }

  commit(key: string, reservationId: string, cost: number, served?: number): Promise<CommitOutcome> {
    this.#owned.get(key)?.delete(reservationId)
    return Promise.resolve(this.#store.commit(key, reservationId, cost, served))
  }

  settle(key: string, amount: number, settlement: Settlement): Promise<void> {
    this.#store.settle(key, amount, settlement)
    return Promise.resolve()
  }

  observe(key: string, observation: Observation, startedAt: EntrySnapshot, now: number): Promise<void> {
    this.#store.observe(key, observation, startedAt, now)
    return Promise.resolve()
  }

  snapshot(key: string): Promise<EntrySnapshot> {
    return Promise.resolve(this.#store.snapshot(key))
  }

  recordOrder(key: string, now: number, windowMs: number, max: number): Promise<boolean> {
    return Promise.resolve(this.#store.recordOrder(key, now, windowMs, max))
  }

  /**
   * Exclusive, as a shared store's is: `startRedemption` waits while it is held. Unlike Redis's,
   * it is not refused after a balance read that raced another: like `MemoryBalanceStore`, this
   * store's reads are one process's, ordered by the gate's own single-flight.
   */
  lockOrder(key: string, ttlMs: number): Promise<OrderLock | undefined> {
    const at = this.#now()
    const held = this.#locks.get(key)
    if (held !== undefined && held.until > at) return Promise.resolve(undefined)
    const token = Symbol('order lock')
    this.#locks.set(key, { token, until: at + Math.max(1, Math.ceil(ttlMs)) })
    return Promise.resolve({
      release: () => {
        if (this.#locks.get(key)?.token === token) this.#locks.delete(key)
      },
    })
  }

  // The outbox.

  reserveRecorded(key: string, cost: number, now: number, ttlMs: number, owner: string): Promise<ReserveOutcome> {
    // Read before the step: the store's own lease end is this or a moment later, never earlier.
    const until = this.#now() + this.#leaseMs
    const outcome = this.#store.reserve(key, cost, now, ttlMs)
    if (outcome.ok && outcome.reservationId !== '') {
      const owned = this.#owned.get(key) ?? new Map<string, OwnedReservation>()
      owned.set(outcome.reservationId, { owner, credits: cost, until })
      this.#owned.set(key, owned)
    }
    return Promise.resolve(outcome)
  }

  commitRecorded(key: string, reservationId: string, cost: number, owner: string, record: string | undefined, served?: number): Promise<CommitOutcome & { hasRecord: boolean }> {
    this.#owned.get(key)?.delete(reservationId)
    const outcome = this.#store.commit(key, reservationId, cost, served)
    const box = this.#outbox(key)
    const part = partOf(box, owner)
    part.recorded += served ?? cost
    box.idleUntil = undefined
    if (record !== undefined) part.record = record
    return Promise.resolve({ ...outcome, hasRecord: part.record !== undefined })
  }

  writeRecord(key: string, owner: string, record: string): Promise<void> {
    partOf(this.#outbox(key), owner).record = record
    return Promise.resolve()
  }

  startRedemption(key: string, amount: number, owner: string): Promise<'started' | 'wait' | 'gone' | 'lost'> {
    const at = this.#store.snapshot(key)
    // The memory store makes an entry only on a balance read (epoch 1 on): epoch 0 is none held.
    if (at.epoch === 0) return Promise.resolve('lost')
    const lock = this.#locks.get(key)
    if (lock !== undefined && lock.until > this.#now()) return Promise.resolve('wait')
    const part = this.#outbox(key).owners.get(owner)
    if (part === undefined || part.recorded < amount) return Promise.resolve('gone')
    part.recorded -= amount
    part.inFlight += amount
    if (part.inFlight === amount) part.baseline = { upstream: at.upstream, acked: at.acked, total: at.total }
    return Promise.resolve('started')
  }

  settleRecorded(key: string, amount: number, settlement: Settlement, owner: string): Promise<boolean> {
    const box = this.#outbox(key)
    const part = box.owners.get(owner)
    if (part === undefined || part.inFlight < amount) return Promise.resolve(false)
    this.#store.settle(key, amount, settlement)
    part.inFlight -= amount
    if (part.inFlight <= 0) {
      part.inFlight = 0
      part.baseline = undefined
    }
    this.#idleIfQuiet(key, box)
    return Promise.resolve(true)
  }

  redemptionsInFlight(key: string): Promise<number> {
    let sum = 0
    for (const part of this.#outbox(key).owners.values()) sum += part.inFlight
    return Promise.resolve(sum)
  }

  indexKey(owner: string, key: string): Promise<void> {
    const keys = this.#index.get(owner) ?? new Set<string>()
    keys.add(key)
    this.#index.set(owner, keys)
    return Promise.resolve()
  }

  ownerKeys(owner: string): Promise<string[]> {
    return Promise.resolve([...(this.#index.get(owner) ?? [])])
  }

  renewOwner(owner: string, _now: number): Promise<void> {
    this.#leases.set(owner, this.#now() + this.ownerLeaseMs)
    return Promise.resolve()
  }

  claimLapsedOwner(_now: number): Promise<string | undefined> {
    const at = this.#now()
    let dead: string | undefined
    let earliest = Infinity
    for (const [owner, until] of this.#leases) {
      if (until < at && until < earliest) [dead, earliest] = [owner, until]
    }
    if (dead !== undefined) this.#leases.set(dead, at + this.ownerLeaseMs)
    return Promise.resolve(dead)
  }

  readRecord(key: string, owner: string): Promise<OutboxRecord | undefined> {
    const part = this.#outbox(key).owners.get(owner)
    const at = this.#now()
    let reserved = 0
    for (const held of this.#owned.get(key)?.values() ?? []) if (held.owner === owner && held.until > at) reserved += held.credits
    const recorded = part?.recorded ?? 0
    const inFlight = part?.inFlight ?? 0
    const record = part?.record ?? ''
    if (recorded === 0 && inFlight === 0 && reserved === 0 && record === '') return Promise.resolve(undefined)
    return Promise.resolve({ record, reserved, recorded, inFlight, baseline: part?.baseline })
  }

  adopt(key: string, from: string, to: string): Promise<number> {
    // The reservations `from` still held go back (a release of one arriving later does nothing).
    const owned = this.#owned.get(key)
    for (const [id, held] of owned ?? []) {
      if (held.owner !== from) continue
      this.#store.release(key, id)
      owned!.delete(id)
    }
    const box = this.#outbox(key)
    const part = box.owners.get(from)
    const moved = (part?.recorded ?? 0) + (part?.inFlight ?? 0)
    const heir = partOf(box, to)
    heir.recorded += moved
    if (heir.record === undefined && part?.record !== undefined) heir.record = part.record
    // As in Redis, adopting leaves the outbox's expiry as it was: credits moved keep it busy.
    box.owners.delete(from)
    return Promise.resolve(moved)
  }

  dropOwner(owner: string): Promise<void> {
    this.#index.delete(owner)
    this.#leases.delete(owner)
    return Promise.resolve()
  }

  /** The outbox of `key`, forgotten first if it stayed idle for `entryTtlMs` (as Redis expires it). */
  #outbox(key: string): KeyOutbox {
    let box = this.#outboxes.get(key)
    if (box !== undefined && box.idleUntil !== undefined && box.idleUntil <= this.#now()) {
      this.#outboxes.delete(key)
      box = undefined
    }
    if (box === undefined) {
      box = { owners: new Map(), idleUntil: undefined }
      this.#outboxes.set(key, box)
    }
    return box
  }

  /** Nothing recorded or in flight by anyone: the outbox (records of who pays too) may go. */
  #idleIfQuiet(key: string, box: KeyOutbox): void {
    for (const part of box.owners.values()) if (part.recorded > 0 || part.inFlight > 0) return
    box.idleUntil = this.#now() + this.#idleMs
    // Reservations whose lease ended are no one's any more.
    const owned = this.#owned.get(key)
    const at = this.#now()
    for (const [id, held] of owned ?? []) if (held.until <= at) owned!.delete(id)
    if (owned?.size === 0) this.#owned.delete(key)
  }
}

function partOf(box: KeyOutbox, owner: string): OwnerPart {
  let part = box.owners.get(owner)
  if (part === undefined) {
    part = { recorded: 0, inFlight: 0, baseline: undefined, record: undefined }
    box.owners.set(owner, part)
  }
  return part
}
