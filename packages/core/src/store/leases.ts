/**
 * Reservation leases: every reservation a store grants is held for a limited time only. A release
 * that never reaches the store (a Redis blip, a failed Durable Object call, a process killed
 * between reserve and release) would otherwise keep those credits reserved for ever: the holder
 * would have fewer than they paid for, and the gate would order the plan again — paid twice.
 * Each store keeps one record per reservation (its credits and when its lease ends) beside the
 * `reserved` sum, and every step on an entry first gives back the reservations whose lease ended.
 */

/** One reservation held in an entry: its credits, and when its lease ends (ms, the store's clock). */
export interface ReservationLease {
  credits: number
  until: number
}

/**
 * The default `reservationLeaseMs`: ten minutes, far longer than a request is expected to live
 * (the gate's upstream calls time out after 5 s by default, a store call after 1 to 5 s), and
 * short enough that credits a lost release held come back the same hour.
 */
export const DEFAULT_RESERVATION_LEASE_MS = 600_000

/** The longest lease an option may ask for: one week. */
export const MAX_RESERVATION_LEASE_MS = 7 * 86_400_000

/**
 * Checks a `reservationLeaseMs` option once, at creation: `undefined` is the default, anything
 * but an integer from 1 to one week throws a `TypeError` naming the option (`who` says whose).
 */
export function resolveReservationLeaseMs(value: unknown, who: string): number {
  if (value === undefined) return DEFAULT_RESERVATION_LEASE_MS
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1 || value > MAX_RESERVATION_LEASE_MS) {
    throw new TypeError(
      `${who}: invalid option "reservationLeaseMs": expected an integer of milliseconds from 1 to ${MAX_RESERVATION_LEASE_MS} (one week), longer than any request lives; got ${describe(value)}.`,
    )
  }
  return value
}

/** The entry fields the leases live in (a `BalanceEntry` has them). */
export interface LeasedEntry {
  reserved: number
  leases: Map<string, ReservationLease>
  /** No lease in `leases` ends before this (ms; Infinity when there is none): the sweep starts looking then. */
  sweepAt: number
}

/**
 * Gives back every reservation whose lease ended by `at` (ms, the clock the leases are timed by).
 * Most steps find nothing due and return at once; when something may be, one pass over the
 * entry's leases drops the ended ones and finds the next end. Returns whether anything changed.
 */
export function sweepLeases(entry: LeasedEntry, at: number): boolean {
  if (at < entry.sweepAt) return false
  let next = Infinity
  let changed = false
  for (const [id, lease] of entry.leases) {
    if (lease.until <= at) {
      entry.reserved -= lease.credits
      entry.leases.delete(id)
      changed = true
    } else if (lease.until < next) {
      next = lease.until
    }
  }
  entry.sweepAt = next
  return changed
}

/** Holds `credits` under `id` until `until`. */
export function holdLease(entry: LeasedEntry, id: string, credits: number, until: number): void {
  entry.reserved += credits
  entry.leases.set(id, { credits, until })
  if (until < entry.sweepAt) entry.sweepAt = until
}

/** Takes the reservation `id` out of the entry; its credits, or undefined when it is not held (ended, released, never granted). */
export function takeLease(entry: LeasedEntry, id: string): number | undefined {
  const lease = entry.leases.get(id)
  if (lease === undefined) return undefined
  entry.leases.delete(id)
  entry.reserved -= lease.credits
  return lease.credits
}

function describe(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value)
  if (typeof value === 'string') return JSON.stringify(value.slice(0, 40))
  return typeof value
}
