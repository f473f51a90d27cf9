import { describe, expect, it } from 'vitest'
import { MemoryBalanceStore } from '../src/index'
import { available, type BalanceEntry, type Observation } from '../src/store'

const T0 = 1_700_000_000_000
const TTL = 30_000
const K = '7:0xaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'

const obs = (remaining: number, extra: Partial<Observation> = {}): Observation => ({ remaining, total: undefined, expiresAt: null, ...extra })

/** A store with `remaining` observed for key `K` at T0. */
function observed(remaining: number, extra: Partial<Observation> = {}, key = K, store = new MemoryBalanceStore()) {
  store.observe(key, obs(remaining, extra), store.snapshot(key), T0)
  return store
}

/** Reserves `cost` and returns the reservation's id (the test fails if it is refused). */
function hold(store: MemoryBalanceStore, cost: number, key = K, now = T0): string {
  const outcome = store.reserve(key, cost, now, TTL)
  if (!outcome.ok) throw new Error(`expected ${cost} reserved on ${key}, got ${outcome.reason}`)
  return outcome.reservationId
}

/** Credits the store would hand out now, read through reserve(0) (which reserves nothing). */
function left(store: MemoryBalanceStore, key = K, now = T0): number {
  const outcome = store.reserve(key, 0, now, Infinity)
  if (!outcome.ok) throw new Error(`expected a usable entry for ${key}, got ${outcome.reason}`)
  return outcome.remaining
}

describe('available()', () => {
  const entry = (e: Partial<BalanceEntry>): BalanceEntry => ({
    upstream: 10,
    reserved: 0,
    pending: 0,
    acked: 0,
    epoch: 1,
    total: undefined,
    expiresAt: null,
    observedAt: T0,
    leases: new Map(),
    sweepAt: Infinity,
    ...e,
  })
  it('is upstream − reserved − pending, never below 0, and 0 once expired (expiresAt <= now)', () => {
    expect(available(entry({ reserved: 3, pending: 2 }), T0)).toBe(5)
    expect(available(entry({ reserved: 3, pending: 9 }), T0)).toBe(0)
    expect(available(entry({ expiresAt: T0 + 1 }), T0)).toBe(10)
    expect(available(entry({ expiresAt: T0 }), T0)).toBe(0)
    expect(available(entry({ expiresAt: T0 - 1 }), T0)).toBe(0)
  })
})

describe('MemoryBalanceStore: reserve', () => {
  it('is stale before anything is observed, and reserves nothing', () => {
    const store = new MemoryBalanceStore()
    expect(store.reserve(K, 1, T0, TTL)).toEqual({ ok: false, reason: 'stale', remaining: 0 })
    expect(store.snapshot(K)).toEqual({ acked: 0, epoch: 0, upstream: 0, total: undefined, expiresAt: null, reserved: 0, pending: 0 })
    expect(store.size).toBe(0)
  })

  it('after an observation, each reserve takes its cost off', () => {
    const store = observed(10)
    expect(store.reserve(K, 3, T0, TTL)).toEqual({ ok: true, remaining: 7, expiresAt: null, reservationId: expect.any(String) })
    expect(store.reserve(K, 1, T0 + 5, TTL)).toEqual({ ok: true, remaining: 6, expiresAt: null, reservationId: expect.any(String) })
    expect(store.snapshot(K)).toMatchObject({ upstream: 10, reserved: 4, pending: 0, epoch: 1 })
  })

  it('reserves exactly what is left, then refuses: insufficient changes nothing', () => {
    const store = observed(3)
    expect(store.reserve(K, 3, T0, TTL)).toMatchObject({ ok: true, remaining: 0 })
    const before = store.snapshot(K)
    expect(store.reserve(K, 1, T0, TTL)).toEqual({ ok: false, reason: 'insufficient', remaining: 0 })
    expect(store.snapshot(K)).toEqual(before)
    const other = observed(2)
    expect(other.reserve(K, 3, T0, TTL)).toEqual({ ok: false, reason: 'insufficient', remaining: 2 })
    expect(other.snapshot(K)).toMatchObject({ upstream: 2, reserved: 0 })
  })

  it('cost 0 always fits a fresh entry, even at 0 credits', () => {
    expect(observed(0).reserve(K, 0, T0, TTL)).toEqual({ ok: true, remaining: 0, expiresAt: null, reservationId: '' })
  })

  it('is stale once older than ttlMs (not at exactly ttlMs), and says what it knew', () => {
    const store = observed(10)
    store.reserve(K, 4, T0, TTL)
    expect(store.reserve(K, 1, T0 + TTL, TTL)).toMatchObject({ ok: true, remaining: 5 })
    expect(store.reserve(K, 1, T0 + TTL + 1, TTL)).toEqual({ ok: false, reason: 'stale', remaining: 5 })
    expect(store.snapshot(K).reserved).toBe(5)
  })

  it('an expired balance (expiresAt <= now) has 0 available', () => {
    const expiresAt = T0 + 1_000
    const store = observed(10, { expiresAt })
    expect(store.reserve(K, 1, expiresAt - 1, TTL)).toEqual({ ok: true, remaining: 9, expiresAt, reservationId: expect.any(String) })
    expect(store.reserve(K, 1, expiresAt, TTL)).toEqual({ ok: false, reason: 'insufficient', remaining: 0 })
    expect(store.reserve(K, 0, expiresAt + 5, TTL)).toEqual({ ok: true, remaining: 0, expiresAt, reservationId: '' })
    expect(store.reserve(K, 1, expiresAt + TTL * 2, TTL)).toEqual({ ok: false, reason: 'stale', remaining: 0 })
  })

  it('keys are independent', () => {
    const store = observed(5)
    observed(1, {}, 'other', store)
    store.reserve(K, 4, T0, TTL)
    expect(left(store, 'other')).toBe(1)
    expect(left(store, K)).toBe(1)
  })
})

