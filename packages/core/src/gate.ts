import { LRUCache } from 'lru-cache'
import { parseApiKey } from './api-key'
import { RedeemBurner, type BurnHooks } from './burn-redeem'
import { X402Burner } from './burn-x402'
import { NeverminedClient } from './client'
import { CostInvalidError, CredentialInvalidError, CredentialMissingError, PaymentRequiredError, PlanGateError, UpstreamUnavailableError } from './errors'
import { sha256Hex } from './fingerprint'
import type { Credential, Lease, PlanBalance } from './lease'
import { closeMeter, RequestBalance } from './request-balance'
import { resolveGateConfig, type PlanGateOptions, type ResolvedGateConfig } from './options'
import { normalizePlanId, type PlanId } from './plan-id'
import { SETTLE_FAILED, Settler, type Payer, type Redemption, type SettlementReceipt } from './settlement'
import { HolderTokens } from './x402/holder-tokens'
import { paymentRequired, type PaidResource, type PaymentRequired } from './x402/payment-required'
import { PlanDirectory } from './x402/plan-directory'
import { parseX402Token, redactReason } from './x402/token'
import { type BalanceStore, type CommitOutcome, type EntrySnapshot, type MaybePromise, type Observation, type ReserveOutcome } from './store/balance-store'
import { MemoryBalanceStore } from './store/memory-store'
import { isOutbox } from './store/outbox'
import { OutboxKeeper, type ServedCredits } from './outbox/keeper'
import { asError, boughtBy, describe, expiryText, observation, raised, spendable, storeKeyOf, type KnownKey } from './gate-books'
import { sleep } from './timers'

/**
 * Spends plan credits per request. Framework-free: the adapters call `reserve` and then one of
 * `commit` or `release` on the lease it returns.
 */
export interface PlanGate {
  /**
   * Hold `cost` credits of `planId` for the holder of `credential` (an API key, or `{ x402Token }`),
   * reading the balance or ordering the plan when needed. `resource` is the request being paid
   * for (what settle and any 402 name). Rejects with a `PlanGateError` (401, 402, 500 or 503).
   */
  reserve(planId: PlanId, credential: Credential | undefined, cost?: number, resource?: PaidResource): Promise<Lease>
  /**
   * `reserve` for adapters: the lease itself when the cached balance answers at once (a warm
   * request), else what `reserve` returns. Throws where `reserve` would reject with a bad cost or
   * no key. Optional, so a wrapper around a gate may leave it out (adapters then use `reserve`).
   */
  reserveNow?(planId: PlanId, credential: Credential | undefined, cost?: number, resource?: PaidResource): Lease | Promise<Lease>
  /**
   * The x402 PaymentRequired for a request: what a 402 sends as `payment-required`. Optional,
   * so a wrapper around a gate may leave it out (its 402s then carry only the problem body).
   */
  paymentRequired?(planId: PlanId, resource: PaidResource, options?: { lookup?: boolean }): Promise<PaymentRequired>
  /** Whether a lease's `commit()` burns at once, so an adapter can wait for its receipt. */
  readonly settlesImmediately?: boolean
  /**
   * Whether what a lease commits outlives this process only once it is in the store (a shared
   * store's outbox: another process settles it if this one dies): an adapter then holds a 2xx
   * answer until `lease.stored()` resolves, so no client is served credits the store never saw.
   */
  readonly recordsServed?: boolean
  /** Redeem everything gathered, wait for redemptions in flight, stop timers. */
  close(): Promise<void>
  readonly store: BalanceStore
}

/**
 * @example
 * const gate = createPlanGate({ apiKey: process.env.NVM_API_KEY, environment: 'sandbox' })
 * const lease = await gate.reserve(7, subscriberKey, 1)
 * try { serve(); lease.commit() } catch { lease.release() }
 */
export function createPlanGate(options: Partial<PlanGateOptions> = {}): PlanGate {
  return new Gate(resolveGateConfig(options))
}

