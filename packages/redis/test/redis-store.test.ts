/**
 * What only the Redis store has: scripts reloaded after SCRIPT FLUSH, integer replies, one hash
 * slot per holder and plan (checked by a cluster-mode Redis), what may expire and what must not,
 * the cross-process order lock, and bounded calls when Redis freezes.
 */
import { StoreUnavailableError, type BalanceStore } from '@plangate/core'
import { type EntrySnapshot } from '@plangate/core/store'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createRedisStore, type SendCommand } from '../src/index'
import { freshPrefix, ioredis, nodeRedis, type Connected } from './clients'
import { clusterNode } from './cluster-server'
import { redisServer, type RedisServer } from './redis-server'

const K = '7:0x00000000000000000000000000000000000000aa'
const EMPTY: EntrySnapshot = { acked: 0, epoch: 0, upstream: 0, total: undefined, expiresAt: null, reserved: 0, pending: 0 }

/** Every command the store sends, and every reply it gets. */
function recording(send: SendCommand) {
  const log: Array<{ args: string[]; reply?: unknown; error?: unknown }> = []
  const sendCommand: SendCommand = async (...args) => {
    const entry: { args: string[]; reply?: unknown; error?: unknown } = { args }
    log.push(entry)
    try {
      entry.reply = await send(...args)
      return entry.reply
    } catch (error) {
      entry.error = error
      throw error
    }
  }
  return { sendCommand, log }
}

/** One call of every method, the way the gate makes them. */
async function everyMethod(store: BalanceStore, now = Date.now()): Promise<void> {
  const before = await store.snapshot(K)
  await store.observe(K, { remaining: 10, total: 10, expiresAt: now + 60_000 }, before, now)
  const two = await store.reserve(K, 2, now, 30_000)
  const one = await store.reserve(K, 1, now, 30_000)
  await store.release(K, one.ok ? one.reservationId : '')
  await store.commit(K, two.ok ? two.reservationId : '', 2)
  await store.settle(K, 2, { ok: true, remainingAfter: 8, startedAt: await store.snapshot(K) })
  await store.recordOrder(K, now, 60_000, 3)
  const lock = await store.lockOrder(K, 5_000)
  await lock?.release()
}

let server: RedisServer
let redis: Connected
let io: Connected

beforeAll(async () => {
  server = await redisServer()
  redis = await nodeRedis(server.url)
  io = await ioredis(server.url)
})

afterAll(async () => {
  await redis?.close()
  await io?.close()
  await server?.stop()
})

describe('scripts', () => {
  it('are loaded once with SCRIPT LOAD and run with EVALSHA; after SCRIPT FLUSH they are loaded again and state is kept', async () => {
    const { sendCommand, log } = recording(redis.sendCommand)
    const store = createRedisStore({ sendCommand, prefix: freshPrefix() })
    await everyMethod(store)
    await everyMethod(store)
    const loads = () => log.filter((c) => c.args[0] === 'SCRIPT' && c.args[1] === 'LOAD').length
    expect(loads()).toBe(9) // one per script
    expect(log.filter((c) => c.args[0] === 'EVAL')).toEqual([])

    await redis.sendCommand('SCRIPT', 'FLUSH')
    const seen = await store.snapshot(K)
    expect(seen).toMatchObject({ upstream: 8, pending: 0, reserved: 0, acked: 4, epoch: 2 })
    await everyMethod(store)
    expect(loads()).toBe(18)
    expect(log.some((c) => String((c.error as Error | undefined)?.message).startsWith('NOSCRIPT'))).toBe(true)
    expect(await store.snapshot(K)).toMatchObject({ reserved: 0, pending: 0, acked: 6 })
  })

  it('a script loaded where the key is not (a cluster node) is run with EVAL', async () => {
    // As if SCRIPT LOAD had gone to another node: the key's node never has the script.
    const { sendCommand, log } = recording(async (...args) => {
      const reply = await redis.sendCommand(...args)
      if (args[0] === 'SCRIPT' && args[1] === 'LOAD') await redis.sendCommand('SCRIPT', 'FLUSH')
      return reply
    })
    const store = createRedisStore({ sendCommand, prefix: freshPrefix() })
    await store.observe(K, { remaining: 3, total: 3, expiresAt: null }, EMPTY, Date.now())
    expect(await store.reserve(K, 2, Date.now(), 30_000)).toMatchObject({ ok: true, remaining: 1 })
    expect(log.filter((c) => c.args[0] === 'EVAL').length).toBe(2)
  })

  it.each(['node-redis', 'ioredis'])('answer integers (or arrays of integers) only, and RESERVE its reservation id as text, through %s', async (name) => {
    const client = name === 'node-redis' ? redis : io
    const { sendCommand, log } = recording(client.sendCommand)
    const store = createRedisStore({ sendCommand, prefix: freshPrefix() })
    await everyMethod(store)
    expect(await store.reserve(K, 100, Date.now(), 30_000)).toMatchObject({ ok: false, reason: 'insufficient' })
    expect(await store.reserve(K, 1, Date.now(), 0)).toMatchObject({ ok: false, reason: 'stale' })
    expect(await store.recordOrder(K, Date.now(), 60_000, 1)).toBe(false)
    const replies = log.filter((c) => c.args[0] === 'EVALSHA').map((c) => c.reply)
    expect(replies.length).toBeGreaterThan(10)
    for (const reply of replies) {
      const values = Array.isArray(reply) ? [...reply] : [reply]
      // RESERVE's five: four integers and the id ("<Redis time>.<number>", empty when nothing is held).
      if (values.length === 5) expect(String(values.pop())).toMatch(/^(\d+\.\d+)?$/)
      for (const value of values) expect(Number.isSafeInteger(value)).toBe(true)
    }
  })
})

