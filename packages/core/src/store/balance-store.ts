/**
 * Where the gate keeps what it knows about each (plan, holder) pair. Every method is one atomic
 * step on one key, so a shared store (Redis, with a Lua script per method) can implement it for a
 * cluster: `reserve` is decrement-if-enough, `lockOrder` is the cross-process order lock.
 *
 * Credits available to hand out = `upstream − reserved − pending` (0 once expired), where
 * - `upstream` is the remaining balance the Nevermined API last reported, less redemptions
 *   acknowledged since that we cannot be sure the report already reflected;
 * - `reserved` is held by requests still being served, each reservation under a lease (see
 *   leases.ts): one whose release never arrives is given back once its lease ends;
 * - `pending` is committed (served) but its redemption is not acknowledged yet.
 * Counting every uncertain credit as spent is what keeps a balance read that races a redemption
 * from handing the same credit out twice.
 */
import type { ReservationLease } from './leases'

export type MaybePromise<T> = T | Promise<T>

export interface BalanceEntry {
  upstream: number
  reserved: number
  pending: number
  /** Running total of acknowledged redemptions: lets an observation learn which ones raced it. */
  acked: number
  /** Bumped on every observation applied (balance read or order): lets a redemption know it raced one. */
  epoch: number
  /** Credits ever bought, when the API says; used to tell an order that has landed from one that lags. */
  total: number | undefined
  /** Epoch milliseconds, or null when the credits never expire. */
  expiresAt: number | null
  /** When `upstream` was last observed (ms); 0 when it must be read again before use. */
  observedAt: number
  /** The remaining balance that observation read, as the API said it (undefined: none yet). */
  observed?: number
  /** `acked` before the last redemption acknowledged, and the balance its answer gave (undefined: none, or it failed). */
  lastAckFrom?: number
  lastAckWord?: number
  /** The reservations held, by id (`reserved` counts them all). */
  leases: Map<string, ReservationLease>
  /** No lease in `leases` ends before this (ms; Infinity when there is none). */
  sweepAt: number
}

/** A point-in-time view, taken when an upstream call starts, handed back when it ends. */
export interface EntrySnapshot {
  acked: number
  epoch: number
  upstream: number
  total: number | undefined
  expiresAt: number | null
  reserved: number
  pending: number
}

export type ReserveOutcome =
  /**
   * `reservationId` names the reservation for `commit` and `release` (empty for a cost of 0:
   * nothing is held).
   */
  | { ok: true; remaining: number; expiresAt: number | null; reservationId: string }
  /** `stale`: nothing fresh enough is known, read upstream. `insufficient`: known, and too little. */
  | { ok: false; reason: 'stale' | 'insufficient'; remaining: number }

/** What an upstream balance (from a read or an order) says. */
export interface Observation {
  remaining: number
  total: number | undefined
  expiresAt: number | null
}

/** How a redemption ended. */
export type Settlement =
  | { ok: true; remainingAfter: number; startedAt: EntrySnapshot }
  /** Not acknowledged after every retry: count it as spent and read the balance again next time. */
  | { ok: false }

/**
 * How a commit landed. `late`: its reservation was no longer held (its lease had ended and its
 * credits had gone back, or it had been released): the credits served were taken from what the
 * entry had available instead. `shortfall`: of those, how many it did not have (available never
 * goes below 0; those credits were handed out twice, and the burn upstream tells what is left).
 */
export interface CommitOutcome {
  late: boolean
  shortfall: number
}

export interface OrderLock {
  release(): MaybePromise<void>
}

export interface BalanceStore {
  /**
   * Take `cost` credits if the entry is fresh (observed within `ttlMs`) and can cover them, under
   * a lease: held until released or committed, or until the store's `reservationLeaseMs` passes.
   */
  reserve(key: string, cost: number, now: number, ttlMs: number): MaybePromise<ReserveOutcome>
  /**
   * A reservation goes back (the response failed). Does nothing when it is no longer held (its
   * lease ended, or it was released already): credits are never given back twice.
   */
  release(key: string, reservationId: string): MaybePromise<void>
  /**
   * The reservation `reservationId`, of `cost`, was served: `served` of it (default all of
   * `cost`) moves to `pending` until its burn ends, and the rest goes back, in one step. When it
   * is no longer held (`late`), `served` still becomes pending: what was served is burned.
   */
  commit(key: string, reservationId: string, cost: number, served?: number): MaybePromise<CommitOutcome>
  /** A redemption of `amount` ended. */
  settle(key: string, amount: number, settlement: Settlement): MaybePromise<void>
  /** Apply a balance observed upstream by a call that started at `startedAt`. */
  observe(key: string, observation: Observation, startedAt: EntrySnapshot, now: number): MaybePromise<void>
  snapshot(key: string): MaybePromise<EntrySnapshot>
  /** Spend guard: count one order if fewer than `max` were counted in the last `windowMs`. */
  recordOrder(key: string, now: number, windowMs: number, max: number): MaybePromise<boolean>
  /** Cross-process order lock. Undefined: another process holds it (wait, then read the balance). */
  lockOrder(key: string, ttlMs: number): MaybePromise<OrderLock | undefined>
}

/** Credits an entry can hand out now: never below 0 (a late commit may take more than there was). */
export function available(entry: Pick<BalanceEntry, 'upstream' | 'reserved' | 'pending' | 'expiresAt'>, now: number): number {
  if (entry.expiresAt !== null && entry.expiresAt <= now) return 0
  return Math.max(0, entry.upstream - entry.reserved - entry.pending)
}