class Gate implements PlanGate {
  readonly store: BalanceStore
  readonly #config: ResolvedGateConfig
  readonly #client: NeverminedClient
  readonly #settler: Settler
  /** With a store that keeps an outbox: this gate's records in it (what it served, not yet settled). */
  readonly #outbox: OutboxKeeper | undefined
  /** What reservations go through: the store, or with an outbox, the keeper's view of it (they count as this gate's). */
  readonly #spend: BalanceStore
  readonly #knownKeys: LRUCache<string, KnownKey>
  readonly #reads = new Map<string, Promise<void>>()
  readonly #orders = new Map<string, Promise<void>>()
  readonly #topUps = new Map<string, Promise<void>>()
  /** Credits counted as available ahead of the top-up a settle will buy (x402 payers), per key. */
  readonly #promised = new Map<string, number>()
  /** Credits the gate's own orders bought, per key (a running total; see X402Burner's reconciliation). */
  readonly #bought = new Map<string, number>()
  readonly #storeWrites = new Set<Promise<void>>()
  readonly #plans: PlanDirectory
  readonly settlesImmediately: boolean
  readonly recordsServed: boolean
  readonly #maxRounds: number
  /** The last plan id asked for, and its normalised form: adapters pass the same one every time. */
  #planId: PlanId | undefined
  #plan = ''

  constructor(config: ResolvedGateConfig) {
    this.#config = config
    this.store = config.store ?? new MemoryBalanceStore({ max: config.cache.max })
    this.#client = new NeverminedClient({ baseUrl: config.baseUrl, fetch: config.fetch, timeoutMs: config.timeoutMs })
    // No lru-cache ttl: #knownKey checks acceptedAt against the Date.now() the request reads anyway.
    this.#knownKeys = new LRUCache({ max: config.cache.max })
    this.#plans = new PlanDirectory(this.#client, config.apiKey, { scheme: config.x402.scheme, network: config.x402.network })
    const hooks: BurnHooks = {
      onBurned: (r, remainingBalance) => {
        if (remainingBalance !== undefined) this.#promised.delete(r.key)
        this.#hook(() => config.hooks.onRedeem?.({ planId: r.planId, holderAddress: r.holderAddress, amount: r.amount, remainingBalance: remainingBalance ?? -1 }))
      },
      onFailed: (r, error) => this.#redeemFailed(r, error),
    }
    const store = this.store
    this.#outbox = isOutbox(store)
      ? new OutboxKeeper({
          outbox: store,
          agentKey: config.apiKey,
          max: config.cache.max,
          balance: (plan, address) => this.#client.balance(plan, address, config.apiKey),
          settle: (r) => this.#settler.add(r),
          onLost: (r, error) => this.#redeemFailed(r, error),
          logger: config.logger,
        })
      : undefined
    // Reservations and burns go through the outbox when there is one: a reservation counts as
    // this gate's, a settle also drops its record.
    const burnStore = this.#outbox?.store() ?? store
    this.#spend = burnStore
    const burner =
      config.settle.via === 'redeem'
        ? new RedeemBurner(this.#client, config.apiKey, burnStore, config.settle.maxRetries, hooks)
        : new X402Burner({
            client: this.#client,
            agentKey: config.apiKey,
            store: burnStore,
            maxRetries: config.settle.maxRetries,
            tokens: new HolderTokens(this.#client, this.#plans, {
              agentId: config.agentId,
              delegationSecs: config.x402.delegationSecs,
              spendingLimitCents: (_plan, priceCents) => this.#spendingLimitCents(priceCents),
              max: config.cache.max,
            }),
            paymentRequired: (r) => this.#paymentRequired(r.planId, r.resource),
            promised: (key) => this.#promised.get(key) ?? 0,
            bought: (key) => this.#bought.get(key) ?? 0,
            onToppedUp: (r) => this.#refresh(r.key, r.planId, r.holderAddress),
            hooks,
            logger: config.logger,
          })
    this.#settler = new Settler({ store, burner: this.#outbox?.burner(burner) ?? burner, batchMs: config.settle.batchMs, maxCredits: config.settle.maxCredits })
    this.settlesImmediately = config.settle.batchMs === 0
    this.recordsServed = this.#outbox !== undefined
    this.#maxRounds = 8 + 4 * (config.autoOrder === false ? 0 : config.autoOrder.maxOrders)
  }

  reserve(planId: PlanId, credential: Credential | undefined, cost = 1, resource: PaidResource = NO_RESOURCE): Promise<Lease> {
    try {
      return Promise.resolve(this.reserveNow(planId, credential, cost, resource))
    } catch (error) {
      return Promise.reject(error)
    }
  }