describe('keys', () => {
  let node: Connected
  let stop: () => Promise<void>

  beforeAll(async () => {
    ;({ node, stop } = await clusterNode())
  })

  afterAll(() => stop?.())

  it('of one holder and plan hash to one slot, and every method runs on a cluster node', async () => {
    const { sendCommand, log } = recording(node.sendCommand)
    const store = createRedisStore({ sendCommand, prefix: 'pg:' })
    await everyMethod(store)
    expect(log.filter((c) => c.error !== undefined)).toEqual([])
    const keys = new Set<string>()
    for (const { args } of log) {
      if (args[0] === 'EVALSHA') for (let i = 0; i < Number(args[2]); i++) keys.add(args[3 + i]!)
    }
    expect([...keys].sort()).toEqual([`pg:{${K}}`, `pg:{${K}}:lock`, `pg:{${K}}:orders`])
    const slots = await Promise.all([...keys, K].map((key) => node.sendCommand('CLUSTER', 'KEYSLOT', key)))
    expect(new Set(slots).size).toBe(1)
  })

  it('the cluster node really refuses keys of two slots in one script (what the tags prevent)', async () => {
    await expect(node.sendCommand('EVAL', "return redis.call('EXISTS', KEYS[1], KEYS[2])", '2', 'a', 'b')).rejects.toThrow(/CROSSSLOT/)
  })
})

describe('expiry', () => {
  const pttl = (key: string) => redis.sendCommand('PTTL', key) as Promise<number>

  it('an entry holding reserved or pending credits never expires; an idle one does, after entryTtlMs', async () => {
    const prefix = freshPrefix()
    const store = redis.store({ prefix, entryTtlMs: 60_000 })
    const entry = `${prefix}{${K}}`
    await store.observe(K, { remaining: 5, total: 5, expiresAt: null }, EMPTY, Date.now())
    expect(await pttl(entry)).toBeGreaterThan(0)
    const held = await store.reserve(K, 2, Date.now(), 30_000)
    expect(await pttl(entry)).toBe(-1)
    await store.commit(K, held.ok ? held.reservationId : '', 2)
    expect(await pttl(entry)).toBe(-1)
    await store.observe(K, { remaining: 5, total: 5, expiresAt: null }, await store.snapshot(K), Date.now())
    expect(await pttl(entry)).toBe(-1) // still pending
    await store.settle(K, 2, { ok: false })
    const left = await pttl(entry)
    expect(left).toBeGreaterThan(0)
    expect(left).toBeLessThanOrEqual(60_000)
  })

  it('the spend guard’s window expires a minute after its last order', async () => {
    const prefix = freshPrefix()
    const store = redis.store({ prefix })
    await store.recordOrder(K, Date.now(), 10_000, 3)
    const left = await pttl(`${prefix}{${K}}:orders`)
    expect(left).toBeGreaterThan(10_000)
    expect(left).toBeLessThanOrEqual(70_000)
  })
})

