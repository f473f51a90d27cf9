import { available, commitNowhere, commitTo, countOrder, newEntry, observeOn, releaseFrom, reserveFrom, settleOn, snapshotOf, sweepLeases, type BalanceEntry, type CommitOutcome, type EntrySnapshot, type Observation, type ReserveOutcome, type Settlement } from '@plangate/core/store'

/**
 * What the Durable Object keeps for one store key (`<plan>:<holder>`): the balance entry, the spend
 * guard's recent orders, and the order lock. Each step below is `MemoryBalanceStore`'s method of
 * the same name, on this record instead of an LRU entry: the object runs one step at a time, so
 * each is atomic for every Worker isolate at once. `at` is the object's clock, which times the
 * reservations' leases: each step first gives back those whose lease ended (`sweep`).
 */
export interface HolderState {
  entry: BalanceEntry | undefined
  /** Times (ms) of the orders the spend guard counted. */
  orders: number[]
  /** Who holds the order lock, and until when (ms, the object's clock). */
  lock: { token: string; until: number } | undefined
  /** Ids cancelled before their reservation arrived: it must not land when it does. */
  cancelled: string[]
}

/** How many cancelled ids are kept: a cancel follows its reservation within one time-out. */
const KEPT_IDS = 16

export function emptyState(): HolderState {
  return { entry: undefined, orders: [], lock: undefined, cancelled: [] }
}

/**
 * A record as storage gave it back: one written before reservations had leases has none (what
 * it had reserved stays counted, as it was, until released).
 */
export function loaded(stored: Partial<HolderState> | undefined): HolderState {
  const state = { ...emptyState(), ...stored }
  if (state.entry !== undefined && !(state.entry.leases instanceof Map)) {
    state.entry = { ...state.entry, leases: new Map(), sweepAt: Infinity }
  }
  return state
}

/** Gives back the reservations whose lease ended by `at`; whether anything changed. */
export function sweep(state: HolderState, at: number): boolean {
  return state.entry !== undefined && sweepLeases(state.entry, at)
}

/**
 * `id` names the reservation (for `release`, `commit` and `cancelReservation`, which the store
 * sends when the answer did not arrive), held until `at + leaseMs`: MemoryBalanceStore's
 * semantics otherwise.
 */
export function reserve(state: HolderState, cost: number, now: number, ttlMs: number, id: string, leaseMs: number, at: number): ReserveOutcome {
  sweep(state, at)
  const { entry } = state
  if (state.cancelled.includes(id)) {
    // Its caller gave up and was refused: nothing is held for it.
    state.cancelled = state.cancelled.filter((cancelled) => cancelled !== id)
    return { ok: false, reason: 'stale', remaining: entry ? available(entry, now) : 0 }
  }
  return reserveFrom(entry, cost, now, ttlMs, id, at + leaseMs)
}

/**
 * A reservation whose answer never reached its caller (a time-out, a lost connection): the caller
 * refused its request, so the credits go back; if it has not arrived yet, it never lands.
 */
export function cancelReservation(state: HolderState, id: string, at: number): void {
  sweep(state, at)
  const entry = state.entry
  if (entry !== undefined && entry.leases.has(id)) {
    releaseFrom(entry, id)
    return
  }
  state.cancelled = [...state.cancelled, id].slice(-KEPT_IDS)
}

export function release(state: HolderState, id: string, at: number): void {
  sweep(state, at)
  if (state.entry !== undefined) releaseFrom(state.entry, id)
}

export function commit(state: HolderState, id: string, cost: number, served: number | undefined, at: number): CommitOutcome {
  sweep(state, at)
  if (state.entry === undefined) return commitNowhere(served ?? cost)
  return commitTo(state.entry, id, cost, served, at)
}

export function settle(state: HolderState, amount: number, settlement: Settlement, at: number): void {
  sweep(state, at)
  if (state.entry !== undefined) settleOn(state.entry, amount, settlement)
}

export function observe(state: HolderState, observation: Observation, startedAt: EntrySnapshot, now: number, at: number): void {
  sweep(state, at)
  observeOn((state.entry ??= newEntry()), observation, startedAt, now)
}

export function snapshot(state: HolderState): EntrySnapshot {
  return snapshotOf(state.entry)
}

export function recordOrder(state: HolderState, now: number, windowMs: number, max: number): boolean {
  const { times, allowed } = countOrder(state.orders, now, windowMs, max)
  state.orders = times
  return allowed
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