  // Not async: a warm request (known key, cached balance, in-memory store) is answered without a
  // single promise, which is most of what the gate costs a server.
  reserveNow(planId: PlanId, credential: Credential | undefined, cost = 1, resource: PaidResource = NO_RESOURCE): Lease | Promise<Lease> {
    if (planId !== this.#planId || this.#planId === undefined) {
      this.#plan = normalizePlanId(planId)
      this.#planId = planId
    }
    const plan = this.#plan
    if (!Number.isSafeInteger(cost) || cost < 0) {
      throw new CostInvalidError(`The cost of a request must be a non-negative integer, got ${String(cost)}.`)
    }
    if (credential === undefined || credential === '') throw new CredentialMissingError()
    const x402 = typeof credential === 'object'
    const secret = x402 ? credential.x402Token : credential
    if (typeof secret !== 'string' || secret === '') throw new CredentialMissingError()

    const now = Date.now()
    const fingerprint = sha256Hex(secret)
    const known = this.#knownKey(fingerprint, now)
    if (x402 && known !== undefined && known.tokenPlan !== plan) {
      throw new PaymentRequiredError(`The x402 access token is for plan ${known.tokenPlan}, not plan ${plan}: get a token for plan ${plan}.`)
    }
    // An unknown key or token is checked upstream before it may spend anything cached for its
    // address: a forged one naming someone else's address must not spend their credits.
    const address = known ? known.address : x402 ? tokenHolder(secret, plan) : parseApiKey(secret).address
    const key = known ? storeKeyOf(known, plan) : `${plan}:${address}`

    // The default store answers synchronously; a shared one with a promise.
    const outcome = known ? this.#spend.reserve(key, cost, now, this.#config.cache.ttlMs) : undefined
    if (outcome !== undefined && !(outcome instanceof Promise) && outcome.ok) return this.#lease(key, plan, address, cost, outcome, secret, x402, resource, known)
    const payer: Payer = x402 ? { kind: 'x402', token: secret } : { kind: 'key', apiKey: secret }
    const who: Caller = { key, plan, address, payer, fingerprint, verified: known !== undefined, resource }
    return this.#reserveLater(who, cost, outcome)
  }

