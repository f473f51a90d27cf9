import { PlanGateError, StoreUnavailableError, type BalanceStore } from '@plangate/core'
import { resolveReservationLeaseMs, type CommitOutcome, type EntrySnapshot, type Observation, type OrderLock, type ReserveOutcome, type Settlement } from '@plangate/core/store'

/**
 * What the store calls on a `PlanGateStore` object: its RPC methods, as a Durable Object stub has
 * them. `DurableObjectStub<PlanGateStore>` (from `wrangler types` or `@cloudflare/workers-types`)
 * is one.
 */
export interface PlanGateStoreStub {
  reserve(key: string, cost: number, now: number, ttlMs: number, id: string, leaseMs?: number): Promise<ReserveOutcome>
  cancelReservation(key: string, id: string): Promise<void>
  release(key: string, id: string): Promise<void>
  commit(key: string, id: string, cost: number, served?: number): Promise<CommitOutcome>
  settle(key: string, amount: number, settlement: Settlement): Promise<void>
  observe(key: string, observation: Observation, startedAt: EntrySnapshot, now: number): Promise<void>
  snapshot(key: string): Promise<EntrySnapshot>
  recordOrder(key: string, now: number, windowMs: number, max: number): Promise<boolean>
  lockOrder(key: string, ttlMs: number): Promise<string | null>
  unlockOrder(key: string, token: string): Promise<void>
}

/** The Durable Object namespace binding of `PlanGateStore`: `env.PLANGATE_STORE`, a `DurableObjectNamespace<PlanGateStore>`. */
export interface PlanGateStoreNamespace {
  idFromName(name: string): object
  get(id: object): PlanGateStoreStub
}

export interface DurableObjectStoreOptions {
  /**
   * Most milliseconds one call to the object may take; past it the request is refused with a 503
   * (fail closed: nothing is handed out that the object has not granted). A reservation that
   * fails is then cancelled in the object, within as long again. Default 5,000.
   */
  timeoutMs?: number
  /**
   * How long a reservation is held without its release or commit (ms, 1 to one week, timed by
   * the object's clock): then its credits go back, so a release that never reached the object
   * (a failed call, an isolate gone mid-request) does not keep them from the holder. Longer than
   * any request lives: a commit after it still burns what was served. Default 600,000 (ten minutes).
   */
  reservationLeaseMs?: number
}

/**
 * A `BalanceStore` that keeps every holder's balance, spend guard and order lock in a Durable
 * Object (`PlanGateStore`, one object per holder and plan): every isolate of your Worker, in every
 * location, sees one truth, so no credit is handed out twice and a burst orders a plan once.
 *
 * A call that fails or times out rejects with `StoreUnavailableError` (the request is answered
 * 503). Create the store per request or once: it holds only the binding, and makes a new stub for
 * every call (a Worker may not use one request's I/O objects in another).
 *
 * @example
 * import { createDurableObjectStore, PlanGateStore } from '@plangate/cloudflare'
 * export { PlanGateStore } // bound as PLANGATE_STORE in wrangler.toml
 *
 * app.use('/ask/*', (c, next) => {
 *   const vars = env<Bindings>(c) // from 'hono/adapter'
 *   charge ??= requirePlan(vars.NVM_PLAN_ID, {
 *     gate: createPlanGate({ apiKey: vars.NVM_API_KEY, store: createDurableObjectStore(vars.PLANGATE_STORE) }),
 *   })
 *   return charge(c, next)
 * })
 */
export function createDurableObjectStore(namespace: PlanGateStoreNamespace, options: DurableObjectStoreOptions = {}): BalanceStore {
  if (typeof namespace?.idFromName !== 'function' || typeof namespace.get !== 'function') {
    throw new TypeError('plangate: invalid option "namespace": expected the Durable Object namespace binding of PlanGateStore (env.PLANGATE_STORE).')
  }
  if (typeof options !== 'object' || options === null) throw new TypeError('plangate: invalid option "options": expected an object.')
  const timeoutMs = options.timeoutMs ?? 5_000
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0) {
    throw new TypeError(`plangate: invalid option "timeoutMs": expected a positive integer of milliseconds, got ${String(timeoutMs)}.`)
  }
  const leaseMs = resolveReservationLeaseMs(options.reservationLeaseMs, 'plangate')

  async function call<T>(key: string, method: string, run: (stub: PlanGateStoreStub) => Promise<T>): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new StoreUnavailableError(`The balance store (Durable Object) did not answer ${method} within ${timeoutMs} ms.`)), timeoutMs)
    })
    try {
      return await Promise.race([run(namespace.get(namespace.idFromName(key))), timedOut])
    } catch (error) {
      if (error instanceof PlanGateError) throw error
      const reason = error instanceof Error ? error.message : 'unknown error'
      throw new StoreUnavailableError(`The balance store (Durable Object) failed during ${method}: ${reason}`, { cause: error })
    } finally {
      if (timer !== undefined) clearTimeout(timer)
    }
  }

  return {
    async reserve(key, cost, now, ttlMs): Promise<ReserveOutcome> {
      const id = crypto.randomUUID()
      try {
        return await call(key, 'reserve', (stub) => stub.reserve(key, cost, now, ttlMs, id, leaseMs))
      } catch (error) {
        // The reservation may have landed with its answer lost, or may land later: the request is
        // refused, so take it back (or stop it landing) before saying so. Best effort, bounded.
        await call(key, 'cancelReservation', (stub) => stub.cancelReservation(key, id)).catch(() => undefined)
        throw error
      }
    },
    release: (key, reservationId) => call(key, 'release', (stub) => stub.release(key, reservationId)),
    commit: (key, reservationId, cost, served) =>
      call(key, 'commit', (stub) => (served === undefined ? stub.commit(key, reservationId, cost) : stub.commit(key, reservationId, cost, served))),
    settle: (key, amount, settlement) => call(key, 'settle', (stub) => stub.settle(key, amount, settlement)),
    observe: (key, observation, startedAt, now) => call(key, 'observe', (stub) => stub.observe(key, observation, startedAt, now)),
    snapshot: (key) => call(key, 'snapshot', (stub) => stub.snapshot(key)),
    recordOrder: (key, now, windowMs, max) => call(key, 'recordOrder', (stub) => stub.recordOrder(key, now, windowMs, max)),
    async lockOrder(key, ttlMs): Promise<OrderLock | undefined> {
      const token = await call(key, 'lockOrder', (stub) => stub.lockOrder(key, ttlMs))
      if (token === null) return undefined
      return { release: () => call(key, 'unlockOrder', (stub) => stub.unlockOrder(key, token)) }
    },
  }
}
