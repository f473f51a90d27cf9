/**
 * Reservation leases in MemoryBalanceStore, on a clock the test moves: a reservation whose release
 * never comes is given back once its lease ends, by whichever step touches the entry next; a
 * release after that, or a second one, gives nothing back; a commit after it still burns what
 * was served, never taking available below 0, and says what it lacked.
 */
import { describe, expect, it } from 'vitest'
import { MemoryBalanceStore } from '../src/index'
import { DEFAULT_RESERVATION_LEASE_MS, type Observation } from '../src/store'

const T0 = 1_700_000_000_000
const LEASE = 60_000
const K = '7:0xaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'
const obs = (remaining: number): Observation => ({ remaining, total: remaining, expiresAt: null })

/** A store on a clock of its own (`clock.now`), with `remaining` observed for K. */
function leased(remaining: number, options: { max?: number } = {}) {
  const clock = { now: T0 }
  const store = new MemoryBalanceStore({ reservationLeaseMs: LEASE, now: () => clock.now, ...options })
  store.observe(K, obs(remaining), store.snapshot(K), T0)
  /** Reserves `cost` (ttl: never stale) and returns its id. */
  const hold = (cost: number, key = K) => {
    const outcome = store.reserve(key, cost, T0, Infinity)
    if (!outcome.ok) throw new Error(`expected ${cost} reserved, got ${outcome.reason}`)
    return outcome.reservationId
  }
  const left = (key = K) => {
    const outcome = store.reserve(key, 0, T0, Infinity)
    if (!outcome.ok) throw new Error(`expected a usable entry, got ${outcome.reason}`)
    return outcome.remaining
  }
  return { store, clock, hold, left }
}

describe('MemoryBalanceStore: a reservation whose release never comes', () => {
  it('is held until its lease ends, then given back', () => {
    const { store, clock, hold, left } = leased(10)
    hold(4)
    clock.now = T0 + LEASE - 1
    expect(left()).toBe(6)
    clock.now = T0 + LEASE
    expect(left()).toBe(10)
    expect(store.snapshot(K)).toMatchObject({ reserved: 0, pending: 0, upstream: 10 })
  })

  it('each lease ends on its own: a later reservation stays held', () => {
    const { store, clock, hold, left } = leased(10)
    hold(2)
    clock.now = T0 + 1_000
    const later = hold(3)
    clock.now = T0 + LEASE
    expect(left()).toBe(7)
    clock.now = T0 + 1_000 + LEASE
    expect(left()).toBe(10)
    store.release(K, later) // ended already: nothing more comes back
    expect(store.snapshot(K).reserved).toBe(0)
    expect(left()).toBe(10)
  })

  it('the step that comes after the lease sees the credits back in its own answer (reserve, a late commit, a snapshot)', () => {
    const { store, clock, hold } = leased(10)
    hold(4)
    hold(3)
    clock.now = T0 + LEASE
    expect(store.reserve(K, 10, T0, Infinity)).toMatchObject({ ok: true, remaining: 0 })
    const again = leased(10)
    again.hold(7)
    again.clock.now = T0 + LEASE
    // 10 available again, so 10 served by a commit whose reservation is gone lacks nothing.
    expect(again.store.commit(K, 'gone', 10)).toEqual({ late: true, shortfall: 0 })
    const third = leased(10)
    third.hold(7)
    third.clock.now = T0 + LEASE
    expect(third.store.snapshot(K).reserved).toBe(0)
  })

  it('the default lease is ten minutes', () => {
    const clock = { now: T0 }
    const store = new MemoryBalanceStore({ now: () => clock.now })
    store.observe(K, obs(5), store.snapshot(K), T0)
    store.reserve(K, 5, T0, Infinity)
    clock.now = T0 + DEFAULT_RESERVATION_LEASE_MS - 1
    expect(store.snapshot(K).reserved).toBe(5)
    clock.now = T0 + 600_000
    expect(store.snapshot(K).reserved).toBe(0)
  })

  it('an entry evicted from the LRU while a lost reservation pinned it comes back to use once its lease ends', () => {
    const { store, clock, hold, left } = leased(5, { max: 1 })
    hold(5)
    store.observe('other', obs(1), store.snapshot('other'), T0) // K is evicted, pinned by its reservation
    expect(store.size).toBe(2)
    clock.now = T0 + LEASE
    expect(left()).toBe(5)
    // Back in the LRU, which may let it go again: nothing outstanding now.
    store.observe('third', obs(1), store.snapshot('third'), T0)
    expect(store.size).toBe(1)
  })
})

