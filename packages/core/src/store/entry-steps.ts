import { available, type BalanceEntry, type EntrySnapshot, type Observation, type ReserveOutcome, type Settlement } from './balance-store'

/**
 * The `BalanceStore` steps on one entry, as pure functions: `MemoryBalanceStore` runs them on its
 * LRU entries, the Durable Object store (`@plangate/cloudflare`) on the record of its object. One
 * definition of what each step means; a store only has to run each one atomically.
 */

export function newEntry(): BalanceEntry {
  return { upstream: 0, reserved: 0, pending: 0, acked: 0, epoch: 0, total: undefined, expiresAt: null, observedAt: 0 }
}

/** Take `cost` credits if the entry is fresh (observed within `ttlMs`) and can cover them. */
export function reserveFrom(entry: BalanceEntry | undefined, cost: number, now: number, ttlMs: number): ReserveOutcome {
  if (entry === undefined || entry.observedAt === 0 || now - entry.observedAt > ttlMs) {
    return { ok: false, reason: 'stale', remaining: entry ? Math.max(0, available(entry, now)) : 0 }
  }
  const left = available(entry, now)
  if (left < cost) return { ok: false, reason: 'insufficient', remaining: Math.max(0, left) }
  entry.reserved += cost
  return { ok: true, remaining: left - cost, expiresAt: entry.expiresAt }
}

/** A reservation of `cost` served: `served` of it from `reserved` to `pending` until its burn ends, the rest back. */
export function commitTo(entry: BalanceEntry, cost: number, served = cost): void {
  entry.reserved -= cost
  entry.pending += served
}

/** A burn of `amount` ended. */
export function settleOn(entry: BalanceEntry, amount: number, settlement: Settlement): void {
  entry.pending -= amount
  if (settlement.ok && settlement.startedAt.epoch === entry.epoch) {
    // Fresh word from upstream, less what other burns may have taken since it started.
    entry.upstream = settlement.remainingAfter - (entry.acked - settlement.startedAt.acked)
  } else {
    // A balance was observed while this burn was in flight and may not include it.
    entry.upstream -= amount
    if (!settlement.ok) entry.observedAt = 0
  }
  entry.acked += amount
}

/** A balance observed upstream by a call that started at `startedAt`. */
export function observeOn(entry: BalanceEntry, observation: Observation, startedAt: EntrySnapshot, now: number): void {
  entry.upstream = observation.remaining - (entry.acked - startedAt.acked)
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
