/**
 * `@plangate/core/store`: what a store is made of (docs/guides/writing-a-store.md). A `BalanceStore`
 * keeps each holder's credits (known upstream, reserved, committed but not yet burned); the entry
 * steps are the one account of how a reserve, commit, release, settle and observe move those
 * numbers, so a new store (SQL, a KV, a Durable Object) applies them rather than re-deriving
 * them. A store that also keeps a `SettlementOutbox` survives a crash between an answer and its
 * burn. The contract suite every store must pass is `@plangate/core/testing`.
 *
 * @example
 * ```ts
 * import { newEntry, reserveFrom, type BalanceStore } from '@plangate/core/store'
 * class MyStore implements BalanceStore { … }
 * ```
 */
export { StoreUnavailableError } from './errors'
export {
  available,
  type BalanceEntry,
  type BalanceStore,
  type CommitOutcome,
  type EntrySnapshot,
  type MaybePromise,
  type Observation,
  type OrderLock,
  type ReserveOutcome,
  type Settlement,
} from './store/balance-store'
export { isOutbox, type OutboxRecord, type SettlementOutbox } from './store/outbox'
export { MemoryOutboxStore, type MemoryOutboxOptions } from './outbox/memory-outbox'
export { commitNowhere, commitTo, countOrder, newEntry, observeOn, releaseFrom, reserveFrom, settleOn, snapshotOf } from './store/entry-steps'
export {
  DEFAULT_RESERVATION_LEASE_MS,
  MAX_RESERVATION_LEASE_MS,
  resolveReservationLeaseMs,
  sweepLeases,
  type ReservationLease,
} from './store/leases'
