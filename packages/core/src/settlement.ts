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

/** Credits gathered for one holder and plan, and the promise every lease in it was handed. */
interface Batch extends Redemption {
  settled: Promise<void>
  settle(redeemed: Promise<void>): void
}

/**
 * Redeems consumed credits upstream with the agent's key. Each lease or batch gets one proof,
 * reused by every retry, so an API that dedupes proofs never redeems it twice. Retries back off
 * on time-outs, network errors and 5xx; a 4xx is final.
 */
export class Settler {
  readonly #options: SettlerOptions
  readonly #batches = new Map<string, Batch>()
  readonly #inFlight = new Map<Promise<void>, string>()
  /** Keys whose redemptions wait (see `hold`), and the redemptions waiting. */
  readonly #held = new Map<string, { count: number; released: Promise<void>; release(): void }>()
  readonly #waiting = new Set<Promise<void>>()
  #timer: ReturnType<typeof setTimeout> | undefined
  #closing = false

  constructor(options: SettlerOptions) {
    this.#options = options
  }

  /**
   * Queue credits that were served; never throws. The promise settles (never rejects) once they
   * are redeemed or given up on: Workers must be told to wait for it (`waitUntil`), because they
   * stop a request's pending work once its response is sent.
   */
  add(redemption: Redemption): Promise<void> {
    if (redemption.amount === 0) return Promise.resolve()
    // After close() began, nothing waits for a batch timer any more: redeem at once.
    if (this.#options.batchMs === 0 || this.#closing) return this.#start(redemption)
    let batch = this.#batches.get(redemption.key)
    if (batch) batch.amount += redemption.amount
    else this.#batches.set(redemption.key, (batch = newBatch(redemption)))
    // The timer starts on first use, never at construction: Workers forbid timers at module scope.
    this.#timer ??= unrefTimer(setTimeout(() => this.#flushAll(), this.#options.batchMs))
    return batch.settled
  }

  /** Redeem now whatever is gathered for `key`, and wait (at most `waitMs`) for its redemptions. */
  async drain(key: string, waitMs: number): Promise<void> {
    const batch = this.#batches.get(key)
    if (batch) {
      this.#batches.delete(key)
      this.#startBatch(batch)
    }
    const mine = [...this.#inFlight].filter(([, k]) => k === key).map(([promise]) => promise)
    if (mine.length === 0) return
    await Promise.race([Promise.all(mine), sleep(waitMs, { unref: true })])
  }

  /**
   * Until the returned function is called, redemptions for `key` do not start (their credits stay
   * pending). An upstream answer that races a redemption is ambiguous — does it include it? — so
   * the gate holds them while it decides whether to order.
   */
  hold(key: string): () => void {
    let held = this.#held.get(key)
    if (!held) {
      let release!: () => void
      const released = new Promise<void>((resolve) => (release = resolve))
      held = { count: 0, released, release }
      this.#held.set(key, held)
    }
    const mine = held
    mine.count++
    let done = false
    return () => {
      if (done) return
      done = true
      if (--mine.count > 0) return
      this.#held.delete(key)
      mine.release()
    }
  }

  /** Redeem everything gathered and wait for every redemption in flight or held. */
  async close(): Promise<void> {
    this.#closing = true
    this.#flushAll()
    while (this.#inFlight.size > 0 || this.#waiting.size > 0) await Promise.all([...this.#inFlight.keys(), ...this.#waiting])
  }

  #flushAll(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#timer = undefined
    const batches = [...this.#batches.values()]
    this.#batches.clear()
    for (const batch of batches) this.#startBatch(batch)
  }

  #start(redemption: Redemption): Promise<void> {
    const held = this.#held.get(redemption.key)
    if (held) {
      const waiting: Promise<void> = held.released.then(() => this.#start(redemption)).finally(() => this.#waiting.delete(waiting))
      this.#waiting.add(waiting)
      return waiting
    }
    const promise = this.#redeem(redemption).finally(() => this.#inFlight.delete(promise))
    this.#inFlight.set(promise, redemption.key)
    return promise
  }

  #startBatch({ settled: _settled, settle, ...redemption }: Batch): void {
    settle(this.#start(redemption))
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

function newBatch(redemption: Redemption): Batch {
  let settle!: (redeemed: Promise<void>) => void
  const settled = new Promise<void>((resolve) => (settle = resolve))
  return { ...redemption, settled, settle }
}

function safely(fn: () => void): void {
  try {
    fn()
  } catch {
    // A throwing hook must not break settlement.
  }
}
