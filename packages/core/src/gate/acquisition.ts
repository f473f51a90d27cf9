import type { NeverminedClient } from '../client'
import { PaymentRequiredError, UpstreamUnavailableError } from '../errors'
import type { ResolvedGateConfig } from '../options'
import type { OutboxKeeper } from '../outbox/keeper'
import type { Settler } from '../settle/settler'
import type { BalanceStore, EntrySnapshot, Observation } from '../store/balance-store'
import { sleep } from '../timers'
import { safely } from '../util/safely'
import { singleFlight } from '../util/single-flight'
import { boughtBy, observation, raised, spendable } from './books'
import { quietly, subscriberKey, type Caller, type StoreWrites } from './caller'
import type { KnownKeys } from './known-keys'

export interface AcquisitionParts {
  config: ResolvedGateConfig
  client: NeverminedClient
  store: BalanceStore
  settler: Settler
  /** With a store that keeps an outbox: this gate's records in it. */
  outbox: OutboxKeeper | undefined
  knownKeys: KnownKeys
  /** The balance reads in flight, shared with X402Payer (a token's first verify). */
  reads: Map<string, Promise<void>>
  /** Credits counted as available ahead of a top-up (x402 payers), per key: a read makes them known for real. */
  promised: Map<string, number>
  writes: StoreWrites
}

type AutoOrder = Exclude<ResolvedGateConfig['autoOrder'], false>

/**
 * How the gate comes by credits it does not have cached: balance reads, orders within the spend
 * guard, and waiting for an order's credits to show.
 */
export class Acquisition {
  readonly #p: AcquisitionParts
  /** Credits the gate's own orders bought, per key (a running total; see X402Burner's reconciliation). */
  readonly #bought = new Map<string, number>()
  readonly #orders = new Map<string, Promise<void>>()

  constructor(parts: AcquisitionParts) {
    this.#p = parts
  }

  /** What this gate's orders bought for a key so far. */
  bought(key: string): number {
    return this.#bought.get(key) ?? 0
  }

