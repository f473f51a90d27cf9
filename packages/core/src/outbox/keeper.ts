import { LRUCache } from 'lru-cache'
import type { NeverminedBalance } from '../schemas'
import { backoff } from '../settle/settler'
import { SETTLE_FAILED, type BurnOutcome, type Burner, type Payer, type Redemption } from '../settle/burner'
import type { BalanceStore, CommitOutcome, EntrySnapshot, OrderLock, Settlement } from '../store/balance-store'
import type { OutboxRecord, SettlementOutbox } from '../store/outbox'
import { sleep, unrefTimer } from '../timers'
import type { PaidResource } from '../x402/payment-required'
import { RecordSeal, type RecordedPayer } from './seal'

export interface OutboxKeeperOptions {
  outbox: SettlementOutbox & BalanceStore
  /** The agent's API key: seals the records (every process of the agent can open them). */
  agentKey: string
  /** Entries to remember (which keys are indexed, whose record is written): the gate's cache size. */
  max: number
  /** The holder's balance as the API reports it now (the agent's key): judges adopted credits in flight. */
  balance(planId: string, holderAddress: string): Promise<NeverminedBalance>
  /** Hands adopted credits to the gate's settler. */
  settle(redemption: Redemption): Promise<unknown>
  /** Adopted credits whose settle may have burned and cannot be told: reported, never sent again. */
  onLost(redemption: Redemption, error: Error): void
  logger: { warn(message: string): void }
}

/** What a served lease hands the keeper. */
export interface ServedCredits {
  key: string
  /** The reservation served (what `reserve` answered). */
  reservationId: string
  /** The credits reserved for the request. */
  reserved: number
  /** What of them it used: recorded and burned (the rest goes back). */
  cost: number
  planId: string
  holderAddress: string
  payer: Payer
  resource: PaidResource
}

/**
 * The gate's side of a store's outbox (see store/outbox.ts): this gate is one owner. It records
 * what it serves, keeps its lease alive, marks what it sends as in flight, and, every
 * `ownerLeaseMs / 3`, claims owners whose lease lapsed (their process died) and settles what
 * they served. Timers start on first use or at creation where the runtime allows it, never at a
 * Worker's module scope.
 */
export class OutboxKeeper {
  readonly #o: OutboxKeeperOptions
  readonly #seal: RecordSeal
  /** Keys this owner has indexed, and the credential its record for each names. */
  readonly #written: LRUCache<string, string>
  /**
   * Credits served whose commit failed (the store was down or slow): the store may or may not
   * hold them. A burn that finds them not recorded burns them outside the outbox.
   */
  readonly #unrecorded = new Map<string, number>()
  /** Keys whose burn under way is of unrecorded credits: settled on the entry alone. */
  readonly #direct = new Set<string>()
  /** Redemptions that could not be marked in flight (the store was down): tried again every tick. */
  #retry: Redemption[] = []
  #owner: string | undefined
  #registered: Promise<void> | undefined
  #timer: ReturnType<typeof setInterval> | undefined
  #sweeping: Promise<void> | undefined
  #closed = false

  constructor(options: OutboxKeeperOptions) {
    this.#o = options
    this.#seal = new RecordSeal(options.agentKey)
    this.#written = new LRUCache({ max: options.max })
    try {
      this.#start()
    } catch {
      // A Worker's module scope forbids random values and timers: started on first use instead.
    }
  }

  /** Commits served credits and records them in one step (after this owner and key are known to the store). */
  async commit(served: ServedCredits): Promise<CommitOutcome> {
    const owner = this.#start()
    try {
      return await this.#record(served, owner)
    } catch (error) {
      this.#unrecorded.set(served.key, (this.#unrecorded.get(served.key) ?? 0) + served.cost)
      throw error
    }
  }