describe('MemoryBalanceStore: no double give-back', () => {
  it('a release after the lease ended gives nothing back (the credits went back already)', () => {
    const { store, clock, hold, left } = leased(10)
    const lost = hold(6)
    clock.now = T0 + LEASE
    const next = hold(8) // the credits the lease gave back, handed out again
    store.release(K, lost)
    expect(store.snapshot(K).reserved).toBe(8)
    expect(left()).toBe(2)
    store.release(K, next)
    expect(left()).toBe(10)
  })

  it('a release twice gives back once', () => {
    const { store, hold, left } = leased(10)
    const id = hold(3)
    hold(2)
    store.release(K, id)
    store.release(K, id)
    expect(store.snapshot(K).reserved).toBe(2)
    expect(left()).toBe(8)
  })

  it('a release after a commit gives nothing back; a commit after a release is late', () => {
    const { store, hold, left } = leased(10)
    const served = hold(3)
    store.commit(K, served, 3)
    store.release(K, served)
    expect(store.snapshot(K)).toMatchObject({ reserved: 0, pending: 3 })
    const failed = hold(2)
    store.release(K, failed)
    expect(store.commit(K, failed, 2)).toEqual({ late: true, shortfall: 0 })
    expect(left()).toBe(5)
  })
})

describe('MemoryBalanceStore: a commit after the lease ended', () => {
  it('still burns what was served: pending, taken from what is available, no shortfall when there is enough', () => {
    const { store, clock, hold, left } = leased(10)
    const id = hold(4)
    clock.now = T0 + LEASE + 5
    expect(store.commit(K, id, 4, 3)).toEqual({ late: true, shortfall: 0 })
    expect(store.snapshot(K)).toMatchObject({ reserved: 0, pending: 3, upstream: 10 })
    expect(left()).toBe(7)
  })

  it('never takes available below 0: the shortfall is what it lacked', () => {
    const { store, clock, hold, left } = leased(5)
    const late = hold(4)
    clock.now = T0 + LEASE
    const other = hold(4) // the credits given back went to another request
    expect(store.commit(K, late, 4)).toEqual({ late: true, shortfall: 3 })
    expect(left()).toBe(0)
    expect(store.reserve(K, 1, T0, Infinity)).toEqual({ ok: false, reason: 'insufficient', remaining: 0 })
    // The other request ends as usual; the settles bring upstream's word.
    expect(store.commit(K, other, 4, 1)).toEqual({ late: false, shortfall: 0 })
    expect(store.snapshot(K)).toMatchObject({ reserved: 0, pending: 5, upstream: 5 })
    store.settle(K, 1, { ok: true, remainingAfter: 4, startedAt: store.snapshot(K) })
    store.settle(K, 4, { ok: true, remainingAfter: 0, startedAt: store.snapshot(K) })
    expect(store.snapshot(K)).toMatchObject({ reserved: 0, pending: 0, upstream: 0 })
  })

  it('of nothing served is no commit at all', () => {
    const { store, clock, hold } = leased(5)
    const id = hold(2)
    clock.now = T0 + LEASE
    expect(store.commit(K, id, 2, 0)).toEqual({ late: false, shortfall: 0 })
    expect(store.snapshot(K)).toMatchObject({ reserved: 0, pending: 0 })
  })
})

describe('MemoryBalanceStore: reservationLeaseMs', () => {
  it.each([0, -1, 1.5, Number.NaN, Infinity, 7 * 86_400_000 + 1, '600000', null])('%s: a TypeError naming it, at creation', (value) => {
    expect(() => new MemoryBalanceStore({ reservationLeaseMs: value as never })).toThrow(TypeError)
    expect(() => new MemoryBalanceStore({ reservationLeaseMs: value as never })).toThrow(/invalid option "reservationLeaseMs": expected an integer of milliseconds from 1 to 604800000/)
  })

  it('now must be a function', () => {
    expect(() => new MemoryBalanceStore({ now: 5 as never })).toThrow(/invalid option "now"/)
  })

  it('1 ms and one week are allowed', () => {
    expect(() => new MemoryBalanceStore({ reservationLeaseMs: 1 })).not.toThrow()
    expect(() => new MemoryBalanceStore({ reservationLeaseMs: 7 * 86_400_000 })).not.toThrow()
  })
})
