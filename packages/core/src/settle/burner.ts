/**
 * What a burn is: credits served that are spent upstream (through x402 settle, or the published
 * redeem call), who pays for them, and what comes back. The words, as the code uses them: a lease
 * is *committed* (or *released*) in the store; what was committed is *burned* upstream; *settle*
 * and *redeem* are the two API calls a burner may burn through.
 */
import type { PaidResource } from '../x402/payment-required'

/** Who pays for a redemption: a holder's API key (the gate obtains a token for it) or an x402 token. */
export type Payer = { kind: 'key'; apiKey: string } | { kind: 'x402'; token: string }

/** One thing to burn: a served lease, or a batch of them for one holder and plan. */
export interface Redemption {
  key: string
  planId: string
  holderAddress: string
  amount: number
  /** The latest payer and request of the batch: what settle is asked to burn through. */
  payer: Payer
  resource: PaidResource
}

/** What an immediate x402 settle answered: sent to the client as `payment-response`. */
export interface SettlementReceipt {
  success: true
  transaction: string | undefined
  network: string | undefined
  payer: string | undefined
  /** Decimal strings, as the API answers them. */
  creditsRedeemed: string
  remainingBalance: string | undefined
  orderTx: string | undefined
}

/**
 * A burn that failed for good: refused, or its outcome still unknown after the retries (and
 * reported to `hooks.onError`). Told apart from `undefined` (burned without a receipt, or left to
 * another process or a later try), so that an answer that may go out only once paid can be held.
 */
export const SETTLE_FAILED: unique symbol = Symbol('plangate: settle failed')

/** What a burn ends in: the immediate settle's receipt, `SETTLE_FAILED`, or undefined (nothing to tell). */
export type BurnOutcome = SettlementReceipt | typeof SETTLE_FAILED | undefined

/** One way of burning credits upstream: x402 settle, or the published redeem call. */
export interface Burner {
  /** Burn the redemption, with retries; never throws; the store is settled either way. */
  burn(redemption: Redemption): Promise<BurnOutcome>
  /** Whether two redemptions of one holder and plan may be in flight at once. */
  readonly parallel: boolean
}

