/**
 * The store contract: one table of cases, each run against MemoryBalanceStore (the reference) and
 * the Redis store through node-redis and through ioredis, each against the same expected values.
 */
import { MemoryBalanceStore, type BalanceStore } from '@plangate/core'
import { type EntrySnapshot, type Observation } from '@plangate/core/store'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freshPrefix, ioredis, nodeRedis, type Connected } from './clients'
import { redisServer, type RedisServer } from './redis-server'

const K = '7:0x00000000000000000000000000000000000000aa'
const OTHER = '7:0x00000000000000000000000000000000000000bb'
const EMPTY: EntrySnapshot = { acked: 0, epoch: 0, upstream: 0, total: undefined, expiresAt: null, reserved: 0, pending: 0 }
const obs = (remaining: number, total: number | undefined = remaining, expiresAt: number | null = null): Observation => ({ remaining, total, expiresAt })
const unknownTotal = (remaining: number): Observation => ({ remaining, total: undefined, expiresAt: null })
const T0 = 1_800_000_000_000 // a realistic Date.now(): 13 digits, more than Lua's tostring() keeps exactly

type Case = (s: BalanceStore) => Promise<void>

const ANY_ID = expect.any(String)

/** Reserves `cost` at `now` and returns the reservation's id (fails the test if refused). */
async function hold(s: BalanceStore, cost: number, now = T0): Promise<string> {
  const outcome = await s.reserve(K, cost, now, 30_000)
  if (!outcome.ok) throw new Error(`expected ${cost} reserved, got ${outcome.reason}`)
  return outcome.reservationId
}