  async #reserveLater(who: Caller, cost: number, pending: MaybePromise<ReserveOutcome> | undefined): Promise<Lease> {
    let outcome = await pending
    if (!outcome?.ok) outcome = await this.#reserveSlowly(who, cost)
    const { payer } = who
    const secret = payer.kind === 'x402' ? payer.token : payer.apiKey
    return this.#lease(who.key, who.plan, who.address, cost, outcome, secret, payer.kind === 'x402', who.resource)
  }

  #lease(
    key: string,
    plan: string,
    address: string,
    cost: number,
    outcome: Extract<ReserveOutcome, { ok: true }>,
    secret: string,
    x402: boolean,
    resource: PaidResource,
    known?: KnownKey,
  ): Lease {
    const expiresAt = expiryText(outcome.expiresAt, known)
    return new GateLease(this, key, outcome.reservationId, new RequestBalance(plan, address, outcome.remaining, cost, expiresAt), secret, x402, resource)
  }

  paymentRequired(planId: PlanId, resource: PaidResource, options: { lookup?: boolean } = {}): Promise<PaymentRequired> {
    return this.#paymentRequired(normalizePlanId(planId), resource, options.lookup ?? true)
  }

  async #paymentRequired(plan: string, resource: PaidResource, lookup = true): Promise<PaymentRequired> {
    const scheme = lookup ? (await this.#plans.facts(plan)).scheme : this.#plans.cached(plan)?.scheme ?? this.#plans.given()
    return paymentRequired(plan, scheme, this.#config.agentId, resource)
  }

  /** The spend guard's worth in cents: what a delegation the gate creates may spend on top-ups. */
  #spendingLimitCents(priceCents: number | undefined): number {
    if (this.#config.x402.spendingLimitCents !== undefined) return this.#config.x402.spendingLimitCents
    const autoOrder = this.#config.autoOrder
    if (autoOrder === false) return 1
    return priceCents === undefined || priceCents <= 0 ? 1_000 : autoOrder.maxOrders * priceCents
  }

  async close(): Promise<void> {
    // No more adopting another process's credits: this one would not wait for them.
    await this.#outbox?.stop()
    while (this.#storeWrites.size > 0) await Promise.all(this.#storeWrites)
    await this.#settler.close()
    await this.#quietly(this.#outbox?.close())
  }

  /** @internal the lease's way back in */
  /** Commits `lease.used` of its reservation (the rest goes back in the same step), or releases it all. */
  settleLease(lease: GateLease, served: boolean): Promise<SettlementReceipt | undefined> {
    const { key, reservationId, balance, used } = lease
    const { cost } = balance
    let done: unknown
    try {
      done = !served
        ? this.#spend.release(key, reservationId)
        : this.#outbox
          ? this.#outbox.commit(recordedCredits(lease))
          : used === cost
            ? this.store.commit(key, reservationId, cost)
            : this.store.commit(key, reservationId, cost, used)
    } catch (error) {
      // Called from a response's 'finish' listener: a throwing store must not crash the server.
      // A served request is burned all the same: its credits were handed out.
      const logged = this.#quietly(Promise.reject(error))
      return served ? logged.then(() => this.#redeem(lease)) : logged.then(() => undefined)
    }
    if (done instanceof Promise) {
      // A shared store answers later: close() must still wait for the redemption this leads to
      // (it waits for the write, then flushes the settler: it must not wait out a batch timer).
      // A failed write (the store is down) still burns what was served.
      let redeemed: Promise<SettlementReceipt | undefined> = Promise.resolve(undefined)
      const burn = () => {
        if (served) redeemed = this.#redeem(lease)
      }
      const written = this.#track(
        done.then(
          (outcome: unknown) => {
            if (served) this.#lateCommit(lease, outcome)
            burn()
          },
          (error: unknown) => {
            burn()
            throw error
          },
        ),
      )
      if (served) lease.written = written
      return written.then(() => redeemed)
    }
    if (!served) return Promise.resolve(undefined)
    this.#lateCommit(lease, done)
    return this.#redeem(lease)
  }

  /** A commit the store took after its reservation's lease ended: burned all the same, and said. */
  #lateCommit(lease: GateLease, outcome: unknown): void {
    const late = outcome as CommitOutcome | undefined
    if (late?.late !== true) return
    const { planId, holderAddress } = lease.balance
    const short = late.shortfall > 0 ? `; ${late.shortfall} of them had been handed out again, and the burn tells what is left` : ''
    this.#config.logger.warn(
      `${lease.used} credit(s) of plan ${planId} served to ${holderAddress} were committed after their reservation was given back (the request outlived the store's reservationLeaseMs, or the store lost it); burned all the same${short}.`,
    )
  }

  /** A route's report of what it used could not be taken as it was (see charge.ts). */
  reportUsage(lease: GateLease, error: Error, charged: number): void {
    const { planId, holderAddress } = lease.balance
    this.#config.logger.warn(`usage for plan ${planId}, holder ${holderAddress}: ${error.message}`)
    this.#hook(() => this.#config.hooks.onError?.(error, { during: 'usage', planId, holderAddress, amount: charged }))
  }

  // A method rather than a closure made in settleLease: one allocation less on every response.
  #redeem(lease: GateLease): Promise<SettlementReceipt | undefined> {
    const { balance } = lease
    const outcome = this.#settler.add({
      key: lease.key,
      planId: balance.planId,
      holderAddress: balance.holderAddress,
      amount: lease.used,
      // Made here, not per request: only a served lease needs it.
      payer: lease.x402 ? { kind: 'x402', token: lease.secret } : { kind: 'key', apiKey: lease.secret },
      resource: lease.resource,
    })
    return outcome.then((burned) => {
      if (burned !== SETTLE_FAILED) return burned
      lease.settleFailed = true
      return undefined
    })
  }

  #track(work: Promise<unknown>): Promise<void> {
    const tracked = this.#quietly(work).finally(() => this.#storeWrites.delete(tracked))
    this.#storeWrites.add(tracked)
    return tracked
  }

  async #reserveSlowly(who: Caller, cost: number): Promise<Extract<ReserveOutcome, { ok: true }>> {
    let fresh = false
    for (let round = 0; round < this.#maxRounds; round++) {
      const seen = await this.store.snapshot(who.key)
      if (!who.verified && who.payer.kind === 'x402') {
        await this.#verifyToken(who, cost)
        continue
      }
      if (who.verified) {
        const outcome = await this.#spend.reserve(who.key, cost, Date.now(), fresh ? Infinity : this.#config.cache.ttlMs)
        if (outcome.ok) return outcome
        if (outcome.reason === 'stale' || !fresh) {
          await this.#read(who, seen.epoch)
          fresh = true
          continue
        }
        if (who.payer.kind === 'x402') {
          // No key to order with: the holder's delegation pays, through the top-up settle does.
          await this.#topUp(who, cost, seen.epoch)
          continue
        }
        if (this.#config.autoOrder === false) {
          throw new PaymentRequiredError(
            `Plan ${who.plan} has ${outcome.remaining} credit(s) left for this key and the request costs ${cost}; order the plan to continue.`,
          )
        }
        await this.#order(who, cost, seen.epoch)
      } else {
        await this.#read(who, seen.epoch)
        fresh = true
      }
    }
    throw new UpstreamUnavailableError('The balance kept changing while this request waited for credits; try again.')
  }

  /** One balance read in flight per holder and plan (per key, for keys not yet accepted upstream). */
  #read(who: Caller, seenEpoch: number): Promise<void> {
    const flight = who.verified ? who.key : `${who.key}#${who.fingerprint}`
    return this.#singleFlight(this.#reads, flight, async () => {
      const before = await this.store.snapshot(who.key)
      // Someone observed the balance since this request looked: use that instead of reading again.
      if (who.verified && before.epoch !== seenEpoch) return
      const balance = await this.#upstream('balance', who, () => this.#client.balance(who.plan, who.address, this.#balanceKey(who)))
      await this.#observe(who.key, observation(balance), before)
    }).then(() => {
      if (!who.verified) who.verified = this.#knownKey(who.fingerprint, Date.now()) !== undefined
    })
  }

  /** One order in flight per holder and plan; everyone waiting rides on it. */
  #order(who: Caller, cost: number, seenEpoch: number): Promise<void> {
    return this.#singleFlight(this.#orders, who.key, async () => {
      const autoOrder = this.#config.autoOrder as Exclude<ResolvedGateConfig['autoOrder'], false>
      const before = await this.store.snapshot(who.key)
      if (before.epoch !== seenEpoch) return
      // An answer that races a redemption may or may not include it, and the store then counts it
      // twice: enough to buy credits the holder still has. Hold this holder's redemptions (their
      // credits stay pending) until the order is decided.
      const resume = this.#settler.hold(who.key)
      try {
        await this.#decideOrder(who, cost, before, autoOrder)
      } finally {
        resume()
      }
    })
  }

  /** Whether to order, with this holder's redemptions held: read an exact balance, then order within the guard. */
  async #decideOrder(
    who: Caller,
    cost: number,
    before: EntrySnapshot,
    autoOrder: Exclude<ResolvedGateConfig['autoOrder'], false>,
  ): Promise<void> {
    // What the store knows may count a redemption twice (one that raced the last read), or count
    // as spent one still in flight: let those land, and read the balance again — no redemption
    // runs meanwhile, so the answer is exact — rather than buy credits the holder still has.
    await this.#settler.drain(who.key, this.#config.timeoutMs)
    // The lock first, then the read: another process may have ordered just before, and only a
    // read inside the lock sees what it bought (the read outside would buy a plan early).
    const lock = await this.store.lockOrder(who.key, 2 * this.#config.timeoutMs + autoOrder.pollTimeoutMs)
    if (lock === undefined) {
      // Another process is ordering for this holder: wait for it, then read what it bought.
      await sleep(Math.min(1_000, this.#config.timeoutMs))
      return this.#read(who, before.epoch)
    }
    // Other processes' settles too: none starts while the lock is held (see store/outbox.ts),
    // and those under way land before the read, which then counts each exactly once.
    if (this.#outbox) await this.#quietly(this.#outbox.waitForInFlight(who.key, this.#config.timeoutMs))
    const apiKey = subscriberKey(who)
    try {
      before = await this.store.snapshot(who.key)
      const balance = await this.#upstream('balance', who, () => this.#client.balance(who.plan, who.address, apiKey))
      await this.#observe(who.key, observation(balance), before)
      before = await this.store.snapshot(who.key)
      if (spendable(before, Date.now()) >= cost) return
      if (!(await this.store.recordOrder(who.key, Date.now(), autoOrder.windowMs, autoOrder.maxOrders))) {
        throw new PaymentRequiredError(
          `Plan ${who.plan} was already ordered ${autoOrder.maxOrders} time(s) for this holder within ${Math.round(autoOrder.windowMs / 1000)} s (the spend guard); no more automatic orders until the window passes.`,
        )
      }
      const answer = await this.#upstream('order', who, () => this.#client.order(who.plan, apiKey))
      if (!answer.success) throw new PaymentRequiredError(`Nevermined did not complete the order of plan ${who.plan}.`)
      this.#hook(() => this.#config.hooks.onOrder?.({ planId: who.plan, holderAddress: who.address, txHash: answer.txHash, balance: answer.balance }))
      let landed = observation(answer.balance)
      if (!raised(before, landed, Date.now())) landed = await this.#waitForCredits(who, before, autoOrder.pollTimeoutMs)
      this.#bought.set(who.key, (this.#bought.get(who.key) ?? 0) + boughtBy(before, landed, Date.now()))
      await this.#observe(who.key, landed, before)
    } finally {
      await this.#quietly(lock.release())
    }
  }

  /** The API has been seen to answer an order before the credits show: poll, with backoff, for a bounded time. */
  async #waitForCredits(who: Caller, before: EntrySnapshot, timeoutMs: number): Promise<Observation> {
    const deadline = Date.now() + timeoutMs
    for (let delay = 50; Date.now() < deadline; delay = Math.min(delay * 2, 1_000)) {
      await sleep(Math.min(delay, Math.max(0, deadline - Date.now())))
      const balance = await this.#upstream('balance', who, () => this.#client.balance(who.plan, who.address, subscriberKey(who)))
      const seen = observation(balance)
      if (raised(before, seen, Date.now())) return seen
    }
    throw new UpstreamUnavailableError(
      `Plan ${who.plan} was ordered, but its credits did not appear within ${timeoutMs} ms; they will be used once they do.`,
      { retryAfterSeconds: 5 },
    )
  }

  /**
   * An x402 token not seen before: the facilitator verifies it (signature, plan, agent, and
   * whether it can pay `cost`) before it may spend anything cached for its holder.
   */
  async #verifyToken(who: Caller, cost: number): Promise<void> {
    const token = (who.payer as Extract<Payer, { kind: 'x402' }>).token
    await this.#singleFlight(this.#reads, `${who.key}#${who.fingerprint}`, async () => {
      const required = await this.#paymentRequired(who.plan, who.resource)
      const answer = await this.#upstream('verify', who, () =>
        this.#client.verify({ paymentRequired: required, x402AccessToken: token, maxAmount: String(Math.max(cost, 1)) }, this.#config.apiKey),
      )
      if (!answer.valid) {
        this.#knownKeys.delete(who.fingerprint)
        throw new PaymentRequiredError(`Nevermined did not accept the x402 access token${answer.reason ? `: ${redactReason(answer.reason, token)}` : ''}.`)
      }
    })
    who.verified = this.#knownKey(who.fingerprint, Date.now()) !== undefined
    if (!who.verified) throw new UpstreamUnavailableError('The x402 access token could not be verified; try again.')
  }

  /**
   * An x402 payer whose credits cannot cover the request. The gate has no key to order with: the
   * settle that burns these credits orders first (auto top-up), within the holder's delegation.
   * One verify in flight per holder and plan asks whether the delegation can pay for an order's
   * worth of credits; if so, they count as available until that settle (or a balance read) says
   * what there really is, and everyone waiting rides on them.
   */
  #topUp(who: Caller, cost: number, seenEpoch: number): Promise<void> {
    return this.#singleFlight(this.#topUps, who.key, async () => {
      const before = await this.store.snapshot(who.key)
      if (before.epoch !== seenEpoch) return
      const facts = await this.#plans.facts(who.plan)
      const short = cost - Math.max(0, spendable(before, Date.now()))
      const credit = Math.max(short, facts.creditsPerOrder ?? 0, 1)
      const required = await this.#paymentRequired(who.plan, who.resource)
      const token = (who.payer as Extract<Payer, { kind: 'x402' }>).token
      // Verify is asked for everything still to be burned — the credits held and served but not
      // settled yet (some of them promised by earlier top-ups) — and these new ones: the
      // delegation must pay for all of it, not just for the last order's worth.
      const owed = before.reserved + before.pending + credit
      const answer = await this.#upstream('verify', who, () =>
        this.#client.verify({ paymentRequired: required, x402AccessToken: token, maxAmount: String(owed) }, this.#config.apiKey),
      )
      if (!answer.valid) {
        throw new PaymentRequiredError(
          `Plan ${who.plan} has too few credits for this request and the holder's delegation cannot top it up${answer.reason ? ` (${redactReason(answer.reason, token)})` : ''}.`,
        )
      }
      const now = Date.now()
      const expired = before.expiresAt !== null && before.expiresAt <= now
      const base = expired ? before.reserved + before.pending : before.upstream
      await this.store.observe(who.key, { remaining: base + credit, total: before.total, expiresAt: expired ? null : before.expiresAt }, before, now)
      this.#promised.set(who.key, (this.#promised.get(who.key) ?? 0) + credit)
    })
  }

  /** A balance read for a holder after a settle bought credits for it (auto top-up). */
  #refresh(key: string, plan: string, address: string): void {
    const work = (async () => {
      const before = await this.store.snapshot(key)
      const balance = await this.#client.balance(plan, address, this.#config.apiKey)
      await this.#observe(key, observation(balance), before)
    })()
    void this.#track(work)
  }

  /** Applies what the API said; anything counted ahead of a top-up is then known for real. */
  async #observe(key: string, seen: Observation, before: EntrySnapshot): Promise<void> {
    await this.store.observe(key, seen, before, Date.now())
    this.#promised.delete(key)
  }

  /** Whose key reads a balance: the holder's own, or (for x402 payers, who have none) the agent's. */
  #balanceKey(who: Caller): string {
    return who.payer.kind === 'key' ? who.payer.apiKey : this.#config.apiKey
  }

  /** Runs an upstream call for a request; notes keys the API accepted, forgets ones it refused. */
  async #upstream<T>(during: 'order' | 'balance' | 'verify', who: Caller, call: () => Promise<T>): Promise<T> {
    try {
      const result = await call()
      // The store's key string too, the very one the store was given: one string per holder. Every
      // field is present from the start, so V8 keeps them all inside the object (fields added
      // later cost each holder an extra array, about 24 bytes).
      // A token is known only once verify accepted it, not because a read with the agent's key worked.
      if (who.payer.kind === 'key' || isVerified(result)) {
        const known: KnownKey = {
          address: who.address,
          acceptedAt: Date.now(),
          plan: who.plan,
          storeKey: who.key,
          expiresAt: undefined,
          expiresText: undefined,
          tokenPlan: who.payer.kind === 'x402' ? who.plan : undefined,
        }
        this.#knownKeys.set(who.fingerprint, known)
      }
      return result
    } catch (error) {
      if (error instanceof CredentialInvalidError) this.#knownKeys.delete(who.fingerprint)
      if (!(error instanceof PlanGateError) || error.status >= 500) {
        this.#config.logger.warn(`${during} for plan ${who.plan}, holder ${who.address} failed: ${describe(error)}`)
        this.#hook(() => this.#config.hooks.onError?.(asError(error), { during, planId: who.plan, holderAddress: who.address }))
      }
      throw error
    }
  }

  /** The accepted key with this fingerprint, if the API accepted it within `cache.ttlMs`. */
  #knownKey(fingerprint: string, now: number): KnownKey | undefined {
    const known = this.#knownKeys.get(fingerprint)
    return known !== undefined && now - known.acceptedAt <= Math.max(this.#config.cache.ttlMs, 1) ? known : undefined
  }

  #singleFlight(flights: Map<string, Promise<void>>, key: string, run: () => Promise<void>): Promise<void> {
    const existing = flights.get(key)
    if (existing) return existing
    const flight = run().finally(() => {
      if (flights.get(key) === flight) flights.delete(key)
    })
    flights.set(key, flight)
    return flight
  }

  #redeemFailed(redemption: Redemption, error: unknown): void {
    this.#config.logger.error(
      `${redemption.amount} credit(s) of plan ${redemption.planId} served to ${redemption.holderAddress} were not redeemed: ${describe(error)}`,
    )
    this.#hook(() =>
      this.#config.hooks.onError?.(asError(error), {
        during: 'redeem',
        planId: redemption.planId,
        holderAddress: redemption.holderAddress,
        amount: redemption.amount,
      }),
    )
  }

  #hook(call: () => void): void {
    try {
      call()
    } catch {
      // Hooks observe; a throwing one must not change what happens to the request or the money.
    }
  }

  async #quietly(work: unknown): Promise<void> {
    try {
      await work
    } catch (error) {
      this.#config.logger.error(`balance store failed: ${describe(error)}`)
    }
  }
}

