import type { CommitOutcome, ReserveOutcome, Settlement } from './balance-store'

/**
 * What a shared store adds so that credits served by a process that dies before settling them
 * are settled by another (see docs/RELIABILITY.md, 'Crash-safe settlement'): an outbox. Each process (an *owner*, one per gate) records
 * what it served in the store, in the same atomic step that commits it; marks what it sends to
 * the API as *in flight* before it sends it; and settles and drops it in one step when the API
 * answers. Each owner keeps a lease alive; when one lapses (the process was killed), another
 * claims the owner, and adopts its records: what was only recorded is settled again from the
 * top, what was in flight is judged from the balance (see OutboxKeeper), never sent twice blind.
 *
 * `MemoryBalanceStore` has none of this: when its process dies, its balances die with it.
 * `MemoryOutboxStore` (outbox/memory-outbox.ts) keeps one in memory, with this meaning, for
 * gates that share one process (and for tests of the keeper without a Redis server).
 */
export interface SettlementOutbox {
  /** How long an owner lives without renewing its lease (ms); it renews about three times as often. */
  readonly ownerLeaseMs: number
  /**
   * `reserve`, the reservation marked as `owner`'s (an adopter gives back a dead owner's).
   * Released with `release`, like any other.
   */
  reserveRecorded(key: string, cost: number, now: number, ttlMs: number, owner: string): Promise<ReserveOutcome>
  /**
   * `commit(key, reservationId, cost, served)`, and `served` (default all of `cost`) onto
   * `owner`'s recorded credits for `key`, in one step (late or not: what was served is settled).
   * `record` (sealed by the gate: it holds the payer's credential) replaces `owner`'s record of
   * who pays when given. `hasRecord` is `false` when the store holds no record for `owner` and
   * `key` and none was given: the caller then writes one with `writeRecord`.
   */
  commitRecorded(
    key: string,
    reservationId: string,
    cost: number,
    owner: string,
    record: string | undefined,
    served?: number,
  ): Promise<CommitOutcome & { hasRecord: boolean }>
  /** Replaces `owner`'s record of who pays for `key`. */
  writeRecord(key: string, owner: string, record: string): Promise<void>
  /**
   * `amount` of `owner`'s recorded credits for `key` go in flight, with the entry's balance as it
   * stands (the baseline an adopter judges them by). `'wait'`: an order for `key` is being
   * decided (its lock is held) and nothing may start meanwhile: try again shortly. `'gone'`:
   * `owner` has fewer recorded (another process adopted them, taking its lease for lapsed).
   * `'lost'`: the store holds nothing of `key` (it lost its data): burn outside the outbox.
   */
  startRedemption(key: string, amount: number, owner: string): Promise<'started' | 'wait' | 'gone' | 'lost'>
  /**
   * `settle(key, amount, settlement)`, and `amount` taken off `owner`'s credits in flight, in one
   * step. `false` (and nothing done): `owner` has fewer in flight (another process adopted them).
   */
  settleRecorded(key: string, amount: number, settlement: Settlement, owner: string): Promise<boolean>
  /** Credits of `key` in flight, every owner's together. */
  redemptionsInFlight(key: string): Promise<number>
  /** Notes that `owner` has records under `key`; done before its first one. */
  indexKey(owner: string, key: string): Promise<void>
  /** The keys `owner` may have records under. */
  ownerKeys(owner: string): Promise<string[]>
  /** `owner` is alive until `now + ownerLeaseMs`. */
  renewOwner(owner: string, now: number): Promise<void>
  /** One owner whose lease lapsed before `now`, claimed (its lease renewed for the claimant), or undefined. */
  claimLapsedOwner(now: number): Promise<string | undefined>
  /** `owner`'s record for `key`, undefined when it has none. */
  readRecord(key: string, owner: string): Promise<OutboxRecord | undefined>
  /**
   * `from`'s recorded and in-flight credits for `key` become `to`'s recorded ones (and its record
   * of who pays, unless `to` has one), and the reservations `from` still held are given back, in
   * one step (a release of one of them that arrives later does nothing).
   * Resolves with the credits moved.
   */
  adopt(key: string, from: string, to: string): Promise<number>
  /** Forgets `owner`: its lease and its index. */
  dropOwner(owner: string): Promise<void>
}

export interface OutboxRecord {
  /** Sealed: who pays, for which plan and request (see outbox/seal.ts). Empty when never written. */
  record: string
  /** Credits reserved for requests being served (reservations whose lease has not ended). */
  reserved: number
  /** Credits served and not yet sent. */
  recorded: number
  /** Credits sent to the API whose answer the owner had not applied. */
  inFlight: number
  /** The entry when they went in flight: what the balance was expected to fall from. */
  baseline: { upstream: number; acked: number; total: number | undefined } | undefined
}

/** Whether `store` keeps an outbox (a shared store that can hand a dead process's credits on). */
export function isOutbox(store: object): store is SettlementOutbox {
  const outbox = store as Partial<SettlementOutbox>
  return typeof outbox.commitRecorded === 'function' && typeof outbox.startRedemption === 'function' && typeof outbox.claimLapsedOwner === 'function'
}