  /** One balance read in flight per holder and plan (per key, for keys not yet accepted upstream). */
  read(who: Caller, seenEpoch: number): Promise<void> {
    const flight = who.verified ? who.key : `${who.key}#${who.fingerprint}`
    return singleFlight(this.#p.reads, flight, async () => {
      const before = await this.#p.store.snapshot(who.key)
      // Someone observed the balance since this request looked: use that instead of reading again.
      if (who.verified && before.epoch !== seenEpoch) return
      const balance = await this.#p.knownKeys.upstream('balance', who, () => this.#p.client.balance(who.plan, who.address, this.#balanceKey(who)))
      await this.observe(who.key, observation(balance), before)
    }).then(() => {
      if (!who.verified) who.verified = this.#p.knownKeys.get(who.fingerprint, Date.now()) !== undefined
    })
  }

  /** One order in flight per holder and plan; everyone waiting rides on it. */
  order(who: Caller, cost: number, seenEpoch: number): Promise<void> {
    return singleFlight(this.#orders, who.key, async () => {
      const autoOrder = this.#p.config.autoOrder as AutoOrder
      const before = await this.#p.store.snapshot(who.key)
      if (before.epoch !== seenEpoch) return
      // An answer that races a redemption may or may not include it, and the store then counts it
      // twice: enough to buy credits the holder still has. Hold this holder's redemptions (their
      // credits stay pending) until the order is decided.
      const resume = this.#p.settler.hold(who.key)
      try {
        await this.#decideOrder(who, cost, before, autoOrder)
      } finally {
        resume()
      }
    })
  }

  /** Whether to order, with this holder's redemptions held: read an exact balance, then order within the guard. */
  async #decideOrder(who: Caller, cost: number, before: EntrySnapshot, autoOrder: AutoOrder): Promise<void> {
    const { config, client, store, outbox } = this.#p
    // What the store knows may count a redemption twice (one that raced the last read), or count
    // as spent one still in flight: let those land, and read the balance again — no redemption
    // runs meanwhile, so the answer is exact — rather than buy credits the holder still has.
    await this.#p.settler.drain(who.key, config.timeoutMs)
    // The lock first, then the read: another process may have ordered just before, and only a
    // read inside the lock sees what it bought (the read outside would buy a plan early).
    const lock = await store.lockOrder(who.key, 2 * config.timeoutMs + autoOrder.pollTimeoutMs)
    if (lock === undefined) {
      // Another process is ordering for this holder: wait for it, then read what it bought.
      await sleep(Math.min(1_000, config.timeoutMs))
      return this.read(who, before.epoch)
    }
    // Other processes' settles too: none starts while the lock is held (see store/outbox.ts),
    // and those under way land before the read, which then counts each exactly once.
    if (outbox) await quietly(config.logger, outbox.waitForInFlight(who.key, config.timeoutMs))
    const apiKey = subscriberKey(who)
    try {
      before = await store.snapshot(who.key)
      const balance = await this.#p.knownKeys.upstream('balance', who, () => client.balance(who.plan, who.address, apiKey))
      await this.observe(who.key, observation(balance), before)
      before = await store.snapshot(who.key)
      if (spendable(before, Date.now()) >= cost) return
      if (!(await store.recordOrder(who.key, Date.now(), autoOrder.windowMs, autoOrder.maxOrders))) {
        throw new PaymentRequiredError(
          `Plan ${who.plan} was already ordered ${autoOrder.maxOrders} time(s) for this holder within ${Math.round(autoOrder.windowMs / 1000)} s (the spend guard); no more automatic orders until the window passes.`,
        )
      }
      const answer = await this.#p.knownKeys.upstream('order', who, () => client.order(who.plan, apiKey))
      if (!answer.success) throw new PaymentRequiredError(`Nevermined did not complete the order of plan ${who.plan}.`)
      safely(() => config.hooks.onOrder?.({ planId: who.plan, holderAddress: who.address, txHash: answer.txHash, balance: answer.balance }))
      let landed = observation(answer.balance)
      if (!raised(before, landed, Date.now())) landed = await this.#waitForCredits(who, before, autoOrder.pollTimeoutMs)
      this.#bought.set(who.key, (this.#bought.get(who.key) ?? 0) + boughtBy(before, landed, Date.now()))
      await this.observe(who.key, landed, before)
    } finally {
      await quietly(config.logger, lock.release())
    }
  }

  /** The API has been seen to answer an order before the credits show: poll, with backoff, for a bounded time. */
  async #waitForCredits(who: Caller, before: EntrySnapshot, timeoutMs: number): Promise<Observation> {
    const deadline = Date.now() + timeoutMs
    for (let delay = 50; Date.now() < deadline; delay = Math.min(delay * 2, 1_000)) {
      await sleep(Math.min(delay, Math.max(0, deadline - Date.now())))
      const balance = await this.#p.knownKeys.upstream('balance', who, () => this.#p.client.balance(who.plan, who.address, subscriberKey(who)))
      const seen = observation(balance)
      if (raised(before, seen, Date.now())) return seen
    }
    throw new UpstreamUnavailableError(
      `Plan ${who.plan} was ordered, but its credits did not appear within ${timeoutMs} ms; they will be used once they do.`,
      { retryAfterSeconds: 5 },
    )
  }

  /** A balance read for a holder after a settle bought credits for it (auto top-up). */
  refresh(key: string, plan: string, address: string): void {
    const { config, client, store } = this.#p
    const work = (async () => {
      const before = await store.snapshot(key)
      const balance = await client.balance(plan, address, config.apiKey)
      await this.observe(key, observation(balance), before)
    })()
    void this.#p.writes.track(work)
  }

  /** Applies what the API said; anything counted ahead of a top-up is then known for real. */
  async observe(key: string, seen: Observation, before: EntrySnapshot): Promise<void> {
    await this.#p.store.observe(key, seen, before, Date.now())
    this.#p.promised.delete(key)
  }

  /** Whose key reads a balance: the holder's own, or (for x402 payers, who have none) the agent's. */
  #balanceKey(who: Caller): string {
    return who.payer.kind === 'key' ? who.payer.apiKey : this.#p.config.apiKey
  }
}