interface Caller {
  key: string
  plan: string
  address: string
  payer: Payer
  fingerprint: string
  verified: boolean
  resource: PaidResource
}

const NO_RESOURCE: PaidResource = { url: '', method: '' }

/** What a served lease records in the outbox. */
function recordedCredits(lease: GateLease): ServedCredits {
  const { balance } = lease
  const payer: Payer = lease.x402 ? { kind: 'x402', token: lease.secret } : { kind: 'key', apiKey: lease.secret }
  return {
    key: lease.key,
    reservationId: lease.reservationId,
    reserved: balance.cost,
    cost: lease.used,
    planId: balance.planId,
    holderAddress: balance.holderAddress,
    payer,
    resource: lease.resource,
  }
}

/** The holder an x402 token names, read locally; a token for another plan is refused here. */
function tokenHolder(token: string, plan: string): string {
  const claims = parseX402Token(token)
  if (claims.planId !== plan) {
    throw new PaymentRequiredError(`The x402 access token is for plan ${claims.planId}, not plan ${plan}: get a token for plan ${plan}.`)
  }
  return claims.holderAddress
}

/** The holder's own key, for the calls only it may make (order); x402 payers never get here. */
function subscriberKey(who: Caller): string {
  if (who.payer.kind !== 'key') throw new PaymentRequiredError('An x402 payer cannot be ordered for with a key.')
  return who.payer.apiKey
}

