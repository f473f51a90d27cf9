/**
 * A store built straight from the pure steps (entry-steps.ts), any of which a test may replace
 * with a broken one: the contract's mutants. Unbroken, it must keep the whole contract.
 */
import { type BalanceStore } from '../../src/index'
import { available, commitNowhere, commitTo, countOrder, newEntry, observeOn, releaseFrom, reserveFrom, settleOn, snapshotOf, sweepLeases, type BalanceEntry, type OrderLock, type ReserveOutcome } from '../../src/store'
import { holdLease } from '../../src/store/leases'

export interface Steps {
  reserve: typeof reserveFrom
  release: typeof releaseFrom
  commit: typeof commitTo
  commitNowhere: typeof commitNowhere
  settle: typeof settleOn
  observe: typeof observeOn
  snapshot: typeof snapshotOf
  countOrder: typeof countOrder
  sweep: typeof sweepLeases
  /** The key an entry and its orders are kept under. */
  keyOf: (key: string) => string
  lockOrder: () => OrderLock | undefined
}

export interface StepStoreOptions {
  now?: () => number
  reservationLeaseMs?: number
  /** Breaks atomicity: reserve checks what is available, yields, then takes it without looking again. */
  yieldInReserve?: boolean
}

const STEPS: Steps = {
  reserve: reserveFrom,
  release: releaseFrom,
  commit: commitTo,
  commitNowhere,
  settle: settleOn,
  observe: observeOn,
  snapshot: snapshotOf,
  countOrder,
  sweep: sweepLeases,
  keyOf: (key) => key,
  lockOrder: () => ({ release() {} }),
}

export function stepStore(broken: Partial<Steps> = {}, options: StepStoreOptions = {}): BalanceStore {
  const steps = { ...STEPS, ...broken }
  const entries = new Map<string, BalanceEntry>()
  const orders = new Map<string, number[]>()
  const clock = options.now ?? Date.now
  const leaseMs = options.reservationLeaseMs ?? 600_000
  let lastId = 0
  const find = (key: string, at: number) => {
    const entry = entries.get(steps.keyOf(key))
    if (entry !== undefined) steps.sweep(entry, at)
    return entry
  }
  const store: BalanceStore = {
    reserve(key, cost, now, ttlMs) {
      const at = clock()
      const id = cost > 0 ? String(++lastId) : ''
      if (options.yieldInReserve !== true) return steps.reserve(find(key, at), cost, now, ttlMs, id, at + leaseMs)
      return (async (): Promise<ReserveOutcome> => {
        const entry = find(key, at)
        const fresh = entry !== undefined && entry.observedAt !== 0 && now - entry.observedAt <= ttlMs
        if (!fresh) return { ok: false, reason: 'stale', remaining: entry ? available(entry, now) : 0 }
        const left = available(entry, now)
        await Promise.resolve()
        if (left < cost) return { ok: false, reason: 'insufficient', remaining: left }
        if (cost > 0) holdLease(entry, id, cost, at + leaseMs)
        return { ok: true, remaining: left - cost, expiresAt: entry.expiresAt, reservationId: id }
      })()
    },
    release(key, id) {
      const entry = find(key, clock())
      if (entry !== undefined) steps.release(entry, id)
    },
    commit(key, id, cost, served) {
      const at = clock()
      const entry = find(key, at)
      return entry === undefined ? steps.commitNowhere(served ?? cost) : steps.commit(entry, id, cost, served, at)
    },
    settle(key, amount, settlement) {
      const entry = find(key, clock())
      if (entry !== undefined) steps.settle(entry, amount, settlement)
    },
    observe(key, observation, startedAt, now) {
      let entry = find(key, clock())
      if (entry === undefined) entries.set(steps.keyOf(key), (entry = newEntry()))
      steps.observe(entry, observation, startedAt, now)
    },
    snapshot: (key) => steps.snapshot(find(key, clock())),
    recordOrder(key, now, windowMs, max) {
      const { times, allowed } = steps.countOrder(orders.get(steps.keyOf(key)) ?? [], now, windowMs, max)
      orders.set(steps.keyOf(key), times)
      return allowed
    },
    lockOrder: () => steps.lockOrder(),
  }
  return store
}