describe('MemoryBalanceStore: release, commit, settle', () => {
  it('release gives a reservation back, once: a second release of it does nothing', () => {
    const store = observed(10)
    const id = hold(store, 4)
    const other = hold(store, 1)
    store.release(K, id)
    expect(left(store)).toBe(9)
    store.release(K, id)
    expect(store.snapshot(K)).toMatchObject({ reserved: 1, pending: 0, upstream: 10 })
    store.release(K, other)
    expect(left(store)).toBe(10)
  })

  it('commit moves the served part of a reservation to pending (still not available), the rest back', () => {
    const store = observed(10)
    const id = hold(store, 4)
    hold(store, 1)
    expect(store.commit(K, id, 4, 3)).toEqual({ late: false, shortfall: 0 })
    expect(store.snapshot(K)).toMatchObject({ reserved: 1, pending: 3, upstream: 10 })
    expect(left(store)).toBe(6)
  })

  it('release, commit and settle on an unknown key do nothing (and do not create it)', () => {
    const store = new MemoryBalanceStore()
    store.release('nope', '1')
    expect(store.commit('nope', '1', 1)).toEqual({ late: true, shortfall: 0 })
    store.settle('nope', 1, { ok: false })
    expect(store.size).toBe(0)
  })

  it('settle ok, same epoch: upstream becomes remainingAfter', () => {
    const store = observed(10)
    store.commit(K, hold(store, 2), 2)
    const startedAt = store.snapshot(K)
    store.settle(K, 2, { ok: true, remainingAfter: 8, startedAt })
    expect(store.snapshot(K)).toMatchObject({ upstream: 8, pending: 0, reserved: 0, acked: 2, epoch: 1 })
    expect(left(store)).toBe(8)
  })

  it('settle ok, same epoch: remainingAfter less acks that raced it (answers out of order)', () => {
    const store = observed(10)
    store.commit(K, hold(store, 1), 1) // A
    store.commit(K, hold(store, 2), 2) // B
    const a = store.snapshot(K)
    const b = store.snapshot(K)
    // Upstream applies A (10 → 9) then B (9 → 7), but B's answer arrives first.
    // 7 may hold A or not: the count less B (8) lies between 7 and 7 + A, and is kept.
    store.settle(K, 2, { ok: true, remainingAfter: 7, startedAt: b })
    expect(store.snapshot(K)).toMatchObject({ upstream: 8, pending: 1, acked: 2 })
    expect(left(store)).toBe(7) // A is still counted as pending: exactly what the API holds
    // A's answer says 9, but B was acknowledged after A started: at least 9 − 2 = 7.
    store.settle(K, 1, { ok: true, remainingAfter: 9, startedAt: a })
    expect(store.snapshot(K)).toMatchObject({ upstream: 7, pending: 0, acked: 3 })
    expect(left(store)).toBe(7)
  })

  it('settle ok with a changed epoch: an observation came in between, so it subtracts the amount instead', () => {
    const store = observed(10)
    store.commit(K, hold(store, 3), 3)
    const startedAt = store.snapshot(K)
    // A balance read that does not include the redemption lands while it is in flight.
    store.observe(K, obs(10), store.snapshot(K), T0 + 10)
    expect(store.snapshot(K).epoch).toBe(2)
    expect(left(store)).toBe(7) // pending still held
    // Its answer (7, below the 10 read) tells that it burned after the read: upstream 10 − 3.
    store.settle(K, 3, { ok: true, remainingAfter: 7, startedAt })
    expect(store.snapshot(K)).toMatchObject({ upstream: 7, pending: 0, acked: 3, epoch: 2 })
    expect(left(store)).toBe(7)
  })

  it('settle failure counts the credits as spent and marks the entry stale', () => {
    const store = observed(10)
    store.commit(K, hold(store, 3), 3)
    store.settle(K, 3, { ok: false })
    expect(store.snapshot(K)).toMatchObject({ upstream: 7, pending: 0, reserved: 0 })
    expect(store.reserve(K, 1, T0, TTL)).toEqual({ ok: false, reason: 'stale', remaining: 7 })
    // A fresh observation makes it usable again.
    store.observe(K, obs(9), store.snapshot(K), T0 + 1)
    expect(store.reserve(K, 1, T0 + 1, TTL)).toMatchObject({ ok: true, remaining: 8, expiresAt: null })
  })
})

