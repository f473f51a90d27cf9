/** What the route sees: `req.balance` in Express, `c.get('balance')` in Hono. */
export interface PlanBalance {
  planId: string
  /** The caller's address (the key's `sub`). */
  holderAddress: string
  /** Credits left after this request's cost. */
  remaining: number
  /** What this request costs: the credits reserved for it, the most it can be charged. */
  cost: number
  /** ISO date-time the credits expire, or null. */
  expiresAt: string | null
  /**
   * Adds `credits` to what this request used: it is then charged what it used, at most `cost`
   * (see docs/guides/usage-pricing.md). Throws a `TypeError` for anything but a non-negative
   * integer.
   */
  use(credits: number): void
  /** Credits reported with `use()` so far. */
  readonly used: number
  /** Aborts when the client goes away or `used` reaches `cost`. */
  readonly signal: AbortSignal
}

/**
 * What a request pays with: its holder's Nevermined API key (`Authorization: Bearer <key>`), or
 * an x402 access token (`payment-signature: <token>`, what Nevermined's own clients send).
 */
export type Credential = string | { x402Token: string }

/** An immediate x402 settle's answer, sent to an x402 client as `payment-response`. */
export type { SettlementReceipt } from './settle/burner'

/**
 * Credits held for one request. Exactly one of `commit` (the response succeeded: redeem them) or
 * `release` (it failed: give them back) takes effect; later calls do nothing.
 *
 * Both return a promise that settles, never rejecting, once that is done (the credits redeemed
 * upstream, or given up on and reported to `hooks.onError`). Nothing needs to await it, except
 * where a runtime stops a request's pending work once its response is sent: on Cloudflare
 * Workers, hand it to `executionCtx.waitUntil()` (`@plangate/hono` does).
 */
export interface Lease {
  readonly balance: PlanBalance
  /** What the request paid with. Optional, so a wrapper around a gate may leave it out. */
  readonly paidWith?: 'x402' | 'apiKey'
  /**
   * Burns `credits` (default: all of `balance.cost`) and gives the rest of the reservation back,
   * in one step. Resolves with the settle's receipt when the credits were burned through x402 at
   * once. `credits` above the reservation are capped at it.
   */
  commit(credits?: number): Promise<SettlementReceipt | undefined | void>
  /**
   * Once `commit()` has resolved: true if burning its credits failed for good (the settle was
   * refused, or its outcome is still unknown after the retries; `hooks.onError` was told). An
   * answer that may go out only once paid (an MCP result for an x402 payer settled at once) is
   * then withheld. Optional, so a wrapper around a gate may leave it out.
   */
  readonly settleFailed?: boolean
  release(): Promise<void>
  /**
   * After `commit()`: resolves once the commit is in the store (before its settle), or at once
   * where the store is this process's own memory. Never rejects.
   */
  stored?(): Promise<void>
  /** Tells the gate's `hooks.onError` of a problem with this request's charge (`during: 'usage'`, `amount`: what is charged). */
  report?(error: Error, charged: number): void
}

import type { SettlementReceipt } from './settle/burner'
