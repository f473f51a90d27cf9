/**
 * Lost releases through a real gate and the local ledger, on any store: requests are served
 * (commit), fail (release), fail with a release that never reaches the store (it rejects, as a
 * Redis blip or a failed Durable Object call would), are dropped with neither (a process killed
 * between reserve and release), or are committed late (after their lease ended). Then time passes
 * the lease, and the books must balance: Σ burned = Σ cost of the served requests, nothing stays
 * reserved or pending, and the holder can spend every credit left without the plan being ordered
 * again (before leases, the lost reservations made the gate buy the plan twice).
 */
import { createPlanGate, StoreUnavailableError, type BalanceStore, type PlanGate } from '@plangate/core'
import { createLocalLedger } from '@plangate/core/local'
import { expect } from 'vitest'
import { subscribe } from '../helpers/world'

export type Ending = 'served' | 'failed' | 'lost' | 'dropped' | 'late'
export const ENDINGS: readonly Ending[] = ['served', 'failed', 'lost', 'dropped', 'late']

export interface LeaseRequest {
  cost: number
  ending: Ending
}

export interface LostReleaseWorld {
  /** The store under test; a fresh one (or a fresh prefix) per run. */
  store: BalanceStore
  /** Lets the store's reservation lease pass (moves its clock, or waits). */
  passLease(): Promise<unknown>
}

/** `store`, with `release` rejecting (and doing nothing) whenever `lose` is set: a release that never arrives. */
function lossy(store: BalanceStore): { store: BalanceStore; lose(): void } {
  let losing = false
  const release = (key: string, reservationId: string) => {
    if (!losing) return store.release(key, reservationId)
    losing = false
    return Promise.reject(new StoreUnavailableError('the release was lost on its way to the store'))
  }
  const wrapped = new Proxy(store, {
    get(target, name) {
      if (name === 'release') return release
      const value: unknown = Reflect.get(target, name, target)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
  return { store: wrapped, lose: () => void (losing = true) }
}

const quiet = { warn: () => {}, error: () => {} }

/** Runs `requests` one after another on a holder with `credits`, then checks the books; what it found. */
export async function runLostReleases(credits: number, requests: LeaseRequest[], world: LostReleaseWorld) {
  const ledger = createLocalLedger()
  const owner = ledger.createAccount({ funds: 0 })
  const alice = ledger.createAccount({ funds: 1_000 })
  const planId = ledger.createPlan({ credits, price: 10, owner: owner.address })
  await subscribe(ledger, planId, alice)
  const warnings: string[] = []
  const { store, lose } = lossy(world.store)
  const common = { apiKey: owner.apiKey, environment: ledger.baseUrl, fetch: ledger.fetch, store, cache: { ttlMs: 3_600_000 } }
  // No order while the reservations may be lost: what is short is refused (402), never bought.
  const gate: PlanGate = createPlanGate({ ...common, autoOrder: false, logger: { warn: (m) => void warnings.push(m), error: () => {} } })
  // A dropped request is one whose process was killed between reserve and release: its gate is
  // never closed (a live gate's close() would wait for the lease to end, as it should).
  const killed: PlanGate = createPlanGate({ ...common, autoOrder: false, logger: quiet })

  let owed = 0
  let lates = 0
  const late: Array<() => Promise<unknown>> = []
  for (const request of requests) {
    const from = request.ending === 'dropped' ? killed : gate
    const lease = await from.reserve(planId, alice.apiKey, request.cost).catch((error: unknown) => {
      expect(error).toMatchObject({ code: 'PAYMENT_REQUIRED' })
      return undefined
    })
    if (lease === undefined) continue
    switch (request.ending) {
      case 'served':
        owed += request.cost
        await lease.commit()
        break
      case 'failed':
        await lease.release()
        break
      case 'lost':
        lose()
        await lease.release()
        break
      case 'dropped':
        break
      case 'late':
        owed += request.cost
        if (request.cost > 0) lates++
        late.push(() => lease.commit())
    }
  }
  await world.passLease()
  for (const commit of late) await commit()
  await gate.close()

  const key = `${planId}:${alice.address}`
  expect(ledger.redeemed(planId), 'Σ burned = Σ cost of the served requests').toBe(owed)
  const left = credits - owed
  expect(ledger.balance(planId, alice.address).remaining).toBe(left)
  expect(await world.store.snapshot(key), 'nothing stays reserved or pending').toMatchObject({ reserved: 0, pending: 0, upstream: left })
  expect(warnings.filter((m) => m.includes('committed after their reservation was given back'))).toHaveLength(lates)

  // Every credit left can be spent, and none more, without the plan being bought again.
  const next = createPlanGate({ ...common, store: world.store, autoOrder: { maxOrders: 1 }, logger: quiet })
  for (let i = 0; i < left; i++) await (await next.reserve(planId, alice.apiKey, 1)).commit()
  await next.close()
  expect(ledger.orders(planId), 'the plan was bought once').toBe(1)
  expect(ledger.balance(planId, alice.address).remaining).toBe(0)
  return { owed, left }
}
