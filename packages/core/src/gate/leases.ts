import type { Lease, PlanBalance } from '../lease'
import type { ResolvedGateConfig } from '../options'
import type { OutboxKeeper, ServedCredits } from '../outbox/keeper'
import { closeMeter } from '../request-balance'
import { type Settler } from '../settle/settler'
import { SETTLE_FAILED, type Payer, type SettlementReceipt } from '../settle/burner'
import type { BalanceStore, CommitOutcome } from '../store/balance-store'
import { safely } from '../util/safely'
import type { PaidResource } from '../x402/payment-required'
import { quietly, type StoreWrites } from './caller'

export interface LeasesParts {
  config: ResolvedGateConfig
  store: BalanceStore
  /** What reservations go through: the store, or with an outbox, the keeper's view of it. */
  spend: BalanceStore
  outbox: OutboxKeeper | undefined
  settler: Settler
  writes: StoreWrites
}

/**
 * What becomes of a lease once its request is done: a commit of what it used (burned through the
 * settler, recorded in the outbox first when the store keeps one) or a release of it all.
 */
export class Leases {
  // Each part in a field of its own: settleLease runs on every response.
  readonly #config: ResolvedGateConfig
  readonly #store: BalanceStore
  readonly #spend: BalanceStore
  readonly #outbox: OutboxKeeper | undefined
  readonly #settler: Settler
  readonly #writes: StoreWrites

  /** Leases handed out and neither committed nor released yet: requests still being served. */
  open = 0
  #idle: (() => void) | undefined

  constructor(parts: LeasesParts) {
    this.#config = parts.config
    this.#store = parts.store
    this.#spend = parts.spend
    this.#outbox = parts.outbox
    this.#settler = parts.settler
    this.#writes = parts.writes
  }

  /** @internal the lease's way back in */
  /** Commits `lease.used` of its reservation (the rest goes back in the same step), or releases it all. */
  settleLease(lease: GateLease, served: boolean): Promise<SettlementReceipt | undefined> {
    if (--this.open === 0 && this.#idle !== undefined) this.#idle()
    const { key, reservationId, balance, used } = lease
    const { cost } = balance
    let done: unknown
    try {
      done = !served
        ? this.#spend.release(key, reservationId)
        : this.#outbox
          ? this.#outbox.commit(recordedCredits(lease))
          : used === cost
            ? this.#store.commit(key, reservationId, cost)
            : this.#store.commit(key, reservationId, cost, used)
    } catch (error) {
      // Called from a response's 'finish' listener: a throwing store must not crash the server.
      // A served request is burned all the same: its credits were handed out.
      const logged = quietly(this.#config.logger, Promise.reject(error))
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
      const written = this.#writes.track(
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

  /**
   * Resolves once every open lease has been committed or released, or after `waitMs`: a request
   * whose stream was cut as its server closed commits just after, and its burn must not miss
   * `close()`. A lease its caller never ends only delays `close()` by `waitMs`.
   */
  async ended(waitMs: number): Promise<void> {
    if (this.open === 0) return
    let timer: ReturnType<typeof setTimeout> | undefined
    await new Promise<void>((resolve) => {
      this.#idle = resolve
      timer = setTimeout(resolve, waitMs)
    })
    clearTimeout(timer)
    this.#idle = undefined
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
    const config = this.#config
    config.logger.warn(`usage for plan ${planId}, holder ${holderAddress}: ${error.message}`)
    safely(() => config.hooks.onError?.(error, { during: 'usage', planId, holderAddress, amount: charged }))
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
}

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

export class GateLease implements Lease {
  #done = false
  /** Set once its burn failed for good (see `Lease.settleFailed`). */
  settleFailed = false
  /** What a commit burns: the whole reservation unless the charge said less. */
  used: number
  /** The commit's write to a shared store (settled, never rejecting), once it is under way. */
  written: Promise<void> | undefined
  constructor(
    private readonly leases: Leases,
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
    leases.open++
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
    return this.leases.settleLease(this, true)
  }

  release(): Promise<void> {
    if (this.#done) return Promise.resolve()
    this.#done = true
    closeMeter(this.balance)
    return this.leases.settleLease(this, false).then(() => undefined)
  }

  report(error: Error, charged: number): void {
    this.leases.reportUsage(this, error, charged)
  }

  stored(): Promise<void> {
    return this.written ?? Promise.resolve()
  }
}
