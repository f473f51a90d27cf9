import type { BalanceStore, EntrySnapshot, MaybePromise, Observation } from '../store/balance-store'
import { StoreContractError } from './check'

/** A clock the contract moves by hand, for the stores whose leases can be timed by it. */
export interface ManualClock {
  /** Its time now (ms). */
  now(): number
  /** Moves it on by `ms`. */
  advance(ms: number): void
}

/** What a case is given besides the store it runs on. */
export interface CaseTools {
  /**
   * The same store without the transcript: for calls whose order of arrival may differ from
   * store to store (concurrent calls), checked by absolute expectations only.
   */
  direct: BalanceStore
  /** Another fresh store of the same kind, its calls in the same transcript (a case that runs a sequence many times). */
  fresh(): Promise<BalanceStore>
  /** The clock the store's leases are timed by (the lease cases only). */
  clock: ManualClock
  /** Lease length the store was made with (the lease cases only). */
  leaseMs: number
}

/** One case of the contract. */
export interface ContractCase {
  name: string
  /**
   * `clock`: runs only on a store made on a clock the contract moves (`createWithClock`).
   * `exclusive-lock`: runs only on a store whose order lock excludes other holders.
   */
  needs?: 'clock' | 'exclusive-lock'
  /** Compares the transcript with MemoryBalanceStore's (default true). */
  compared?: boolean
  run(s: BalanceStore, tools: CaseTools): MaybePromise<void>
}

/** A realistic `Date.now()`: 13 digits, more than Lua's tostring() keeps exactly. */
export const T0 = 1_800_000_000_000
/** A balance read this long ago is still fresh in the cases (ms). */
export const TTL = 30_000
export const K = '7:0x00000000000000000000000000000000000000aa'
export const OTHER = '7:0x00000000000000000000000000000000000000bb'
/** The snapshot of an entry never observed. */
export const EMPTY: EntrySnapshot = Object.freeze({ acked: 0, epoch: 0, upstream: 0, total: undefined, expiresAt: null, reserved: 0, pending: 0 })

export const obs = (remaining: number, total: number | undefined = remaining, expiresAt: number | null = null): Observation => ({ remaining, total, expiresAt })

/** An entry's snapshot: `EMPTY` with `fields`. */
export const entry = (fields: Partial<EntrySnapshot>): EntrySnapshot => ({ ...EMPTY, ...fields })

/** A reservation the store granted (its answer without the id, which differs between stores). */
export const granted = (remaining: number, expiresAt: number | null = null, holds = true) => ({ ok: true, remaining, expiresAt, reservationId: holds })

/** Reserves `cost` on `key` at `now` (never stale) and returns its id; a refusal throws. */
export async function hold(s: BalanceStore, cost: number, key = K, now = T0): Promise<string> {
  const outcome = await s.reserve(key, cost, now, Infinity)
  if (!outcome.ok) throw new StoreContractError(`reserve(${key}, ${cost}): expected it granted, the store answered ${outcome.reason} with ${outcome.remaining} left`)
  return outcome.reservationId
}

/** The answer of a reserve, its id replaced by whether it holds one. */
export function withoutId<T extends { ok: boolean }>(outcome: T): unknown {
  return 'reservationId' in outcome ? { ...outcome, reservationId: outcome.reservationId !== '' } : outcome
}