const CASES: Record<string, Case> = {
  'an entry never observed: snapshot is empty, reserve is stale with 0, release and commit change nothing': async (s) => {
    expect(await s.snapshot(K)).toEqual(EMPTY)
    expect(await s.reserve(K, 1, T0, 30_000)).toEqual({ ok: false, reason: 'stale', remaining: 0 })
    await s.release(K, 'none')
    expect(await s.commit(K, 'none', 1)).toEqual({ late: true, shortfall: 0 })
    await s.settle(K, 1, { ok: false })
    expect(await s.snapshot(K)).toEqual(EMPTY)
  },
  'observe creates the entry; reserve takes credits while fresh and enough': async (s) => {
    await s.observe(K, obs(10), EMPTY, T0)
    expect(await s.snapshot(K)).toEqual({ ...EMPTY, upstream: 10, total: 10, epoch: 1 })
    expect(await s.reserve(K, 3, T0 + 5, 30_000)).toEqual({ ok: true, remaining: 7, expiresAt: null, reservationId: ANY_ID })
    expect(await s.reserve(K, 8, T0 + 6, 30_000)).toEqual({ ok: false, reason: 'insufficient', remaining: 7 })
    expect(await s.reserve(K, 7, T0 + 7, 30_000)).toMatchObject({ ok: true, remaining: 0, expiresAt: null })
    expect(await s.reserve(K, 0, T0 + 8, 30_000)).toMatchObject({ ok: true, remaining: 0, expiresAt: null })
    expect(await s.snapshot(K)).toEqual({ ...EMPTY, upstream: 10, total: 10, epoch: 1, reserved: 10 })
  },
  'staleness: older than ttlMs is stale (with what is known); Infinity never is; ttl 0 needs the same millisecond': async (s) => {
    await s.observe(K, obs(4), EMPTY, T0)
    expect(await s.reserve(K, 1, T0 + 30_000, 30_000)).toMatchObject({ ok: true, remaining: 3 })
    expect(await s.reserve(K, 1, T0 + 30_001, 30_000)).toEqual({ ok: false, reason: 'stale', remaining: 3 })
    expect(await s.reserve(K, 1, T0 + 10 ** 9, Infinity)).toEqual({ ok: true, remaining: 2, expiresAt: null, reservationId: ANY_ID })
    expect(await s.reserve(K, 1, T0, 0)).toEqual({ ok: true, remaining: 1, expiresAt: null, reservationId: ANY_ID })
    expect(await s.reserve(K, 1, T0 + 1, 0)).toEqual({ ok: false, reason: 'stale', remaining: 1 })
  },
  'expiry: credits count until expiresAt, then none; the lease carries the expiry': async (s) => {
    await s.observe(K, obs(5, 5, T0 + 100), EMPTY, T0)
    expect(await s.reserve(K, 2, T0 + 99, 30_000)).toEqual({ ok: true, remaining: 3, expiresAt: T0 + 100, reservationId: ANY_ID })
    expect(await s.reserve(K, 1, T0 + 100, 30_000)).toEqual({ ok: false, reason: 'insufficient', remaining: 0 })
    expect(await s.reserve(K, 0, T0 + 100, 30_000)).toEqual({ ok: true, remaining: 0, expiresAt: T0 + 100, reservationId: '' })
    expect(await s.snapshot(K)).toEqual({ ...EMPTY, upstream: 5, total: 5, expiresAt: T0 + 100, epoch: 1, reserved: 2 })
    // An order that lands later: no expiry, total unknown.
    await s.observe(K, unknownTotal(9), await s.snapshot(K), T0 + 200)
    expect(await s.snapshot(K)).toEqual({ ...EMPTY, upstream: 9, total: undefined, expiresAt: null, epoch: 2, reserved: 2 })
    expect(await s.reserve(K, 7, T0 + 201, 30_000)).toMatchObject({ ok: true, remaining: 0, expiresAt: null })
  },
  'commit moves reserved to pending; release gives it back; available = upstream − reserved − pending': async (s) => {
    await s.observe(K, obs(10), EMPTY, T0)
    const four = await hold(s, 4)
    const three = await hold(s, 3)
    expect(await s.commit(K, four, 4)).toEqual({ late: false, shortfall: 0 })
    await s.release(K, three)
    await s.release(K, three) // twice: nothing more
    await s.release(K, four) // committed: nothing
    expect(await s.snapshot(K)).toEqual({ ...EMPTY, upstream: 10, total: 10, epoch: 1, reserved: 0, pending: 4 })
    expect(await s.reserve(K, 7, T0, 30_000)).toEqual({ ok: false, reason: 'insufficient', remaining: 6 })
    expect(await s.reserve(K, 6, T0, 30_000)).toMatchObject({ ok: true, remaining: 0, expiresAt: null })
    expect(await s.reserve(K, 1, T0, 30_000)).toEqual({ ok: false, reason: 'insufficient', remaining: 0 })
  },
  'settle, acknowledged with no observation meanwhile: upstream is the answer, less redemptions acked since it started': async (s) => {
    await s.observe(K, obs(10), EMPTY, T0)
    await s.commit(K, await hold(s, 5), 5)
    const first = await s.snapshot(K) // redemption A (3) starts
    const second = await s.snapshot(K) // redemption B (2) starts
    await s.settle(K, 2, { ok: true, remainingAfter: 8, startedAt: second }) // B lands first: 10 − 2
    expect(await s.snapshot(K)).toEqual({ ...EMPTY, upstream: 8, total: 10, epoch: 1, pending: 3, acked: 2 })
    // A's answer (7 = 10 − 3) did not include B: 7 − (2 − 0) = 5.
    await s.settle(K, 3, { ok: true, remainingAfter: 7, startedAt: first })
    expect(await s.snapshot(K)).toEqual({ ...EMPTY, upstream: 5, total: 10, epoch: 1, pending: 0, acked: 5 })
    expect(await s.reserve(K, 5, T0, 30_000)).toMatchObject({ ok: true, remaining: 0, expiresAt: null })
  },
  'settle that raced an observation (epoch moved): the answer is not trusted, the amount is taken off': async (s) => {
    await s.observe(K, obs(10), EMPTY, T0)
    await s.commit(K, await hold(s, 2), 2)
    const started = await s.snapshot(K)
    // A read (after an order of 2 more landed) that may or may not include the redemption.
    await s.observe(K, obs(12), await s.snapshot(K), T0 + 1)
    await s.settle(K, 2, { ok: true, remainingAfter: 8, startedAt: started })
    expect(await s.snapshot(K)).toEqual({ ...EMPTY, upstream: 10, total: 12, epoch: 2, acked: 2 })
  },
  'settle not acknowledged: counted as spent, and the entry must be read again': async (s) => {
    await s.observe(K, obs(10), EMPTY, T0)
    await s.commit(K, await hold(s, 3), 3)
    await s.settle(K, 3, { ok: false })
    expect(await s.snapshot(K)).toEqual({ ...EMPTY, upstream: 7, total: 10, epoch: 1, acked: 3 })
    expect(await s.reserve(K, 1, T0 + 1, Infinity)).toEqual({ ok: false, reason: 'stale', remaining: 7 })
  },
  'observe that raced a redemption acked meanwhile: the answer is lowered by what was acked since it started': async (s) => {
    await s.observe(K, obs(10), EMPTY, T0)
    await s.commit(K, await hold(s, 2), 2)
    const readStarted = await s.snapshot(K)
    const redeemStarted = await s.snapshot(K)
    await s.settle(K, 2, { ok: true, remainingAfter: 8, startedAt: redeemStarted })
    await s.observe(K, obs(10), readStarted, T0 + 5) // read before the redemption landed upstream
    expect(await s.snapshot(K)).toEqual({ ...EMPTY, upstream: 8, total: 10, epoch: 2, acked: 2 })
  },
  // 16 digits: Lua's tostring() would round them. (Not MAX_SAFE_INTEGER itself: node-redis 5
  // decodes integer replies within ~60 of it one off, computing number * 10 + byte before − '0'.)
  'integers of 16 digits come back exactly': async (s) => {
    const big = 9_007_199_254_000_001
    await s.observe(K, obs(big, big, 8_640_000_000_000_000), EMPTY, T0)
    expect(await s.snapshot(K)).toEqual({ ...EMPTY, upstream: big, total: big, expiresAt: 8_640_000_000_000_000, epoch: 1 })
    expect(await s.reserve(K, 1, T0, 30_000)).toEqual({ ok: true, remaining: big - 1, expiresAt: 8_640_000_000_000_000, reservationId: ANY_ID })
  },
  'commit of part of a reservation: the served part pending, the rest back, in one step': async (s) => {
    await s.observe(K, obs(10), EMPTY, T0)
    const id = await hold(s, 5)
    await hold(s, 1)
    expect(await s.commit(K, id, 5, 2)).toEqual({ late: false, shortfall: 0 })
    expect(await s.snapshot(K)).toEqual({ ...EMPTY, upstream: 10, total: 10, epoch: 1, reserved: 1, pending: 2 })
  },
  'a commit of a reservation not held (released, or never granted) is late: served becomes pending, taken from what is available, never below 0': async (s) => {
    await s.observe(K, obs(5), EMPTY, T0)
    const id = await hold(s, 3)
    await s.release(K, id)
    expect(await s.commit(K, id, 3)).toEqual({ late: true, shortfall: 0 })
    expect(await s.snapshot(K)).toEqual({ ...EMPTY, upstream: 5, total: 5, epoch: 1, pending: 3 })
    await hold(s, 1)
    // 1 available, 3 served: 2 short, and nothing left to hand out.
    expect(await s.commit(K, 'never-granted', 3, 3)).toEqual({ late: true, shortfall: 2 })
    expect(await s.reserve(K, 1, T0, 30_000)).toEqual({ ok: false, reason: 'insufficient', remaining: 0 })
    expect(await s.reserve(K, 0, T0, 30_000)).toEqual({ ok: true, remaining: 0, expiresAt: null, reservationId: '' })
    expect(await s.commit(K, 'none', 2, 0)).toEqual({ late: false, shortfall: 0 })
  },
  'keys are independent': async (s) => {
    await s.observe(K, obs(3), EMPTY, T0)
    expect(await s.reserve(OTHER, 1, T0, 30_000)).toEqual({ ok: false, reason: 'stale', remaining: 0 })
    await s.observe(OTHER, obs(1), EMPTY, T0)
    await s.reserve(OTHER, 1, T0, 30_000)
    expect(await s.snapshot(K)).toEqual({ ...EMPTY, upstream: 3, total: 3, epoch: 1 })
    expect(await s.recordOrder(K, T0, 1_000, 1)).toBe(true)
    expect(await s.recordOrder(OTHER, T0, 1_000, 1)).toBe(true)
    expect(await s.recordOrder(K, T0, 1_000, 1)).toBe(false)
  },
  'spend guard: at most max orders within windowMs, a sliding window': async (s) => {
    expect(await s.recordOrder(K, T0, 1_000, 2)).toBe(true)
    expect(await s.recordOrder(K, T0 + 10, 1_000, 2)).toBe(true)
    expect(await s.recordOrder(K, T0 + 20, 1_000, 2)).toBe(false)
    expect(await s.recordOrder(K, T0 + 999, 1_000, 2)).toBe(false)
    expect(await s.recordOrder(K, T0 + 1_000, 1_000, 2)).toBe(true) // the first is 1000 ms old: out
    expect(await s.recordOrder(K, T0 + 1_005, 1_000, 2)).toBe(false)
    expect(await s.recordOrder(K, T0 + 1_010, 1_000, 2)).toBe(true)
    expect(await s.recordOrder(K, T0 + 1_010, 1_000, 3)).toBe(true) // a larger max: room for a third
    expect(await s.recordOrder(K, T0 + 1_011, 1_000, 3)).toBe(false)
  },
  'order lock: one can be taken and released': async (s) => {
    const lock = await s.lockOrder(K, 5_000)
    expect(lock).toBeDefined()
    await lock!.release()
  },
}

let server: RedisServer
const connected: Connected[] = []

beforeAll(async () => {
  server = await redisServer()
  connected.push(await nodeRedis(server.url), await ioredis(server.url))
})

afterAll(async () => {
  await Promise.all(connected.map((c) => c.close()))
  await server?.stop()
})

const STORES: Array<[string, () => BalanceStore]> = [
  ['MemoryBalanceStore', () => new MemoryBalanceStore()],
  ['Redis via node-redis', () => connected[0]!.store({ prefix: freshPrefix() })],
  ['Redis via ioredis', () => connected[1]!.store({ prefix: freshPrefix() })],
]

describe.each(STORES)('%s', (_name, make) => {
  it.each(Object.entries(CASES))('%s', async (_case, run) => {
    await run(make())
  })
})
