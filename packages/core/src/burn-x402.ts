import type { NeverminedClient } from './client'
import { CredentialInvalidError, PaymentRequiredError, PlanGateError, UpstreamUnavailableError } from './errors'
import type { BurnHooks } from './burn-redeem'
import { backoff, safely, type Burner, type Redemption, type SettlementReceipt } from './settlement'
import type { BalanceStore, EntrySnapshot } from './store/balance-store'
import type { HolderTokens } from './x402/holder-tokens'
import type { PaymentRequired } from './x402/payment-required'
import type { SettleAnswer } from './x402/schemas'

export interface X402BurnerOptions {
  client: NeverminedClient
  agentKey: string
  store: BalanceStore
  maxRetries: number
  tokens: HolderTokens
  /** The PaymentRequired settle checks the token against (the plan's scheme, the agent, the request). */
  paymentRequired(redemption: Redemption): Promise<PaymentRequired>
  /** Credits the gate counted as available before any top-up bought them (see the gate's top-up). */
  promised(key: string): number
  /** A settle ordered the plan first (auto top-up): the gate reads the balance again. */
  onToppedUp(redemption: Redemption): void
  hooks: BurnHooks
  logger: { warn(message: string): void }
}

/** The settle was answered, and said no: nothing was burned, and asking again will not help. */
class SettleRefused extends PaymentRequiredError {}

/**
 * Burns through x402 settle (`POST /x402/settle`, the way the live API burns), one settle per
 * holder and plan at a time. Settle has no idempotency key, so a settle whose answer was lost
 * (a time-out, a reset, a 5xx, a garbled body) is never simply sent again: the balance is read
 * first, and the settle is sent again only if the balance shows it did not burn. Never burn
 * twice, never silently burn nothing: what cannot be settled goes to `hooks.onError`.
 */
export class X402Burner implements Burner {
  readonly parallel = false
  readonly #o: X402BurnerOptions

  constructor(options: X402BurnerOptions) {
    this.#o = options
  }

  async burn(redemption: Redemption): Promise<SettlementReceipt | undefined> {
    const { client, agentKey, store, maxRetries } = this.#o
    const { key, amount } = redemption
    const startedAt = await store.snapshot(key)
    const promisedAtStart = this.#o.promised(key)
    let token: string | undefined
    let paymentRequired: PaymentRequired | undefined
    let renewedToken = false
    /** A settle went out and its outcome is not known. */
    let unsure = false
    let lastError: unknown
    for (let attempt = 0; attempt <= maxRetries; attempt++) {
      if (attempt > 0) await backoff(attempt - 1)
      try {
        if (unsure) {
          const verdict = await this.#reconcile(redemption, startedAt, promisedAtStart)
          if (verdict.applied) {
            await store.settle(key, amount, { ok: true, remainingAfter: verdict.remaining, startedAt: verdict.at })
            safely(() => this.#o.hooks.onBurned(redemption, verdict.remaining))
            if (verdict.toppedUp) safely(() => this.#o.onToppedUp(redemption))
            return undefined
          }
          unsure = false
        }
        token ??= redemption.payer.kind === 'x402' ? redemption.payer.token : await this.#o.tokens.get(key, redemption.planId, redemption.payer.apiKey)
        paymentRequired ??= await this.#o.paymentRequired(redemption)
        unsure = true
        const answer = await client.settle({ paymentRequired, x402AccessToken: token, maxAmount: String(amount) }, agentKey)
        unsure = false
        if (!answer.success) throw new SettleRefused(`Nevermined settle answered success: false${answer.reason ? ` (${clip(answer.reason)})` : ''}.`)
        return await this.#settled(redemption, startedAt, answer)
      } catch (error) {
        lastError = error
        // Only a settle that may have reached the API is uncertain; anything else did not burn.
        if (unsure && !isAmbiguous(error)) unsure = false
        if (!unsure && !isAmbiguous(error)) {
          // A token the API refused (expired, exhausted delegation): a holder paying by API key gets a new one, once.
          const refusedToken = error instanceof CredentialInvalidError || (error instanceof PaymentRequiredError && !(error instanceof SettleRefused))
          if (refusedToken && redemption.payer.kind === 'key' && token !== undefined && !renewedToken) {
            this.#o.tokens.forget(key, token)
            token = undefined
            renewedToken = true
            continue
          }
          break
        }
      }
    }
    await Promise.resolve(store.settle(key, amount, { ok: false })).catch(() => {})
    const error = unsure
      ? new UpstreamUnavailableError(
          `Nevermined settle of ${amount} credit(s) could not be confirmed or ruled out after ${maxRetries + 1} attempt(s); the balance will be read again.`,
          { cause: lastError },
        )
      : lastError
    safely(() => this.#o.hooks.onFailed(redemption, error))
    return undefined
  }

  async #settled(redemption: Redemption, startedAt: EntrySnapshot, answer: SettleAnswer): Promise<SettlementReceipt> {
    const { store } = this.#o
    // Without a remaining balance the store counts the credits as spent and reads again next time.
    await store.settle(
      redemption.key,
      redemption.amount,
      answer.remainingBalance === undefined || answer.orderTx !== undefined ? { ok: false } : { ok: true, remainingAfter: answer.remainingBalance, startedAt },
    )
    safely(() => this.#o.hooks.onBurned(redemption, answer.remainingBalance))
    if (answer.orderTx !== undefined) safely(() => this.#o.onToppedUp(redemption))
    return {
      success: true,
      transaction: answer.transaction,
      network: answer.network,
      payer: answer.payer ?? redemption.holderAddress,
      creditsRedeemed: answer.creditsRedeemed ?? redemption.amount,
      remainingBalance: answer.remainingBalance,
      orderTx: answer.orderTx,
    }
  }

  /**
   * Did a settle whose answer was lost burn? Compared with what the store knew when it started
   * (less credits other processes acknowledged since, less credits promised ahead of a top-up):
   * the balance fell by the amount → burned; it is unchanged → not burned; it rose → a top-up
   * happened, which only a settle does → burned. Anything else (someone else spent from the
   * same plan meanwhile) counts as burned, so it is never sent twice, and is logged.
   */
  async #reconcile(redemption: Redemption, startedAt: EntrySnapshot, promised: number): Promise<{ applied: boolean; remaining: number; toppedUp: boolean; at: EntrySnapshot }> {
    const { store, client, agentKey } = this.#o
    const at = await store.snapshot(redemption.key)
    const balance = await client.balance(redemption.planId, redemption.holderAddress, agentKey)
    const baseline = startedAt.upstream - promised - (at.acked - startedAt.acked)
    const boughtMore = balance.total !== undefined && startedAt.total !== undefined && balance.total > startedAt.total
    const remaining = balance.remaining
    if (boughtMore || remaining > baseline) return { applied: true, remaining, toppedUp: true, at }
    if (remaining === baseline) return { applied: false, remaining, toppedUp: false, at }
    if (remaining !== baseline - redemption.amount) {
      this.#o.logger.warn(
        `settle of ${redemption.amount} credit(s) of plan ${redemption.planId} for ${redemption.holderAddress} lost its answer; the balance moved by ${baseline - remaining}, so it is counted as burned and not sent again.`,
      )
    }
    return { applied: true, remaining, toppedUp: false, at }
  }
}

/** An error after which a settle may or may not have burned. */
function isAmbiguous(error: unknown): boolean {
  return !(error instanceof PlanGateError) || error instanceof UpstreamUnavailableError
}

function clip(text: string): string {
  return text.length > 200 ? `${text.slice(0, 200)}…` : text
}
