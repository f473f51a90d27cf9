/** What the route sees: `req.balance` in Express, `c.get('balance')` in Hono. */
export interface PlanBalance {
  planId: string
  /** The caller's address (the key's `sub`). */
  holderAddress: string
  /** Credits left after this request's cost. */
  remaining: number
  /** What this request costs. */
  cost: number
  /** ISO date-time the credits expire, or null. */
  expiresAt: string | null
}

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
  commit(): Promise<void>
  release(): Promise<void>
}