describe('MemoryBalanceStore: observe', () => {
  it('records remaining, total and expiry, bumps the epoch, and keeps reservations and pending', () => {
    const store = observed(10)
    hold(store, 3)
    store.commit(K, hold(store, 1), 1)
    store.observe(K, obs(20, { total: 30, expiresAt: T0 + 99 }), store.snapshot(K), T0 + 1)
    expect(store.snapshot(K)).toEqual({ acked: 0, epoch: 2, upstream: 20, total: 30, expiresAt: T0 + 99, reserved: 3, pending: 1 })
    expect(left(store, K, T0 + 1)).toBe(16)
  })

  it('an observation that raced an acknowledged redemption subtracts it: no resurrection', () => {
    const store = observed(10)
    store.commit(K, hold(store, 2), 2)
    const readStarted = store.snapshot(K) // a balance read starts…
    const redeemStarted = store.snapshot(K)
    store.settle(K, 2, { ok: true, remainingAfter: 8, startedAt: redeemStarted }) // …the redemption lands…
    expect(left(store)).toBe(8)
    store.observe(K, obs(10), readStarted, T0 + 5) // …and the read answers with the old 10.
    expect(store.snapshot(K).upstream).toBe(8)
    expect(left(store, K, T0 + 5)).toBe(8)
    // A read that started after the acknowledgement is taken as it is.
    store.observe(K, obs(8), store.snapshot(K), T0 + 6)
    expect(left(store, K, T0 + 6)).toBe(8)
  })

  it('an observation of a new key creates it', () => {
    const store = new MemoryBalanceStore()
    store.observe('new', obs(4, { total: 4 }), store.snapshot('new'), T0)
    expect(store.snapshot('new')).toEqual({ acked: 0, epoch: 1, upstream: 4, total: 4, expiresAt: null, reserved: 0, pending: 0 })
    expect(store.size).toBe(1)
  })
})

describe('MemoryBalanceStore: recordOrder (spend guard)', () => {
  it('allows max orders per window, per key, sliding', () => {
    const store = new MemoryBalanceStore()
    const W = 1_000
    expect(store.recordOrder(K, 0 + T0, W, 2)).toBe(true)
    expect(store.recordOrder(K, 10 + T0, W, 2)).toBe(true)
    expect(store.recordOrder(K, 20 + T0, W, 2)).toBe(false)
    expect(store.recordOrder(K, 999 + T0, W, 2)).toBe(false)
    expect(store.recordOrder('other', 999 + T0, W, 2)).toBe(true) // another key has its own count
    expect(store.recordOrder(K, 1_000 + T0, W, 2)).toBe(true) // the order at 0 is a full window old
    expect(store.recordOrder(K, 1_005 + T0, W, 2)).toBe(false) // 10 and 1000 are still in
    expect(store.recordOrder(K, 1_010 + T0, W, 2)).toBe(true) // 10 dropped out
  })

  it('a refused attempt does not count as an order', () => {
    const store = new MemoryBalanceStore()
    expect(store.recordOrder(K, T0, 100, 1)).toBe(true)
    for (let t = 1; t < 100; t += 10) expect(store.recordOrder(K, T0 + t, 100, 1)).toBe(false)
    expect(store.recordOrder(K, T0 + 100, 100, 1)).toBe(true)
  })

  it('lockOrder always grants a lock in one process', async () => {
    const lock = await new MemoryBalanceStore().lockOrder()
    expect(lock).toBeDefined()
    expect(() => lock!.release()).not.toThrow()
  })
})

