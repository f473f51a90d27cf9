import {
  available,
  commitTo,
  countOrder,
  newEntry,
  observeOn,
  reserveFrom,
  settleOn,
  snapshotOf,
  type BalanceEntry,
  type EntrySnapshot,
  type Observation,
  type ReserveOutcome,
  type Settlement,
} from '@plangate/core'

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
  /** The latest reservations made with a request id, `[id, cost]`, oldest first: what a cancel can take back. */
  granted: [string, number][]
  /** Ids cancelled before their reservation arrived: it must not land when it does. */
  cancelled: string[]
}

/** How many granted and cancelled ids are kept: a cancel follows its reservation within one time-out. */
const KEPT_IDS = 16

export function emptyState(): HolderState {
  return { entry: undefined, orders: [], lock: undefined, granted: [], cancelled: [] }
}

/**
 * `id` (optional) names the reservation for `cancelReservation`, which the store sends when the
 * answer did not arrive: MemoryBalanceStore's semantics otherwise, id or not.
 */
export function reserve(state: HolderState, cost: number, now: number, ttlMs: number, id?: string): ReserveOutcome {
  const { entry } = state
  if (id !== undefined && state.cancelled.includes(id)) {
    // Its caller gave up and was refused: nothing is held for it.
    state.cancelled = state.cancelled.filter((cancelled) => cancelled !== id)
    return { ok: false, reason: 'stale', remaining: entry ? Math.max(0, available(entry, now)) : 0 }
  }
  const outcome = reserveFrom(entry, cost, now, ttlMs)
  if (outcome.ok && id !== undefined) state.granted = [...state.granted, [id, cost] as [string, number]].slice(-KEPT_IDS)
  return outcome
}

/**
 * A reservation whose answer never reached its caller (a time-out, a lost connection): the caller
 * refused its request, so the credits go back; if it has not arrived yet, it never lands.
 */
export function cancelReservation(state: HolderState, id: string): void {
  const granted = state.granted.find(([grantedId]) => grantedId === id)
  if (granted === undefined) {
    state.cancelled = [...state.cancelled, id].slice(-KEPT_IDS)
    return
  }
  state.granted = state.granted.filter((other) => other !== granted)
  if (state.entry !== undefined) state.entry.reserved -= granted[1]
}

export function release(state: HolderState, cost: number): void {
  if (state.entry !== undefined) state.entry.reserved -= cost
}

export function commit(state: HolderState, cost: number, served = cost): void {
  if (state.entry !== undefined) commitTo(state.entry, cost, served)
}

export function settle(state: HolderState, amount: number, settlement: Settlement): void {
  if (state.entry !== undefined) settleOn(state.entry, amount, settlement)
}

export function observe(state: HolderState, observation: Observation, startedAt: EntrySnapshot, now: number): void {
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