  async #record(served: ServedCredits, owner: string): Promise<CommitOutcome> {
    const { outbox } = this.#o
    await (this.#registered ??= outbox.renewOwner(owner, Date.now()))
    const secret = served.payer.kind === 'x402' ? served.payer.token : served.payer.apiKey
    const written = this.#written.get(served.key)
    if (written === undefined) await outbox.indexKey(owner, served.key)
    const record = written === secret ? undefined : await this.#seal.seal(recordOf(served))
    const outcome = served.cost === served.reserved
      ? await outbox.commitRecorded(served.key, served.reservationId, served.cost, owner, record)
      : await outbox.commitRecorded(served.key, served.reservationId, served.reserved, owner, record, served.cost)
    if (!outcome.hasRecord) {
      // The store lost this owner's record (it expired while idle, or Redis restarted empty, which
      // loses the index too): both written again.
      await outbox.indexKey(owner, served.key)
      await outbox.writeRecord(served.key, owner, await this.#seal.seal(recordOf(served)))
    }
    this.#written.set(served.key, secret)
    return outcome
  }

  /** `inner`, marking each redemption in flight in the store before it is sent. */
  burner(inner: Burner): Burner {
    return { parallel: inner.parallel, burn: (redemption) => this.#burn(inner, redemption) }
  }

  /**
   * The store the gate spends and burns through: a reservation is counted as this owner's (given
   * back if it dies), a settle also takes the credits off this owner's in flight.
   */
  store(): BalanceStore {
    const { outbox } = this.#o
    const settle = (key: string, amount: number, settlement: Settlement) => {
      if (this.#direct.delete(key)) return outbox.settle(key, amount, settlement)
      return outbox.settleRecorded(key, amount, settlement, this.#start()).then((applied) => {
        if (!applied) this.#o.logger.warn(`a settle of ${amount} credit(s) ended after another process adopted them; the store was left to it.`)
      })
    }
    return {
      reserve: (key, cost, now, ttlMs) => outbox.reserveRecorded(key, cost, now, ttlMs, this.#start()),
      release: (key, reservationId) => outbox.release(key, reservationId),
      commit: (key, reservationId, cost, served) => outbox.commit(key, reservationId, cost, served),
      settle,
      observe: (key, observation, startedAt, now) => outbox.observe(key, observation, startedAt, now),
      snapshot: (key) => outbox.snapshot(key),
      recordOrder: (key, now, windowMs, max) => outbox.recordOrder(key, now, windowMs, max),
      lockOrder: (key, ttlMs): ReturnType<BalanceStore['lockOrder']> => outbox.lockOrder(key, ttlMs) as Promise<OrderLock | undefined>,
    }
  }

  /**
   * Waits (at most `waitMs`) until no process has credits of `key` in flight. Called with the
   * order lock held, which stops new ones starting: the balance read next is then exact.
   */
  async waitForInFlight(key: string, waitMs: number): Promise<void> {
    const deadline = Date.now() + waitMs
    for (let delay = 5; Date.now() < deadline; delay = Math.min(delay * 2, 100)) {
      if ((await this.#o.outbox.redemptionsInFlight(key)) === 0) return
      await sleep(Math.min(delay, Math.max(0, deadline - Date.now())), { unref: true })
    }
  }

  /** Stops claiming other owners (the gate is closing: nothing it adopted now would be waited for). */
  async stop(): Promise<void> {
    this.#closed = true
    if (this.#timer !== undefined) clearInterval(this.#timer)
    this.#timer = undefined
    await this.#sweeping
  }

  /** Stops; forgets this owner if nothing it recorded is left (else another process adopts it once the lease lapses). */
  async close(): Promise<void> {
    await this.stop()
    const owner = this.#owner
    if (owner === undefined) return
    const { outbox } = this.#o
    for (const key of await outbox.ownerKeys(owner)) {
      const record = await outbox.readRecord(key, owner)
      if (record !== undefined && record.reserved + record.recorded + record.inFlight > 0) return
    }
    await outbox.dropOwner(owner)
  }

  /** This owner's id; the first call makes it, registers it and starts the lease. */
  #start(): string {
    if (this.#owner !== undefined) return this.#owner
    const owner = crypto.randomUUID()
    const every = Math.max(10, Math.floor(this.#o.outbox.ownerLeaseMs / 3))
    const timer = unrefTimer(setInterval(() => void this.#tick(), every))
    this.#owner = owner
    this.#timer = timer
    this.#registered = this.#o.outbox.renewOwner(owner, Date.now())
    // A failed first registration is tried again on the next commit.
    this.#registered.catch(() => (this.#registered = undefined))
    // Soon after start, not a lease later: a restarted process settles what its predecessor left.
    unrefTimer(setTimeout(() => void this.#tick(), 0))
    return owner
  }

  async #tick(): Promise<void> {
    if (this.#closed || this.#sweeping) return
    this.#sweeping = (async () => {
      try {
        const owner = this.#start()
        await this.#o.outbox.renewOwner(owner, Date.now())
        const retry = this.#retry
        this.#retry = []
        for (const redemption of retry) void this.#o.settle(redemption)
        // An owner once claimed is adopted even if stop() came meanwhile (stop waits for this
        // sweep, and close then settles it): left claimed, its lease would lapse again with
        // nobody left to see it.
        while (!this.#closed) {
          const dead = await this.#o.outbox.claimLapsedOwner(Date.now())
          if (dead === undefined) break
          await this.#adoptOwner(dead, owner)
        }
      } catch (error) {
        this.#o.logger.warn(`settlement outbox: ${error instanceof Error ? error.message : 'failed'}; tried again in ${Math.round(this.#o.outbox.ownerLeaseMs / 3)} ms`)
      } finally {
        this.#sweeping = undefined
      }
    })()
    await this.#sweeping
  }

  /** Settles everything a lapsed owner recorded; forgets it once nothing is left. */
  async #adoptOwner(dead: string, me: string): Promise<void> {
    const { outbox } = this.#o
    let left = false
    let adopted = 0
    let holders = 0
    for (const key of await outbox.ownerKeys(dead)) {
      const record = await outbox.readRecord(key, dead)
      if (record === undefined || record.reserved + record.recorded + record.inFlight === 0) continue
      if (record.recorded + record.inFlight === 0) {
        // Only reservations of requests it was serving: given back.
        await outbox.adopt(key, dead, me)
        continue
      }
      const payer = await this.#seal.open(record.record)
      // Another agent's record (one store, several agents): left for a process of that agent.
      if (payer === undefined) {
        left = true
        continue
      }
      if (record.inFlight > 0 && (await this.#judge(key, record, payer)) !== 'not burned') {
        await outbox.settleRecorded(key, record.inFlight, { ok: false }, dead)
      }
      await outbox.indexKey(me, key)
      const moved = await outbox.adopt(key, dead, me)
      if (moved > 0) {
        adopted += moved
        holders++
        void this.#o.settle({ key, amount: moved, ...payer })
      }
    }
    if (!left) await outbox.dropOwner(dead)
    if (adopted > 0) {
      this.#o.logger.warn(`settlement outbox: a gate stopped without settling (its lease lapsed); this one adopted ${adopted} credit(s) of ${holders} holder(s) and settles them.`)
    }
  }

  /**
   * Did a dead owner's settle in flight burn? The balance now against the one it went out with:
   * fallen by exactly the amount (net of credits bought and of other settles applied since) →
   * burned; unchanged → not; anything else cannot be told, and is reported, never sent again.
   */
  async #judge(key: string, record: OutboxRecord, payer: RecordedPayer): Promise<'burned' | 'not burned' | 'unknown'> {
    const { outbox } = this.#o
    // Another process's settle under way may have burned and not answered yet: the balance would
    // fall by more than this one explains. Under the order lock none starts, and those under way
    // are waited for (a while: the claim on the dead owner lasts one lease).
    const lock = await outbox.lockOrder(key, outbox.ownerLeaseMs)
    try {
      if (lock !== undefined) await this.#othersLanded(key, record.inFlight, outbox.ownerLeaseMs / 2)
      return await this.#verdict(key, record, payer)
    } finally {
      await lock?.release()
    }
  }

  async #othersLanded(key: string, own: number, waitMs: number): Promise<void> {
    const deadline = Date.now() + waitMs
    for (let delay = 5; Date.now() < deadline; delay = Math.min(delay * 2, 100)) {
      if ((await this.#o.outbox.redemptionsInFlight(key)) <= own) return
      await sleep(Math.min(delay, Math.max(0, deadline - Date.now())), { unref: true })
    }
  }

  async #verdict(key: string, record: OutboxRecord, payer: RecordedPayer): Promise<'burned' | 'not burned' | 'unknown'> {
    const base = record.baseline
    const at: EntrySnapshot = await this.#o.outbox.snapshot(key)
    const balance = await this.#o.balance(payer.planId, payer.holderAddress)
    const verdict = (() => {
      if (base === undefined || base.total === undefined || balance.total === undefined) return 'unknown'
      const expected = base.upstream + (balance.total - base.total) - (at.acked - base.acked)
      if (balance.remaining === expected - record.inFlight) return 'burned'
      if (balance.remaining === expected) return 'not burned'
      return 'unknown'
    })()
    if (verdict === 'unknown') {
      const redemption: Redemption = { key, amount: record.inFlight, ...payer }
      this.#o.onLost(redemption, new Error(`a settle of ${record.inFlight} credit(s) was under way when the process serving them stopped, and the balance does not tell whether it burned; it is not sent again, so as never to burn twice.`))
    }
    return verdict
  }

  async #burn(inner: Burner, redemption: Redemption): Promise<BurnOutcome> {
    const unrecorded = Math.min(this.#unrecorded.get(redemption.key) ?? 0, redemption.amount)
    if (unrecorded === 0) return this.#burnRecorded(inner, redemption)
    // Some of these credits' commits failed. Recorded after all (a slow store applied them)?
    const whole = await this.#startOnce(redemption)
    if (whole !== 'gone') {
      this.#takeUnrecorded(redemption.key, unrecorded)
      if (whole === 'started') return inner.burn(redemption)
      return whole === 'lost' ? this.#burnDirect(inner, redemption) : this.#burnRecorded(inner, redemption)
    }
    // No: those burn outside the outbox (as with a store that keeps none), the rest through it.
    this.#takeUnrecorded(redemption.key, unrecorded)
    const rest = redemption.amount - unrecorded
    const receipt = rest > 0 ? await this.#burnRecorded(inner, { ...redemption, amount: rest }) : undefined
    const direct = await this.#burnDirect(inner, { ...redemption, amount: unrecorded })
    // Part of it failed: the whole did not land.
    if (receipt === SETTLE_FAILED || direct === SETTLE_FAILED) return SETTLE_FAILED
    return receipt ?? direct
  }

  /** Burns credits the outbox does not hold, settling them on the entry alone. */
  #burnDirect(inner: Burner, redemption: Redemption): Promise<BurnOutcome> {
    this.#direct.add(redemption.key)
    return inner.burn(redemption)
  }

  #takeUnrecorded(key: string, amount: number): void {
    const left = (this.#unrecorded.get(key) ?? 0) - amount
    if (left > 0) this.#unrecorded.set(key, left)
    else this.#unrecorded.delete(key)
  }

  /** One try at marking the redemption in flight; a failing store counts as 'wait'. */
  async #startOnce(redemption: Redemption): Promise<'started' | 'wait' | 'gone' | 'lost'> {
    try {
      return await this.#o.outbox.startRedemption(redemption.key, redemption.amount, this.#start())
    } catch {
      return 'wait'
    }
  }

  async #burnRecorded(inner: Burner, redemption: Redemption): Promise<BurnOutcome> {
    const { outbox } = this.#o
    const owner = this.#start()
    for (let attempt = 0; ; attempt++) {
      let started: 'started' | 'wait' | 'gone' | 'lost'
      try {
        started = await outbox.startRedemption(redemption.key, redemption.amount, owner)
      } catch (error) {
        // The store is down: nothing can be marked in flight, so nothing is sent (an adopter
        // would send it again). Tried again with backoff, then every tick until the store
        // answers; the credits stay recorded meanwhile (and adoptable, should this process die).
        if (attempt >= 4) {
          this.#o.logger.warn(`settlement outbox: ${redemption.amount} credit(s) could not be marked in flight (${error instanceof Error ? error.message : 'failed'}); tried again every ${Math.round(this.#o.outbox.ownerLeaseMs / 3)} ms.`)
          this.#retry.push(redemption)
          return undefined
        }
        await backoff(attempt)
        continue
      }
      if (started === 'started') return inner.burn(redemption)
      // Redis lost its data (restarted empty): the credits were served all the same.
      if (started === 'lost') return this.#burnDirect(inner, redemption)
      if (started === 'gone') {
        this.#o.logger.warn(`settlement outbox: ${redemption.amount} credit(s) were adopted by another process (this one missed its lease) and are left to it.`)
        return undefined
      }
      // An order is being decided for this holder (its lock is held): wait for it.
      await sleep(Math.min(20 * 2 ** attempt, 500))
    }
  }
}

function recordOf(served: ServedCredits): RecordedPayer {
  return { planId: served.planId, holderAddress: served.holderAddress, payer: served.payer, resource: served.resource }
}