describe('MemoryBalanceStore: LRU eviction (max 2)', () => {
  it('evicts idle entries: the least recently used goes first', () => {
    const store = new MemoryBalanceStore({ max: 2 })
    observed(5, {}, 'a', store)
    observed(5, {}, 'b', store)
    store.reserve('a', 0, T0, TTL) // a is now the most recently used
    observed(5, {}, 'c', store)
    expect(store.size).toBe(2)
    expect(store.reserve('b', 1, T0, TTL)).toMatchObject({ ok: false, reason: 'stale' })
    expect(store.reserve('a', 1, T0, TTL)).toMatchObject({ ok: true, remaining: 4 })
    expect(store.reserve('c', 1, T0, TTL)).toMatchObject({ ok: true, remaining: 4 })
  })

  it('never drops an entry holding reservations: it stays usable, and is let go once released', () => {
    const store = new MemoryBalanceStore({ max: 2 })
    observed(5, {}, 'a', store)
    const first = hold(store, 2, 'a')
    const second = hold(store, 1, 'a')
    observed(9, {}, 'b', store)
    observed(9, {}, 'c', store) // 'a' is the least recently used: evicted from the LRU, but pinned
    expect(store.size).toBe(3)
    expect(store.snapshot('a')).toMatchObject({ upstream: 5, reserved: 3 })
    const third = hold(store, 1, 'a')
    expect(left(store, 'a')).toBe(1)
    // A new observation must not hand out the held credits again.
    store.observe('a', obs(5), store.snapshot('a'), T0 + 1)
    expect(left(store, 'a', T0 + 1)).toBe(1)
    observed(9, {}, 'd', store) // 'b' (idle) is evicted and forgotten
    expect(store.reserve('b', 1, T0, TTL)).toMatchObject({ ok: false, reason: 'stale' })
    store.release('a', first)
    expect(store.snapshot('a')).toMatchObject({ reserved: 2 })
    store.release('a', second)
    store.release('a', third)
    // Nothing outstanding: the evicted entry is dropped now.
    expect(store.reserve('a', 1, T0 + 1, TTL)).toMatchObject({ ok: false, reason: 'stale' })
    expect(store.size).toBe(2)
  })

  it('never drops an entry with pending redemptions: the settle still applies, then it is let go', () => {
    const store = new MemoryBalanceStore({ max: 2 })
    observed(10, {}, 'a', store)
    const rest = hold(store, 1, 'a')
    store.commit('a', hold(store, 4, 'a'), 4) // 4 pending, 1 still reserved
    const startedAt = store.snapshot('a')
    observed(9, {}, 'b', store)
    observed(9, {}, 'c', store)
    expect(store.size).toBe(3)
    // A read while the redemption is in flight (the evicted entry is still there to reconcile with).
    store.observe('a', obs(10), store.snapshot('a'), T0 + 2)
    expect(left(store, 'a', T0 + 2)).toBe(5)
    store.settle('a', 4, { ok: true, remainingAfter: 6, startedAt })
    // The read bumped the epoch, so the settle subtracts: 10 − 4.
    expect(store.snapshot('a')).toMatchObject({ pending: 0, reserved: 1, upstream: 6, acked: 4 })
    expect(left(store, 'a', T0 + 2)).toBe(5)
    expect(store.size).toBe(3)
    store.release('a', rest)
    expect(store.size).toBe(2)
    expect(store.snapshot('a')).toMatchObject({ upstream: 0, epoch: 0 }) // forgotten
  })

  it('an entry pinned by a reservation is released through commit and settle too', () => {
    const store = new MemoryBalanceStore({ max: 2 })
    observed(10, {}, 'a', store)
    const id = hold(store, 2, 'a')
    observed(1, {}, 'b', store)
    observed(1, {}, 'c', store)
    store.commit('a', id, 2)
    expect(store.size).toBe(3) // pending now: still held
    store.settle('a', 2, { ok: false })
    expect(store.size).toBe(2)
  })

  it('many idle keys stay within max', () => {
    const store = new MemoryBalanceStore({ max: 2 })
    for (let i = 0; i < 50; i++) observed(1, {}, `k${i}`, store)
    expect(store.size).toBe(2)
    expect(left(store, 'k49')).toBe(1)
    expect(left(store, 'k48')).toBe(1)
  })
})
