import type { NeverminedClient } from './client'
import { PlanGateError, UpstreamUnavailableError } from './errors'
import type { BalanceStore, EntrySnapshot } from './store/balance-store'
import { sleep, unrefTimer } from './timers'

/** One thing to redeem: a served lease, or a batch of them for one holder and plan. */
export interface Redemption {
  key: string
  planId: string
  holderAddress: string
  amount: number
}

export interface SettlerOptions {
  client: NeverminedClient
  agentKey: string
  store: BalanceStore
  /** 0: redeem each lease at once. Otherwise gather per holder and plan for this long. */
  batchMs: number
  maxRetries: number
  onRedeemed(redemption: Redemption, remainingBalance: number): void
  onFailed(redemption: Redemption, error: unknown): void
}

/**
 * Redeems consumed credits upstream with the agent's key. Each lease or batch gets one proof,
 * reused by every retry, so an API that dedupes proofs never redeems it twice. Retries back off
 * on time-outs, network errors and 5xx; a 4xx is final.
 */
export class Settler {
  readonly #options: SettlerOptions
  readonly #batches = new Map<string, Redemption>()
  readonly #inFlight = new Map<Promise<void>, string>()
  #timer: ReturnType<typeof setTimeout> | undefined
  #closing = false

  constructor(options: SettlerOptions) {
    this.#options = options
  }

  /** Queue credits that were served; never throws, never rejects. */
  add(redemption: Redemption): void {
    if (redemption.amount === 0) return
    // After close() began, nothing waits for a batch timer any more: redeem at once.
    if (this.#options.batchMs === 0 || this.#closing) {
      this.#start(redemption)
      return
    }
    const batch = this.#batches.get(redemption.key)
    if (batch) batch.amount += redemption.amount
    else this.#batches.set(redemption.key, { ...redemption })
    // The timer starts on first use, never at construction: Workers forbid timers at module scope.
    this.#timer ??= unrefTimer(setTimeout(() => this.#flushAll(), this.#options.batchMs))
  }

  /** Redeem now whatever is gathered for `key`, and wait (at most `waitMs`) for its redemptions. */
  async drain(key: string, waitMs: number): Promise<void> {
    const batch = this.#batches.get(key)
    if (batch) {
      this.#batches.delete(key)
      this.#start(batch)
    }
    const mine = [...this.#inFlight].filter(([, k]) => k === key).map(([promise]) => promise)
    if (mine.length === 0) return
    await Promise.race([Promise.all(mine), sleep(waitMs, { unref: true })])
  }

  /** Redeem everything gathered and wait for every redemption in flight. */
  async close(): Promise<void> {
    this.#closing = true
    this.#flushAll()
    while (this.#inFlight.size > 0) await Promise.all([...this.#inFlight.keys()])
  }

  #flushAll(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#timer = undefined
    const batches = [...this.#batches.values()]
    this.#batches.clear()
    for (const batch of batches) this.#start(batch)
  }

  #start(redemption: Redemption): void {
    const promise = this.#redeem(redemption).finally(() => this.#inFlight.delete(promise))
    this.#inFlight.set(promise, redemption.key)
  }

  async #redeem(redemption: Redemption): Promise<void> {
    const { client, agentKey, store, maxRetries } = this.#options
    const proof = crypto.randomUUID()
    let startedAt: EntrySnapshot | undefined
    for (let attempt = 0; ; attempt++) {
      try {
        startedAt = await store.snapshot(redemption.key)
        const answer = await client.redeem(
          { planId: redemption.planId, holderAddress: redemption.holderAddress, amount: redemption.amount, proof },
          agentKey,
        )
        if (!answer.success) throw new UpstreamUnavailableError('Nevermined redeem answered success: false.')
        await store.settle(redemption.key, redemption.amount, {
          ok: true,
          remainingAfter: answer.remainingBalance,
          startedAt,
        })
        safely(() => this.#options.onRedeemed(redemption, answer.remainingBalance))
        return
      } catch (error) {
        const retryable = !(error instanceof PlanGateError) || error instanceof UpstreamUnavailableError
        if (retryable && attempt < maxRetries) {
          await sleep(Math.min(100 * 2 ** attempt, 5_000) * (0.5 + Math.random() / 2))
          continue
        }
        await Promise.resolve(store.settle(redemption.key, redemption.amount, { ok: false })).catch(() => {})
        safely(() => this.#options.onFailed(redemption, error))
        return
      }
    }
  }
}

function safely(fn: () => void): void {
  try {
    fn()
  } catch {
    // A throwing hook must not break settlement.
  }
}
