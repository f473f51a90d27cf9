import { resolveReservationLeaseMs } from '../store/leases'

export interface MemoryOutboxOptions {
  /** Most (plan, holder) pairs kept, as `MemoryBalanceStore`'s `max`. Default 10,000. */
  max?: number
  /** How long a reservation is held without its release or commit (ms), as `MemoryBalanceStore`'s. */
  reservationLeaseMs?: number
  /**
   * How long an owner (one gate) lives without renewing its lease (ms, 30 to one hour): then
   * another claims it and settles what it served. Its keeper renews it every third of this, so a
   * short lease makes a test's keeper tick often. Default 30,000 (the Redis store's default).
   */
  ownerLeaseMs?: number
  /** How long an idle outbox (nothing recorded or in flight) keeps its records of who pays (ms, at least 1). Default one day. */
  entryTtlMs?: number
  /** The one clock of the store (ms): reservation leases, owner leases, order locks, idle outboxes. Default `Date.now`; a test may move it. */
  now?: () => number
}

export interface ResolvedMemoryOutboxOptions {
  reservationLeaseMs: number
  ownerLeaseMs: number
  entryTtlMs: number
  now: () => number
}

const WHO = 'plangate (MemoryOutboxStore)'
const NAMES = ['max', 'reservationLeaseMs', 'ownerLeaseMs', 'entryTtlMs', 'now']

/** Checks the options once, at creation: a wrong one throws a `TypeError` naming it. */
export function resolveMemoryOutboxOptions(input: MemoryOutboxOptions): ResolvedMemoryOutboxOptions {
  if (typeof input !== 'object' || input === null) throw new TypeError(`${WHO}: the options must be an object.`)
  for (const name of Object.keys(input)) {
    if (!NAMES.includes(name)) throw new TypeError(`${WHO}: unknown option "${name}"; the options are ${NAMES.join(', ')}.`)
  }
  const ownerLeaseMs = input.ownerLeaseMs ?? 30_000
  if (!Number.isSafeInteger(ownerLeaseMs) || ownerLeaseMs < 30 || ownerLeaseMs > 3_600_000) {
    throw new TypeError(`${WHO}: invalid option "ownerLeaseMs": expected an integer of milliseconds from 30 to 3600000.`)
  }
  const entryTtlMs = input.entryTtlMs ?? 86_400_000
  if (!Number.isSafeInteger(entryTtlMs) || entryTtlMs < 1) {
    throw new TypeError(`${WHO}: invalid option "entryTtlMs": expected an integer of milliseconds of at least 1.`)
  }
  if (input.max !== undefined && (!Number.isSafeInteger(input.max) || input.max < 1)) {
    throw new TypeError(`${WHO}: invalid option "max": expected a positive integer (entries kept).`)
  }
  if (input.now !== undefined && typeof input.now !== 'function') {
    throw new TypeError(`${WHO}: invalid option "now": expected a function returning epoch milliseconds.`)
  }
  const reservationLeaseMs = resolveReservationLeaseMs(input.reservationLeaseMs, WHO)
  return { reservationLeaseMs, ownerLeaseMs, entryTtlMs, now: input.now ?? Date.now }
}
