import type { NeverminedClient } from '../client'
import { PlanGateError, UpstreamUnavailableError } from '../errors'
import { backoff } from './settler'
import { SETTLE_FAILED, type Burner, type Redemption } from './burner'
import { safely } from '../util/safely'
import type { BalanceStore, EntrySnapshot } from '../store/balance-store'

export interface BurnHooks {
  onBurned(redemption: Redemption, remainingBalance: number | undefined): void
  onFailed(redemption: Redemption, error: unknown): void
}

/**
 * Burns through the published `POST /protocol/plans/redeem` (`settle: { via: 'redeem' }`), for an
 * API or proxy that serves it: the live API does not. Each lease or batch gets one proof, reused
 * by every retry, so an API that dedupes proofs never redeems it twice. Retries back off on
 * time-outs, network errors and 5xx; a 4xx is final.
 */
export class RedeemBurner implements Burner {
  readonly parallel = true
  constructor(
    private readonly client: NeverminedClient,
    private readonly agentKey: string,
    private readonly store: BalanceStore,
    private readonly maxRetries: number,
    private readonly hooks: BurnHooks,
  ) {}

  async burn(redemption: Redemption): Promise<undefined | typeof SETTLE_FAILED> {
    const proof = crypto.randomUUID()
    let startedAt: EntrySnapshot | undefined
    for (let attempt = 0; ; attempt++) {
      try {
        startedAt = await this.store.snapshot(redemption.key)
        const answer = await this.client.redeem(
          { planId: redemption.planId, holderAddress: redemption.holderAddress, amount: redemption.amount, proof },
          this.agentKey,
        )
        if (!answer.success) throw new UpstreamUnavailableError('Nevermined redeem answered success: false.')
        await this.store.settle(redemption.key, redemption.amount, { ok: true, remainingAfter: answer.remainingBalance, startedAt })
        safely(() => this.hooks.onBurned(redemption, answer.remainingBalance))
        return undefined
      } catch (error) {
        const retryable = !(error instanceof PlanGateError) || error instanceof UpstreamUnavailableError
        if (retryable && attempt < this.maxRetries) {
          await backoff(attempt)
          continue
        }
        await Promise.resolve(this.store.settle(redemption.key, redemption.amount, { ok: false })).catch(() => {})
        safely(() => this.hooks.onFailed(redemption, error))
        return SETTLE_FAILED
      }
    }
  }
}
