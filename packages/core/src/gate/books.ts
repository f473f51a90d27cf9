import { PlanGateError } from '../errors'
import type { NeverminedBalance } from '../schemas'
import { available, type EntrySnapshot, type Observation } from '../store/balance-store'

/**
 * The gate's bookkeeping on balances, as plain functions: what an observation says, what can be
 * spent, whether an order landed and what it bought, and how a failure is described.
 */

export function observation(balance: NeverminedBalance): Observation {
  const expiresAt = balance.expiresAt === null ? null : Date.parse(balance.expiresAt)
  return { remaining: balance.remaining, total: balance.total, expiresAt }
}

export function spendable(snapshot: EntrySnapshot, now: number): number {
  return available(snapshot, now)
}

/** Did an order's credits land? More credits, more bought, or a later expiry than before. */
export function raised(before: EntrySnapshot, after: Observation, now: number): boolean {
  const expired = (at: number | null) => at !== null && at <= now
  const beforeRemaining = expired(before.expiresAt) ? 0 : before.upstream
  const afterRemaining = expired(after.expiresAt) ? 0 : after.remaining
  if (afterRemaining > beforeRemaining) return true
  if (before.total !== undefined && after.total !== undefined && after.total > before.total) return !expired(after.expiresAt)
  return false
}

/** Credits an order added: by the totals when the API gives them, else by what remains. */
export function boughtBy(before: EntrySnapshot, after: Observation, now: number): number {
  if (before.total !== undefined && after.total !== undefined && after.total >= before.total) return after.total - before.total
  const expired = before.expiresAt !== null && before.expiresAt <= now
  return Math.max(0, after.remaining - (expired ? 0 : before.upstream))
}

export function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(describe(error))
}

export function describe(error: unknown): string {
  if (error instanceof PlanGateError) return `${error.code}: ${error.message}`
  return error instanceof Error ? error.message : 'unknown error'
}
