import type { Lease } from './lease'
import { takeUsageReport } from './request-balance'

type MaybePromise<T> = T | Promise<T>

/**
 * How a request ended, as its adapter saw it:
 * - `served`: a 2xx answer sent whole;
 * - `cut`: a 2xx whose head went out, and the client went away before the end;
 * - `failed`: any other status, a throw, or a client gone before the head went out.
 */
export type Ending = 'served' | 'cut' | 'failed'

/** A route's `usage` function, bound to the framework's own objects by the adapter. */
export type UsageOf = () => MaybePromise<number>

/** A problem with what a route reported it used; given to `hooks.onError` (`during: 'usage'`). */
export class UsageError extends Error {
  override readonly name = 'UsageError'
}

/**
 * Ends a lease as its request ended, charging what the work used:
 * - `failed`: nothing (the reservation goes back), whatever was reported;
 * - a fixed cost: all of it for `served`, nothing for `cut` (as before usage pricing);
 * - priced by usage (`cost: { max, usage? }`): `usage()` if the route has one, else the sum of
 *   `balance.use()`, else (nothing reported) the whole reservation for `served` and nothing for
 *   `cut` — a client that read 40 of 50 reported chunks pays 40.
 * A charge above the reservation is capped at it; a `usage()` that throws or returns anything but
 * a non-negative integer charges the reservation (the answer went out: the route's own bug must
 * not serve for free); both are reported through `hooks.onError` (`during: 'usage'`). A charge of
 * 0 releases everything and calls nothing upstream. Never throws or rejects.
 *
 * @example
 * res.on('close', () => void endLease(lease, endingOf(res), usage && (() => usage(req, res))))
 */
export function endLease(lease: Lease, ending: Ending, usage?: UsageOf): Promise<unknown> {
  if (ending === 'failed') return lease.release()
  const reported = takeUsageReport(lease.balance)
  if (reported === 'charged') return lease.release() // a no-op: the immediate settle committed it
  if (usage === undefined) {
    if (reported !== undefined) return charge(lease, reported)
    return ending === 'served' ? lease.commit() : lease.release()
  }
  return chargeUsage(lease, usage)
}

/**
 * The credits to commit now for an answer about to end whole (an immediate x402 settle, whose
 * receipt goes on the answer): the same rule as `endLease`'s `served`, taken once. Undefined
 * when there is nothing to commit (a charge of 0, or the charge was already taken): release.
 */
export function chargeNow(lease: Lease, usage?: UsageOf): MaybePromise<number | undefined> {
  const reported = takeUsageReport(lease.balance)
  if (reported === 'charged') return undefined
  if (usage === undefined) return reported === undefined ? lease.balance.cost : capped(lease, reported)
  return evaluate(lease, usage)
}

function chargeUsage(lease: Lease, usage: UsageOf): Promise<unknown> {
  const credits = evaluate(lease, usage)
  return credits instanceof Promise ? credits.then((n) => commitOrRelease(lease, n)) : commitOrRelease(lease, credits)
}

function charge(lease: Lease, reported: number): Promise<unknown> {
  return commitOrRelease(lease, capped(lease, reported))
}

function commitOrRelease(lease: Lease, credits: number | undefined): Promise<unknown> {
  return credits === undefined ? lease.release() : lease.commit(credits)
}

/** `usage()`'s answer, checked and capped; the whole reservation when it cannot be told. */
function evaluate(lease: Lease, usage: UsageOf): MaybePromise<number | undefined> {
  let value: MaybePromise<number>
  try {
    value = usage()
  } catch (error) {
    return unknowable(lease, 'threw', error)
  }
  if (value instanceof Promise || isThenable(value)) {
    return Promise.resolve(value).then(
      (n) => checked(lease, n),
      (error: unknown) => unknowable(lease, 'rejected', error),
    )
  }
  return checked(lease, value)
}

function checked(lease: Lease, value: unknown): number | undefined {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    return unknowable(lease, `returned ${typeof value === 'number' ? value : typeof value}, not a non-negative integer`)
  }
  return capped(lease, value)
}

/** At most the reservation; undefined for 0 (nothing to commit). */
function capped(lease: Lease, credits: number): number | undefined {
  const max = lease.balance.cost
  if (credits > max) {
    lease.report?.(new UsageError(`The route reported ${credits} credits used, more than the ${max} reserved for it: charged ${max}.`), max)
    return max === 0 ? undefined : max
  }
  return credits === 0 ? undefined : credits
}

function unknowable(lease: Lease, what: string, cause?: unknown): number | undefined {
  const max = lease.balance.cost
  lease.report?.(new UsageError(`The route's usage function ${what}: charged the ${max} credits reserved.`, cause === undefined ? undefined : { cause }), max)
  return max === 0 ? undefined : max
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function'
}
