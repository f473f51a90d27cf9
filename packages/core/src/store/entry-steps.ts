import { available, type BalanceEntry, type CommitOutcome, type EntrySnapshot, type Observation, type ReserveOutcome, type Settlement } from './balance-store'
import { holdLease, takeLease } from './leases'

/**
 * The `BalanceStore` steps on one entry, as pure functions: `MemoryBalanceStore` runs them on its
 * LRU entries, the Durable Object store (`@plangate/cloudflare`) on the record of its object. One
 * definition of what each step means; a store only has to run each one atomically, each after
 * `sweepLeases(entry, at)` (leases.ts): every step first gives back the reservations whose lease
 * ended. `at` is the store's own clock, the one leases are timed by; `now` is the caller's.
 */

export function newEntry(): BalanceEntry {
  return { upstream: 0, reserved: 0, pending: 0, acked: 0, epoch: 0, total: undefined, expiresAt: null, observedAt: 0, observed: undefined, lastAckFrom: -1, lastAckWord: undefined, leases: new Map(), sweepAt: Infinity }
}

/**
 * Take `cost` credits if the entry is fresh (observed within `ttlMs`) and can cover them, held
 * under `id` until `leaseEnd` (ms, the store's clock). A cost of 0 holds nothing.
 */
export function reserveFrom(entry: BalanceEntry | undefined, cost: number, now: number, ttlMs: number, id: string, leaseEnd: number): ReserveOutcome {
  if (entry === undefined || entry.observedAt === 0 || now - entry.observedAt > ttlMs) {
    return { ok: false, reason: 'stale', remaining: entry ? available(entry, now) : 0 }
  }
  const left = available(entry, now)
  if (left < cost) return { ok: false, reason: 'insufficient', remaining: left }
  if (cost === 0) return { ok: true, remaining: left, expiresAt: entry.expiresAt, reservationId: '' }
  holdLease(entry, id, cost, leaseEnd)
  return { ok: true, remaining: left - cost, expiresAt: entry.expiresAt, reservationId: id }
}

/** The reservation `id` goes back; nothing when it is no longer held (ended, released already). */
export function releaseFrom(entry: BalanceEntry, id: string): void {
  takeLease(entry, id)
}

/** Every `commit` that changed nothing but its own reservation. */
const ON_TIME: CommitOutcome = Object.freeze({ late: false, shortfall: 0 })

/**
 * The reservation `id` (of `cost`) served: `served` of it to `pending` until its burn ends, the
 * rest back. When it is no longer held (its lease ended), what was served is burned all the same:
 * `served` goes to `pending`, taken from what is available (`at` judges the credits' expiry), and
 * what that did not cover is the shortfall.
 */
export function commitTo(entry: BalanceEntry, id: string, cost: number, servedCredits: number | undefined, at: number): CommitOutcome {
  const served = servedCredits ?? cost
  if (takeLease(entry, id) !== undefined || served === 0) {
    entry.pending += served
    return ON_TIME
  }
  const left = available(entry, at)
  entry.pending += served
  return { late: true, shortfall: Math.max(0, served - left) }
}

/** What `commit` answers for an entry the store does not hold at all (never observed, or forgotten). */
export function commitNowhere(served: number): CommitOutcome {
  return served > 0 ? { late: true, shortfall: 0 } : ON_TIME
}

/**
 * A burn of `amount` ended. `upstream` counts what is left once the burns acknowledged so far
 * are taken off (those still pending are held apart), so an answer's word is only a bound on it:
 * the burns acknowledged since this one started may or may not be in it (either may have burned
 * first), and so may the burns still pending (one may burn, and be in this word, and answer
 * later). The count so far, less this burn, is kept wherever it falls between the two bounds:
 * taking an end of the range would count an overlapping burn twice, and refuse credits that are
 * there until the next balance read. A word below the range (spent elsewhere) is taken as it is.
 */
export function settleOn(entry: BalanceEntry, amount: number, settlement: Settlement): void {
  entry.pending -= amount
  if (!settlement.ok) {
    entry.upstream -= amount
    entry.observedAt = 0
  } else if (settlement.startedAt.epoch === entry.epoch) {
    const word = settlement.remainingAfter
    const lowest = word - (entry.acked - settlement.startedAt.acked)
    const highest = word + entry.pending
    entry.upstream = Math.max(lowest, Math.min(entry.upstream - amount, highest))
  } else if (!(settlement.remainingAfter >= (entry.observed ?? Infinity))) {
    // A balance was read while this burn was in flight, and set `upstream`. A word below what
    // that read said means this burn came after it: taken off. A word at or above it means the
    // burn was already in the read (only credits bought in between could fool this, and those
    // are more than the burn, so the count stays below what is there): nothing to take off.
    entry.upstream -= amount
  }
  entry.lastAckFrom = entry.acked
  entry.lastAckWord = settlement.ok ? settlement.remainingAfter : undefined
  entry.acked += amount
}

/**
 * A balance observed upstream by a call that started at `startedAt`. The redemptions acknowledged
 * meanwhile may or may not be in it, and are taken off: counted twice rather than handed out
 * twice. Except when only one was, and its answer (at or above what this read says) shows it
 * burned before the read: then it is in the read (only credits bought in between could fool
 * this, and they leave the count below what is there).
 */
export function observeOn(entry: BalanceEntry, observation: Observation, startedAt: EntrySnapshot, now: number): void {
  const one = entry.lastAckFrom === startedAt.acked && entry.lastAckWord !== undefined && entry.lastAckWord >= observation.remaining
  entry.upstream = observation.remaining - (one ? 0 : entry.acked - startedAt.acked)
  entry.observed = observation.remaining
  entry.total = observation.total
  entry.expiresAt = observation.expiresAt
  entry.observedAt = now
  entry.epoch += 1
}

export function snapshotOf(entry: BalanceEntry | undefined): EntrySnapshot {
  if (entry === undefined) return { acked: 0, epoch: 0, upstream: 0, total: undefined, expiresAt: null, reserved: 0, pending: 0 }
  const { acked, epoch, upstream, total, expiresAt, reserved, pending } = entry
  return { acked, epoch, upstream, total, expiresAt, reserved, pending }
}

/** The spend guard: the recent order times, and whether one more may be counted. */
export function countOrder(times: readonly number[], now: number, windowMs: number, max: number): { times: number[]; allowed: boolean } {
  const recent = times.filter((at) => now - at < windowMs)
  if (recent.length >= max) return { times: recent, allowed: false }
  recent.push(now)
  return { times: recent, allowed: true }
}