describe('order lock', () => {
  it('is held by one store at a time (two processes: two stores), and released by its holder only', async () => {
    const prefix = freshPrefix()
    const a = redis.store({ prefix })
    const b = io.store({ prefix })
    const first = await a.lockOrder(K, 200)
    expect(first).toBeDefined()
    expect(await b.lockOrder(K, 5_000)).toBeUndefined()
    expect(await a.lockOrder(K, 5_000)).toBeUndefined()
    // It lapses after its time-to-live; whoever takes it next keeps it, even if the first holder releases late.
    let second: Awaited<ReturnType<BalanceStore['lockOrder']>>
    for (let i = 0; i < 200 && second === undefined; i++) {
      second = await b.lockOrder(K, 5_000)
      if (second === undefined) await new Promise((resolve) => setTimeout(resolve, 20))
    }
    expect(second).toBeDefined()
    await first!.release()
    expect(await a.lockOrder(K, 5_000)).toBeUndefined()
    await second!.release()
    const third = await a.lockOrder(K, 5_000)
    expect(third).toBeDefined()
    await third!.release()
  })

  it('is not taken while the last balance observed raced another observation and predates it (fewer credits bought)', async () => {
    const store = redis.store({ prefix: freshPrefix() })
    const now = Date.now()
    await store.observe(K, { remaining: 0, total: 0, expiresAt: null }, EMPTY, now)
    const readStarted = await store.snapshot(K) // a read starts, before another process's order lands
    await store.observe(K, { remaining: 25, total: 25, expiresAt: null }, await store.snapshot(K), now) // the order lands
    const lowered = { remaining: 0, total: 0, expiresAt: null }
    await store.observe(K, lowered, readStarted, now) // the read's answer, applied after it
    expect(await store.lockOrder(K, 5_000)).toBeUndefined()
    // A read that raced nothing clears it (the gate reads again after waiting).
    await store.observe(K, { remaining: 25, total: 25, expiresAt: null }, await store.snapshot(K), now)
    const lock = await store.lockOrder(K, 5_000)
    expect(lock).toBeDefined()
    await lock!.release()
    // Racing reads that bought as much (even with less remaining: a redemption) do not hold orders back.
    const a = await store.snapshot(K)
    const b = await store.snapshot(K)
    await store.observe(K, { remaining: 25, total: 25, expiresAt: null }, a, now)
    await store.observe(K, { remaining: 22, total: 25, expiresAt: null }, b, now)
    const again = await store.lockOrder(K, 5_000)
    expect(again).toBeDefined()
    await again!.release()
  })
})