function isVerified(result: unknown): boolean {
  return typeof result === 'object' && result !== null && (result as { valid?: unknown }).valid === true
}

class GateLease implements Lease {
  #done = false
  /** Set once its burn failed for good (see `Lease.settleFailed`). */
  settleFailed = false
  /** What a commit burns: the whole reservation unless the charge said less. */
  used: number
  /** The commit's write to a shared store (settled, never rejecting), once it is under way. */
  written: Promise<void> | undefined
  constructor(
    private readonly gate: Gate,
    readonly key: string,
    /** What the store named the reservation: commit and release name it back. */
    readonly reservationId: string,
    readonly balance: PlanBalance,
    /** The API key or x402 token the request paid with: a secret, kept only until it is settled. */
    readonly secret: string,
    readonly x402: boolean,
    readonly resource: PaidResource,
  ) {
    this.used = balance.cost
  }

  get paidWith(): 'x402' | 'apiKey' {
    return this.x402 ? 'x402' : 'apiKey'
  }

  commit(credits?: number): Promise<SettlementReceipt | undefined> {
    if (this.#done) return Promise.resolve(undefined)
    if (credits !== undefined && Number.isSafeInteger(credits) && credits >= 0 && credits < this.used) this.used = credits
    if (this.used === 0) return this.release().then(() => undefined)
    this.#done = true
    closeMeter(this.balance)
    return this.gate.settleLease(this, true)
  }

  release(): Promise<void> {
    if (this.#done) return Promise.resolve()
    this.#done = true
    closeMeter(this.balance)
    return this.gate.settleLease(this, false).then(() => undefined)
  }

  report(error: Error, charged: number): void {
    this.gate.reportUsage(this, error, charged)
  }

  stored(): Promise<void> {
    return this.written ?? Promise.resolve()
  }
}
