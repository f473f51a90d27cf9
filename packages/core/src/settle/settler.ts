import type { BalanceStore } from '../store/balance-store'
import { sleep, unrefTimer } from '../timers'
import type { BurnOutcome, Burner, Redemption } from './burner'

export interface SettlerOptions {
  store: BalanceStore
  burner: Burner
  /** 0: burn each lease at once. Otherwise gather per holder and plan for this long. */
  batchMs: number
  /**
   * With `batchMs > 0`: burn a holder's batch as soon as it holds this many credits, without
   * waiting for the window's end (undefined: only the window ends a batch).
   */
  maxCredits?: number | undefined
}

/** Credits gathered for one holder and plan, and the promise every lease in it was handed. */
interface Batch extends Redemption {
  settled: Promise<BurnOutcome>
  settle(burned: Promise<BurnOutcome>): void
}

/**
 * Queues consumed credits and hands them to the burner: at once, or gathered per holder and plan
 * for `batchMs`. With a burner that is not `parallel` (x402 settle has no idempotency key, so a
 * lost answer is reconciled from the balance, which needs one settle per holder at a time), a
 * redemption that finds one of its holder in flight waits, merged with any others that wait.
 */
export class Settler {
  readonly #options: SettlerOptions
  readonly #batches = new Map<string, Batch>()
  /** Burns under way, by key (not what waits for them). */
  readonly #inFlight = new Map<Promise<unknown>, string>()
  /** Per key, while one is in flight (non-parallel burners): the redemptions waiting for it, merged. */
  readonly #running = new Set<string>()
  readonly #queued = new Map<string, Batch>()
  /** Keys whose redemptions wait (see `hold`), and the redemptions waiting. */
  readonly #held = new Map<string, { count: number; released: Promise<void>; release(): void }>()
  readonly #waiting = new Set<Promise<unknown>>()
  #timer: ReturnType<typeof setTimeout> | undefined
  #closing = false

  constructor(options: SettlerOptions) {
    this.#options = options
  }

  /**
   * Queue credits that were served; never throws. The promise settles (never rejects) once they
   * are burned or given up on: Workers must be told to wait for it (`waitUntil`), because they
   * stop a request's pending work once its response is sent.
   */
  add(redemption: Redemption): Promise<BurnOutcome> {
    if (redemption.amount === 0) return Promise.resolve(undefined)
    // After close() began, nothing waits for a batch timer any more: burn at once.
    if (this.#options.batchMs === 0 || this.#closing) return this.#start(redemption)
    const batch = merge(this.#batches, redemption)
    // A batch that has gathered enough credits goes now: a busy holder's unsettled credits (what a
    // crash of a memory store loses) stay below maxCredits whatever the window.
    const { maxCredits } = this.#options
    if (maxCredits !== undefined && batch.amount >= maxCredits) {
      this.#batches.delete(redemption.key)
      this.#startBatch(batch)
      return batch.settled
    }
    // The timer starts on first use, never at construction: Workers forbid timers at module scope.
    this.#timer ??= unrefTimer(setTimeout(() => this.#flushAll(), this.#options.batchMs))
    return batch.settled
  }

  /** Burn now whatever is gathered for `key`, and wait (at most `waitMs`) for its redemptions. */
  async drain(key: string, waitMs: number): Promise<void> {
    const batch = this.#batches.get(key)
    if (batch) {
      this.#batches.delete(key)
      this.#startBatch(batch)
    }
    const deadline = Date.now() + waitMs
    for (;;) {
      const mine = [...this.#inFlight].filter(([, k]) => k === key).map(([promise]) => promise)
      const left = deadline - Date.now()
      if (mine.length === 0 || left <= 0) return
      await Promise.race([Promise.all(mine), sleep(left, { unref: true })])
    }
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

  /** Burn everything gathered and wait for every redemption in flight, queued or held. */
  async close(): Promise<void> {
    this.#closing = true
    this.#flushAll()
    while (this.#inFlight.size > 0 || this.#waiting.size > 0 || this.#queued.size > 0) {
      await Promise.all([...this.#inFlight.keys(), ...this.#waiting, ...[...this.#queued.values()].map((batch) => batch.settled)])
    }
  }

  #flushAll(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#timer = undefined
    const batches = [...this.#batches.values()]
    this.#batches.clear()
    for (const batch of batches) this.#startBatch(batch)
  }

  #start(redemption: Redemption): Promise<BurnOutcome> {
    const held = this.#held.get(redemption.key)
    if (held) {
      const waiting = held.released.then(() => this.#start(redemption)).finally(() => this.#waiting.delete(waiting))
      this.#waiting.add(waiting)
      return waiting
    }
    const { burner } = this.#options
    if (!burner.parallel && this.#running.has(redemption.key)) return merge(this.#queued, redemption).settled
    if (!burner.parallel) this.#running.add(redemption.key)
    // Drain and close wait for the burn itself; what waited for it starts once it ends.
    const burned = burner.burn(redemption)
    const own = burned.finally(() => this.#inFlight.delete(own))
    this.#inFlight.set(own, redemption.key)
    if (burner.parallel) return own
    // The redemptions that waited for this one are started from here, and the promise handed back
    // covers them too: on Workers a request's pending work ends with its waitUntil promise, and
    // they run on its behalf.
    return own.then(async (receipt) => (await this.#next(redemption.key), receipt))
  }

  /** Starts what waited for `key`'s redemption in flight, if anything, and resolves when it is done. */
  #next(key: string): Promise<unknown> | undefined {
    this.#running.delete(key)
    const queued = this.#queued.get(key)
    if (queued === undefined) return undefined
    this.#queued.delete(key)
    const started = this.#start(stripBatch(queued))
    queued.settle(started)
    // Wait for the waiting batch's own promise too, not just the burn: it belongs to another
    // request, and on Workers it settles only while the request that resolves it is alive.
    return started.then(() => queued.settled)
  }

  #startBatch(batch: Batch): void {
    batch.settle(this.#start(stripBatch(batch)))
  }
}

function stripBatch({ settled: _settled, settle: _settle, ...redemption }: Batch): Redemption {
  return redemption
}

/** Adds a redemption to the batch of its key in `batches`, creating it; the latest payer wins. */
function merge(batches: Map<string, Batch>, redemption: Redemption): Batch {
  const batch = batches.get(redemption.key)
  if (batch) {
    batch.amount += redemption.amount
    batch.payer = redemption.payer
    batch.resource = redemption.resource
    return batch
  }
  let settle!: (burned: Promise<BurnOutcome>) => void
  const settled = new Promise<BurnOutcome>((resolve) => (settle = resolve))
  const created: Batch = { ...redemption, settled, settle }
  batches.set(redemption.key, created)
  return created
}

/** Backoff before retry `attempt` (0-based), with jitter. */
export function backoff(attempt: number): Promise<void> {
  return sleep(Math.min(100 * 2 ** attempt, 5_000) * (0.5 + Math.random() / 2))
}
