import type { NeverminedClient } from '../client'
import { PaymentRequiredError, UpstreamUnavailableError } from '../errors'
import type { ResolvedGateConfig } from '../options'
import type { Payer } from '../settle/burner'
import type { BalanceStore } from '../store/balance-store'
import { singleFlight } from '../util/single-flight'
import { paymentRequired, type PaidResource, type PaymentRequired } from '../x402/payment-required'
import type { PlanDirectory } from '../x402/plan-directory'
import { parseX402Token, redactReason } from '../x402/token'
import { spendable } from './books'
import type { Caller } from './caller'
import type { KnownKeys } from './known-keys'

export interface X402PayerParts {
  config: ResolvedGateConfig
  client: NeverminedClient
  store: BalanceStore
  plans: PlanDirectory
  knownKeys: KnownKeys
  /** The balance reads in flight, shared with Acquisition: a token's first verify is one flight with them. */
  reads: Map<string, Promise<void>>
  /** Credits counted as available ahead of the top-up a settle will buy, per key (shared with Acquisition). */
  promised: Map<string, number>
}

/**
 * The gate's side of an x402 payer: the PaymentRequired it pays against, the facilitator's
 * verify of a token not seen before, and the top-up that covers a payer short of credits.
 */
export class X402Payer {
  readonly #p: X402PayerParts
  readonly #topUps = new Map<string, Promise<void>>()

  constructor(parts: X402PayerParts) {
    this.#p = parts
  }

  async paymentRequired(plan: string, resource: PaidResource, lookup = true): Promise<PaymentRequired> {
    const plans = this.#p.plans
    const scheme = lookup ? (await plans.facts(plan)).scheme : plans.cached(plan)?.scheme ?? plans.given()
    return paymentRequired(plan, scheme, this.#p.config.agentId, resource)
  }

  /** The spend guard's worth in cents: what a delegation the gate creates may spend on top-ups. */
  spendingLimitCents(priceCents: number | undefined): number {
    const config = this.#p.config
    if (config.x402.spendingLimitCents !== undefined) return config.x402.spendingLimitCents
    const autoOrder = config.autoOrder
    if (autoOrder === false) return 1
    return priceCents === undefined || priceCents <= 0 ? 1_000 : autoOrder.maxOrders * priceCents
  }

  /**
   * An x402 token not seen before: the facilitator verifies it (signature, plan, agent, and
   * whether it can pay `cost`) before it may spend anything cached for its holder.
   */
  async verify(who: Caller, cost: number): Promise<void> {
    const { config, client, knownKeys } = this.#p
    const token = (who.payer as Extract<Payer, { kind: 'x402' }>).token
    await singleFlight(this.#p.reads, `${who.key}#${who.fingerprint}`, async () => {
      const required = await this.paymentRequired(who.plan, who.resource)
      const answer = await knownKeys.upstream('verify', who, () =>
        client.verify({ paymentRequired: required, x402AccessToken: token, maxAmount: String(Math.max(cost, 1)) }, config.apiKey),
      )
      if (!answer.valid) {
        knownKeys.forget(who.fingerprint)
        throw new PaymentRequiredError(`Nevermined did not accept the x402 access token${answer.reason ? `: ${redactReason(answer.reason, token)}` : ''}.`)
      }
    })
    who.verified = knownKeys.get(who.fingerprint, Date.now()) !== undefined
    if (!who.verified) throw new UpstreamUnavailableError('The x402 access token could not be verified; try again.')
  }

  /**
   * An x402 payer whose credits cannot cover the request. The gate has no key to order with: the
   * settle that burns these credits orders first (auto top-up), within the holder's delegation.
   * One verify in flight per holder and plan asks whether the delegation can pay for an order's
   * worth of credits; if so, they count as available until that settle (or a balance read) says
   * what there really is, and everyone waiting rides on them.
   */
  topUp(who: Caller, cost: number, seenEpoch: number): Promise<void> {
    return singleFlight(this.#topUps, who.key, async () => {
      const { config, client, store, promised } = this.#p
      const before = await store.snapshot(who.key)
      if (before.epoch !== seenEpoch) return
      const facts = await this.#p.plans.facts(who.plan)
      const short = cost - Math.max(0, spendable(before, Date.now()))
      const credit = Math.max(short, facts.creditsPerOrder ?? 0, 1)
      const required = await this.paymentRequired(who.plan, who.resource)
      const token = (who.payer as Extract<Payer, { kind: 'x402' }>).token
      // Verify is asked for everything still to be burned — the credits held and served but not
      // settled yet (some of them promised by earlier top-ups) — and these new ones: the
      // delegation must pay for all of it, not just for the last order's worth.
      const owed = before.reserved + before.pending + credit
      const answer = await this.#p.knownKeys.upstream('verify', who, () =>
        client.verify({ paymentRequired: required, x402AccessToken: token, maxAmount: String(owed) }, config.apiKey),
      )
      if (!answer.valid) {
        throw new PaymentRequiredError(
          `Plan ${who.plan} has too few credits for this request and the holder's delegation cannot top it up${answer.reason ? ` (${redactReason(answer.reason, token)})` : ''}.`,
        )
      }
      const now = Date.now()
      const expired = before.expiresAt !== null && before.expiresAt <= now
      const base = expired ? before.reserved + before.pending : before.upstream
      await store.observe(who.key, { remaining: base + credit, total: before.total, expiresAt: expired ? null : before.expiresAt }, before, now)
      promised.set(who.key, (promised.get(who.key) ?? 0) + credit)
    })
  }
}

/** The holder an x402 token names, read locally; a token for another plan is refused here. */
export function tokenHolder(token: string, plan: string): string {
  const claims = parseX402Token(token)
  if (claims.planId !== plan) {
    throw new PaymentRequiredError(`The x402 access token is for plan ${claims.planId}, not plan ${plan}: get a token for plan ${plan}.`)
  }
  return claims.holderAddress
}
