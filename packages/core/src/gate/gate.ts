import { parseApiKey } from '../api-key'
import { RedeemBurner, type BurnHooks } from '../settle/redeem-burner'
import { X402Burner } from '../settle/x402-burner'
import { NeverminedClient } from '../client'
import { CostInvalidError, CredentialMissingError, PaymentRequiredError, UpstreamUnavailableError } from '../errors'
import { sha256Hex } from '../fingerprint'
import type { Credential, Lease } from '../lease'
import type { ResolvedGateConfig } from '../options'
import { OutboxKeeper } from '../outbox/keeper'
import { normalizePlanId, type PlanId } from '../plan-id'
import { RequestBalance } from '../request-balance'
import { Settler } from '../settle/settler'
import { type Payer, type Redemption } from '../settle/burner'
import type { BalanceStore, MaybePromise, ReserveOutcome } from '../store/balance-store'
import { MemoryBalanceStore } from '../store/memory-store'
import { isOutbox } from '../store/outbox'
import { safely } from '../util/safely'
import { HolderTokens } from '../x402/holder-tokens'
import type { PaidResource, PaymentRequired } from '../x402/payment-required'
import { PlanDirectory } from '../x402/plan-directory'
import { Acquisition } from './acquisition'
import { asError, describe } from './books'
import { NO_RESOURCE, quietly, StoreWrites, type Caller } from './caller'
import { expiryText, KnownKeys, storeKeyOf, type KnownKey } from './known-keys'
import { GateLease, Leases } from './leases'
import type { PlanGate } from './plan-gate'
import { tokenHolder, X402Payer } from './x402-payer'

/**
 * The gate: wires its parts together and runs the reserve paths. A warm request is answered in
 * reserveNow from the known key and the store; anything else goes round #reserveSlowly, which
 * verifies (X402Payer), reads and orders (Acquisition) or tops up (X402Payer) until the store
 * can hold the credits. What a lease does once served is in Leases.
 */
export class Gate implements PlanGate {
  readonly store: BalanceStore
  readonly #config: ResolvedGateConfig
  readonly #client: NeverminedClient
  readonly #settler: Settler
  /** With a store that keeps an outbox: this gate's records in it (what it served, not yet settled). */
  readonly #outbox: OutboxKeeper | undefined
  /** What reservations go through: the store, or with an outbox, the keeper's view of it (they count as this gate's). */
  readonly #spend: BalanceStore
  readonly #knownKeys: KnownKeys
  /** Credits counted as available ahead of the top-up a settle will buy (x402 payers), per key. */
  readonly #promised = new Map<string, number>()
  readonly #writes: StoreWrites
  readonly #payer: X402Payer
  readonly #acquisition: Acquisition
  readonly #leases: Leases
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
    this.#knownKeys = new KnownKeys(config)
    this.#writes = new StoreWrites(config.logger)
    const plans = new PlanDirectory(this.#client, config.apiKey, { scheme: config.x402.scheme, network: config.x402.network })
    // One map of reads in flight for both: a token's first verify and a key's first read share its keys.
    const reads = new Map<string, Promise<void>>()
    const store = this.store
    this.#payer = new X402Payer({ config, client: this.#client, store, plans, knownKeys: this.#knownKeys, reads, promised: this.#promised })
    const hooks: BurnHooks = {
      onBurned: (r, remainingBalance) => {
        if (remainingBalance !== undefined) this.#promised.delete(r.key)
        safely(() => config.hooks.onRedeem?.({ planId: r.planId, holderAddress: r.holderAddress, amount: r.amount, remainingBalance: remainingBalance ?? -1 }))
      },
      onFailed: (r, error) => this.#redeemFailed(r, error),
    }
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
            tokens: new HolderTokens(this.#client, plans, {
              agentId: config.agentId,
              delegationSecs: config.x402.delegationSecs,
              spendingLimitCents: (_plan, priceCents) => this.#payer.spendingLimitCents(priceCents),
              max: config.cache.max,
            }),
            paymentRequired: (r) => this.#payer.paymentRequired(r.planId, r.resource),
            promised: (key) => this.#promised.get(key) ?? 0,
            bought: (key) => this.#acquisition.bought(key),
            onToppedUp: (r) => this.#acquisition.refresh(r.key, r.planId, r.holderAddress),
            hooks,
            logger: config.logger,
          })
    this.#settler = new Settler({ store, burner: this.#outbox?.burner(burner) ?? burner, batchMs: config.settle.batchMs, maxCredits: config.settle.maxCredits })
    const shared = { config, store, settler: this.#settler, outbox: this.#outbox, writes: this.#writes }
    this.#acquisition = new Acquisition({ ...shared, client: this.#client, knownKeys: this.#knownKeys, reads, promised: this.#promised })
    this.#leases = new Leases({ ...shared, spend: this.#spend })
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
    const known = this.#knownKeys.get(fingerprint, now)
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
    return new GateLease(this.#leases, key, outcome.reservationId, new RequestBalance(plan, address, outcome.remaining, cost, expiresAt), secret, x402, resource)
  }

  async #reserveSlowly(who: Caller, cost: number): Promise<Extract<ReserveOutcome, { ok: true }>> {
    let fresh = false
    for (let round = 0; round < this.#maxRounds; round++) {
      const seen = await this.store.snapshot(who.key)
      if (!who.verified && who.payer.kind === 'x402') {
        await this.#payer.verify(who, cost)
        continue
      }
      if (who.verified) {
        const outcome = await this.#spend.reserve(who.key, cost, Date.now(), fresh ? Infinity : this.#config.cache.ttlMs)
        if (outcome.ok) return outcome
        if (outcome.reason === 'stale' || !fresh) {
          await this.#acquisition.read(who, seen.epoch)
          fresh = true
          continue
        }
        if (who.payer.kind === 'x402') {
          // No key to order with: the holder's delegation pays, through the top-up settle does.
          await this.#payer.topUp(who, cost, seen.epoch)
          continue
        }
        if (this.#config.autoOrder === false) {
          throw new PaymentRequiredError(
            `Plan ${who.plan} has ${outcome.remaining} credit(s) left for this key and the request costs ${cost}; order the plan to continue.`,
          )
        }
        await this.#acquisition.order(who, cost, seen.epoch)
      } else {
        await this.#acquisition.read(who, seen.epoch)
        fresh = true
      }
    }
    throw new UpstreamUnavailableError('The balance kept changing while this request waited for credits; try again.')
  }

  paymentRequired(planId: PlanId, resource: PaidResource, options: { lookup?: boolean } = {}): Promise<PaymentRequired> {
    return this.#payer.paymentRequired(normalizePlanId(planId), resource, options.lookup ?? true)
  }

  async close(): Promise<void> {
    // Requests still being served first (at most timeoutMs): what they serve is burned below.
    await this.#leases.ended(this.#config.timeoutMs)
    // No more adopting another process's credits: this one would not wait for them.
    await this.#outbox?.stop()
    await this.#writes.settled()
    await this.#settler.close()
    await quietly(this.#config.logger, this.#outbox?.close())
  }

  #redeemFailed(redemption: Redemption, error: unknown): void {
    this.#config.logger.error(
      `${redemption.amount} credit(s) of plan ${redemption.planId} served to ${redemption.holderAddress} were not redeemed: ${describe(error)}`,
    )
    safely(() =>
      this.#config.hooks.onError?.(asError(error), {
        during: 'redeem',
        planId: redemption.planId,
        holderAddress: redemption.holderAddress,
        amount: redemption.amount,
      }),
    )
  }
}
