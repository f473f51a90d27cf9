import { PlanGateError } from './errors'
import type { NeverminedBalance } from './schemas'
import { available, type EntrySnapshot, type Observation } from './store/balance-store'

/**
 * The gate's bookkeeping on balances, as plain functions: what an observation says, what can be
 * spent, whether an order landed and what it bought, and the lease's expiry text.
 */

/** A key (or x402 token) the API has accepted: looked up by its SHA-256, never by the value. */
export interface KnownKey {
  address: string
  /** When the API last accepted it (ms): trusted for `cache.ttlMs`, so a revoked key stops working. */
  acceptedAt: number
  /** The plan it was last used for, and the store's key `<plan>:<address>` for it (see storeKeyOf). */
  plan?: string
  storeKey?: string
  /** The last expiry a lease of it carried, and that as ISO text (see expiryText). */
  expiresAt?: number
  expiresText?: string
  /** For an x402 token: the one plan it pays for. */
  tokenPlan?: string
}

/**
 * The store's key for a known holder and plan, made once and kept: looking the same string up
 * again is cheaper than a new one (its hash is computed once, and equality is identity).
 */
export function storeKeyOf(known: KnownKey, plan: string): string {
  if (known.plan !== plan || known.storeKey === undefined) {
    known.plan = plan
    known.storeKey = `${plan}:${known.address}`
  }
  return known.storeKey
}

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

/**
 * A lease's expiry as ISO text. Kept with the known key and made again only when the expiry
 * changes (an order): toISOString() costs about 0.8 µs, more than the rest of a warm reservation,
 * and a plan with a duration would pay it on every request.
 */
export function expiryText(at: number | null, known: KnownKey | undefined): string | null {
  if (at === null) return null
  if (known === undefined) return new Date(at).toISOString()
  // Both fields are written together, so a matching expiry means the text is there.
  if (known.expiresAt !== at) {
    known.expiresAt = at
    known.expiresText = new Date(at).toISOString()
  }
  return known.expiresText!
}

export function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(describe(error))
}

export function describe(error: unknown): string {
  if (error instanceof PlanGateError) return `${error.code}: ${error.message}`
  return error instanceof Error ? error.message : 'unknown error'
}