describe('a frozen Redis (SIGSTOP)', () => {
  it.each(['node-redis', 'ioredis'])(
    'through %s: calls reject with StoreUnavailableError within the budget; a reservation, lock or order count that arrives late takes nothing',
    async (name) => {
      const frozen = await redisServer()
      const client = name === 'node-redis' ? await nodeRedis(frozen.url) : await ioredis(frozen.url)
      try {
        const errors: Error[] = []
        const store = client.store({ prefix: freshPrefix(), timeoutMs: 200, onError: (error) => errors.push(error) })
        await store.observe(K, { remaining: 5, total: 5, expiresAt: null }, EMPTY, Date.now())
        expect(await store.reserve(K, 1, Date.now(), 30_000)).toMatchObject({ ok: true, remaining: 4 })
        frozen.freeze()
        const failure = await store.reserve(K, 1, Date.now(), 30_000).catch((error: unknown) => error)
        expect(failure).toBeInstanceOf(StoreUnavailableError)
        expect(failure).toMatchObject({ code: 'STORE_UNAVAILABLE', status: 503, headers: { 'Retry-After': '1' } })
        expect((failure as Error).message).not.toMatch(/127\.0\.0\.1|redis/i)
        await expect(store.snapshot(K)).rejects.toBeInstanceOf(StoreUnavailableError)
        await expect(store.lockOrder(K, 60_000)).rejects.toBeInstanceOf(StoreUnavailableError)
        await expect(store.recordOrder(K, Date.now(), 60_000, 1)).rejects.toBeInstanceOf(StoreUnavailableError)
        expect(errors.length).toBe(4)
        frozen.thaw()
        // The reservation sent while frozen reaches Redis now, after its deadline: it takes nothing.
        let seen: EntrySnapshot | undefined
        for (let i = 0; i < 100 && seen === undefined; i++) seen = await store.snapshot(K).catch(() => undefined)
        expect(seen).toMatchObject({ reserved: 1, upstream: 5 })
        expect(await store.reserve(K, 4, Date.now(), 30_000)).toMatchObject({ ok: true, remaining: 0 })
        // Nor does the lock, or the order count, sent while frozen: neither would lead to an order.
        const lock = await store.lockOrder(K, 60_000)
        expect(lock).toBeDefined()
        await lock!.release()
        expect(await store.recordOrder(K, Date.now(), 60_000, 1)).toBe(true)
      } finally {
        await client.close()
        await frozen.stop()
      }
    },
    30_000,
  )

  it('failOpen: reservations are granted blind, orders never', async () => {
    const frozen = await redisServer()
    const client = await nodeRedis(frozen.url)
    try {
      const store = client.store({ prefix: freshPrefix(), timeoutMs: 100, failOpen: true })
      frozen.freeze()
      expect(await store.reserve(K, 1, Date.now(), 30_000)).toEqual({ ok: true, remaining: 0, expiresAt: null, reservationId: '' })
      expect(await store.snapshot(K)).toEqual(EMPTY)
      expect(await store.recordOrder(K, Date.now(), 1_000, 3)).toBe(false)
      expect(await store.lockOrder(K, 1_000)).toBeUndefined()
      expect(await store.commit(K, '', 1)).toEqual({ late: false, shortfall: 0 })
    } finally {
      frozen.thaw()
      await client.close()
      await frozen.stop()
    }
  })
})

describe('options', () => {
  const sendCommand: SendCommand = async () => null
  it.each<[string, unknown, RegExp]>([
    ['no options', undefined, /options object/],
    ['no sendCommand', {}, /"sendCommand"/],
    ['sendCommand not a function', { sendCommand: 'redis://x' }, /"sendCommand"/],
    ['an unknown option', { sendCommand, client: {} }, /unknown option "client"/],
    ['a prefix with braces', { sendCommand, prefix: '{app}:' }, /"prefix"/],
    ['a prefix not a string', { sendCommand, prefix: 7 }, /"prefix"/],
    ['timeoutMs 0', { sendCommand, timeoutMs: 0 }, /"timeoutMs"/],
    ['timeoutMs not an integer', { sendCommand, timeoutMs: 1.5 }, /"timeoutMs"/],
    ['entryTtlMs too short', { sendCommand, entryTtlMs: 10 }, /"entryTtlMs"/],
    ['failOpen not a boolean', { sendCommand, failOpen: 'yes' }, /"failOpen"/],
    ['onError not a function', { sendCommand, onError: true }, /"onError"/],
    ['reservationLeaseMs 0', { sendCommand, reservationLeaseMs: 0 }, /"reservationLeaseMs": expected an integer of milliseconds from 1/],
    ['reservationLeaseMs not an integer', { sendCommand, reservationLeaseMs: 2.5 }, /"reservationLeaseMs"/],
    ['reservationLeaseMs longer than a week', { sendCommand, reservationLeaseMs: 8 * 86_400_000 }, /"reservationLeaseMs"/],
    ['reservationLeaseMs a string', { sendCommand, reservationLeaseMs: '600000' }, /"reservationLeaseMs"/],
  ])('%s: a TypeError naming it, at creation', (_name, options, message) => {
    expect(() => createRedisStore(options as never)).toThrow(TypeError)
    expect(() => createRedisStore(options as never)).toThrow(message)
  })
})
