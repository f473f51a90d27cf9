import type { NeverminedClient } from '../client'
import { CredentialInvalidError, PaymentRequiredError, PlanGateError, UpstreamUnavailableError } from '../errors'
import type { BurnHooks } from './redeem-burner'
import { backoff } from './settler'
import { SETTLE_FAILED, type BurnOutcome, type Burner, type Redemption, type SettlementReceipt } from './burner'
import { safely } from '../util/safely'
import type { BalanceStore, EntrySnapshot } from '../store/balance-store'
import type { HolderTokens } from '../x402/holder-tokens'
import type { PaymentRequired } from '../x402/payment-required'
import type { SettleAnswer } from '../x402/schemas'
import { redactReason } from '../x402/token'

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
  /** Credits the gate's own orders have bought for `key` so far (a running total). */
  bought(key: string): number
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
  /** Keys whose last settle ended without an exact answer. */
  readonly #dirty = new Set<string>()

  constructor(options: X402BurnerOptions) {
    this.#o = options
  }

  async burn(redemption: Redemption): Promise<BurnOutcome> {
    const { client, agentKey, store, maxRetries } = this.#o
    const { key, amount } = redemption
    const startedAt = await store.snapshot(key)
    let base: Baseline | undefined
    let token: string | undefined
    let paymentRequired: PaymentRequired | undefined
    let renewedToken = false
    /** A settle went out and its outcome is not known. */
    let unsure = false
    let lastError: unknown
    let uncertain = false
    for (let attempt = 0; attempt <= maxRetries && !uncertain; attempt++) {
      if (attempt > 0) await backoff(attempt - 1)
      try {
        if (unsure) {
          const verdict = await this.#reconcile(redemption, base!)
          if (verdict.kind === 'burned') {
            await store.settle(key, amount, { ok: true, remainingAfter: verdict.remaining, startedAt: verdict.at })
            this.#dirty.delete(key)
            safely(() => this.#o.hooks.onBurned(redemption, verdict.remaining))
            if (verdict.toppedUp) safely(() => this.#o.onToppedUp(redemption))
            return undefined
          }
          if (verdict.kind === 'uncertain') {
            uncertain = true
            break
          }
          unsure = false
        }
        base ??= await this.#baseline(redemption, startedAt)
        token ??= redemption.payer.kind === 'x402' ? redemption.payer.token : await this.#o.tokens.get(key, redemption.planId, redemption.payer.apiKey)
        paymentRequired ??= await this.#o.paymentRequired(redemption)
        unsure = true
        const answer = await client.settle({ paymentRequired, x402AccessToken: token, maxAmount: String(amount) }, agentKey)
        unsure = false
        if (!answer.success) throw new SettleRefused(`Nevermined settle answered success: false${answer.reason ? ` (${redactReason(answer.reason, token)})` : ''}.`)
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
    // What the store knows of this holder is no longer exact: the next settle reads the balance first.
    this.#dirty.add(key)
    await Promise.resolve(store.settle(key, amount, { ok: false })).catch(() => {})
    const error =
      unsure || uncertain
        ? new UpstreamUnavailableError(
            uncertain
              ? `Nevermined settle of ${amount} credit(s) lost its answer and the balance does not tell whether it burned; it is not sent again, so as never to burn twice.`
              : `Nevermined settle of ${amount} credit(s) could not be confirmed or ruled out after ${maxRetries + 1} attempt(s); it is not sent again.`,
            { cause: lastError },
          )
        : lastError
    safely(() => this.#o.hooks.onFailed(redemption, error))
    return SETTLE_FAILED
  }

  /**
   * What the balance should be if the settle does not burn. From the store when its view is exact;
   * read from the API first when an earlier settle of this holder ended without an exact answer
   * (the store then counts that one as spent, which may be wrong).
   */
  async #baseline(redemption: Redemption, startedAt: EntrySnapshot): Promise<Baseline> {
    const { key } = redemption
    const bought = this.#o.bought(key)
    // A literal, not a spread of a shared part: this runs for every settle.
    if (!this.#dirty.has(key)) return { bought, promised: this.#o.promised(key), upstream: startedAt.upstream, acked: startedAt.acked, total: startedAt.total }
    const at = await this.#o.store.snapshot(key)
    const balance = await this.#o.client.balance(redemption.planId, redemption.holderAddress, this.#o.agentKey)
    return { bought, promised: 0, upstream: balance.remaining, acked: at.acked, total: balance.total }
  }

  async #settled(redemption: Redemption, startedAt: EntrySnapshot, answer: SettleAnswer): Promise<SettlementReceipt> {
    const { store } = this.#o
    if (answer.remainingBalance !== undefined) this.#dirty.delete(redemption.key)
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
      // Decimal strings, as the API answers them and Nevermined's middleware passes them on.
      creditsRedeemed: String(answer.creditsRedeemed ?? redemption.amount),
      remainingBalance: answer.remainingBalance === undefined ? undefined : String(answer.remainingBalance),
      orderTx: answer.orderTx,
    }
  }

  /**
   * Did a settle whose answer was lost burn? The balance now, against the baseline (plus credits
   * the gate's own orders bought since, less credits other processes acknowledged since): fallen
   * by exactly the amount → burned; unchanged → not burned, send it again; more credits bought in
   * all than the gate's orders account for → a top-up, which only a settle does → burned.
   * Anything else (someone else spent from the same plan meanwhile) is uncertain: it is not sent
   * again, and is reported.
   */
  async #reconcile(redemption: Redemption, base: Baseline): Promise<Verdict> {
    const { store, client, agentKey } = this.#o
    const at = await store.snapshot(redemption.key)
    const balance = await client.balance(redemption.planId, redemption.holderAddress, agentKey)
    const bought = this.#o.bought(redemption.key) - base.bought
    const expected = base.upstream + bought - base.promised - (at.acked - base.acked)
    const remaining = balance.remaining
    if (remaining === expected - redemption.amount) return { kind: 'burned', remaining, toppedUp: false, at }
    if (remaining === expected) return { kind: 'not burned' }
    if (balance.total !== undefined && base.total !== undefined && balance.total > base.total + bought) return { kind: 'burned', remaining, toppedUp: true, at }
    this.#o.logger.warn(
      `settle of ${redemption.amount} credit(s) of plan ${redemption.planId} for ${redemption.holderAddress} lost its answer, and the balance moved by ${expected - remaining}: whether it burned is not known.`,
    )
    return { kind: 'uncertain' }
  }
}

interface Baseline {
  upstream: number
  acked: number
  total: number | undefined
  bought: number
  promised: number
}

type Verdict = { kind: 'burned'; remaining: number; toppedUp: boolean; at: EntrySnapshot } | { kind: 'not burned' } | { kind: 'uncertain' }

/**
 * An error after which a settle may or may not have burned: no answer, a 5xx, a 408 or 429, or
 * an answer that breaks the contract. Any other 4xx is the API refusing it: nothing burned.
 */
function isAmbiguous(error: unknown): boolean {
  if (!(error instanceof PlanGateError)) return true
  if (!(error instanceof UpstreamUnavailableError)) return false
  const status = error.upstreamStatus
  return status === undefined || status >= 500 || status === 408 || status === 429 || status < 400
}
