import { available, type BalanceEntry, type EntrySnapshot, type Observation, type ReserveOutcome, type Settlement } from '@plangate/core'

/**
 * What the Durable Object keeps for one store key (`<plan>:<holder>`): the balance entry, the spend
 * guard's recent orders, and the order lock. Each step below is `MemoryBalanceStore`'s method of
 * the same name, on this record instead of an LRU entry: the object runs one step at a time, so
 * each is atomic for every Worker isolate at once.
 */
export interface HolderState {
  entry: BalanceEntry | undefined
  /** Times (ms) of the orders the spend guard counted. */
  orders: number[]
  /** Who holds the order lock, and until when (ms, the object's clock). */
  lock: { token: string; until: number } | undefined
}

export function emptyState(): HolderState {
  return { entry: undefined, orders: [], lock: undefined }
}

export function reserve(state: HolderState, cost: number, now: number, ttlMs: number): ReserveOutcome {
  const { entry } = state
  if (entry === undefined || entry.observedAt === 0 || now - entry.observedAt > ttlMs) {
    return { ok: false, reason: 'stale', remaining: entry ? Math.max(0, available(entry, now)) : 0 }
  }
  const left = available(entry, now)
  if (left < cost) return { ok: false, reason: 'insufficient', remaining: Math.max(0, left) }
  entry.reserved += cost
  return { ok: true, remaining: left - cost, expiresAt: entry.expiresAt }
}

export function release(state: HolderState, cost: number): void {
  if (state.entry !== undefined) state.entry.reserved -= cost
}

export function commit(state: HolderState, cost: number): void {
  const { entry } = state
  if (entry === undefined) return
  entry.reserved -= cost
  entry.pending += cost
}

export function settle(state: HolderState, amount: number, settlement: Settlement): void {
  const { entry } = state
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
}

export function observe(state: HolderState, observation: Observation, startedAt: EntrySnapshot, now: number): void {
  const entry = (state.entry ??= { upstream: 0, reserved: 0, pending: 0, acked: 0, epoch: 0, total: undefined, expiresAt: null, observedAt: 0 })
  entry.upstream = observation.remaining - (entry.acked - startedAt.acked)
  entry.total = observation.total
  entry.expiresAt = observation.expiresAt
  entry.observedAt = now
  entry.epoch += 1
}

export function snapshot(state: HolderState): EntrySnapshot {
  const { entry } = state
  if (entry === undefined) return { acked: 0, epoch: 0, upstream: 0, total: undefined, expiresAt: null, reserved: 0, pending: 0 }
  const { acked, epoch, upstream, total, expiresAt, reserved, pending } = entry
  return { acked, epoch, upstream, total, expiresAt, reserved, pending }
}

export function recordOrder(state: HolderState, now: number, windowMs: number, max: number): boolean {
  state.orders = state.orders.filter((at) => now - at < windowMs)
  if (state.orders.length >= max) return false
  state.orders.push(now)
  return true
}

/** The lock's token for the caller, or undefined while someone else holds it. */
export function lockOrder(state: HolderState, ttlMs: number, now: number, token: string): string | undefined {
  if (state.lock !== undefined && state.lock.until > now) return undefined
  state.lock = { token, until: now + ttlMs }
  return token
}

/** Only the holder's own token frees the lock: one whose lock ran out must not free the next holder's. */
export function unlockOrder(state: HolderState, token: string): void {
  if (state.lock?.token === token) state.lock = undefined
}
