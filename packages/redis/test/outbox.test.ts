/**
 * The settlement outbox's steps against a real redis-server, through both clients: what a gate
 * records when it serves, marks when it sends, settles when the API answers, and what another
 * process adopts when a gate's lease lapses. (The whole story, with processes killed for real,
 * is test/redis/crash-settlement.test.ts.)
 */
import { isOutbox } from '@plangate/core/store'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createRedisStore, type RedisBalanceStore, type SendCommand } from '../src/index'
import { freshPrefix, ioredis, nodeRedis, type Connected } from './clients'
import { clusterNode } from './cluster-server'
import { redisServer, type RedisServer } from './redis-server'

const K = '7:0x00000000000000000000000000000000000000bb'
const A = 'owner-a'
const B = 'owner-b'

let server: RedisServer
const clients: Connected[] = []

beforeAll(async () => {
  server = await redisServer()
  clients.push(await nodeRedis(server.url), await ioredis(server.url))
})

afterAll(async () => {
  for (const client of clients) await client.close()
  await server?.stop()
})

/** An entry holding 10 credits, with one reservation of each of `costs`: their ids. */
async function entry(store: RedisBalanceStore, ...costs: number[]): Promise<string[]> {
  const now = Date.now()
  await store.observe(K, { remaining: 10, total: 10, expiresAt: null }, await store.snapshot(K), now)
  const ids: string[] = []
  for (const cost of costs) {
    const outcome = await store.reserve(K, cost, now, 60_000)
    if (!outcome.ok) throw new Error(`expected ${cost} reserved, got ${outcome.reason}`)
    ids.push(outcome.reservationId)
  }
  return ids
}

describe.each([0, 1])('outbox (%#: node-redis, ioredis)', (which) => {
  const store = (options: { ownerLeaseMs?: number } = {}) => clients[which]!.store({ prefix: freshPrefix(), ...options })

  it('is an outbox', () => {
    expect(isOutbox(store())).toBe(true)
  })

  it('commitRecorded commits and records in one step; it asks for a record of who pays until one is written', async () => {
    const s = store()
    const [two, one] = await entry(s, 2, 1)
    expect(await s.commitRecorded(K, two!, 2, A, undefined)).toEqual({ hasRecord: false, late: false, shortfall: 0 })
    await s.writeRecord(K, A, 'sealed-a')
    expect(await s.commitRecorded(K, one!, 1, A, undefined)).toEqual({ hasRecord: true, late: false, shortfall: 0 })
    const snap = await s.snapshot(K)
    expect([snap.reserved, snap.pending]).toEqual([0, 3])
    expect(await s.readRecord(K, A)).toMatchObject({ record: 'sealed-a', recorded: 3, inFlight: 0, baseline: undefined })
    expect(await s.readRecord(K, B)).toBeUndefined()
  })

  it('startRedemption moves recorded credits in flight with the baseline; refuses while the order lock is held; says when they are gone', async () => {
    const s = store()
    const [three] = await entry(s, 3)
    await s.commitRecorded(K, three!, 3, A, 'sealed-a')
    const lock = await s.lockOrder(K, 5_000)
    expect(await s.startRedemption(K, 2, A)).toBe('wait')
    await lock!.release()
    expect(await s.startRedemption(K, 2, A)).toBe('started')
    expect(await s.readRecord(K, A)).toMatchObject({ record: 'sealed-a', recorded: 1, inFlight: 2, baseline: { upstream: 10, acked: 0, total: 10 } })
    expect(await s.startRedemption(K, 2, A)).toBe('gone')
    expect(await s.redemptionsInFlight(K)).toBe(2)
  })

  it('settleRecorded settles the entry and drops the credits in flight; an owner with fewer in flight changes nothing', async () => {
    const s = store()
    const [three] = await entry(s, 3)
    await s.commitRecorded(K, three!, 3, A, 'sealed-a')
    await s.startRedemption(K, 3, A)
    const startedAt = await s.snapshot(K)
    expect(await s.settleRecorded(K, 3, { ok: true, remainingAfter: 7, startedAt }, B)).toBe(false)
    expect((await s.snapshot(K)).pending).toBe(3)
    expect(await s.settleRecorded(K, 3, { ok: true, remainingAfter: 7, startedAt }, A)).toBe(true)
    const after = await s.snapshot(K)
    expect([after.pending, after.acked, after.upstream]).toEqual([0, 3, 7])
    expect(await s.readRecord(K, A)).toMatchObject({ record: 'sealed-a', recorded: 0, inFlight: 0, baseline: undefined })
    expect(await s.redemptionsInFlight(K)).toBe(0)
    expect(await s.settleRecorded(K, 1, { ok: false }, A)).toBe(false)
  })

  it('counts every owner’s credits in flight', async () => {
    const s = store()
    const [two, three] = await entry(s, 2, 3)
    await s.commitRecorded(K, two!, 2, A, 'a')
    await s.commitRecorded(K, three!, 3, B, 'b')
    await s.startRedemption(K, 2, A)
    await s.startRedemption(K, 1, B)
    expect(await s.redemptionsInFlight(K)).toBe(3)
  })

  it('an owner’s lease: not claimable while renewed; claimed once after it lapses, by one claimant', async () => {
    const s = store({ ownerLeaseMs: 1_000 })
    await s.renewOwner(A, Date.now())
    expect(await s.claimLapsedOwner(Date.now())).toBeUndefined()
    await new Promise((resolve) => setTimeout(resolve, 1_100))
    const claims = await Promise.all([s.claimLapsedOwner(Date.now()), s.claimLapsedOwner(Date.now()), s.claimLapsedOwner(Date.now())])
    expect(claims.filter((c) => c !== undefined)).toEqual([A])
    await s.dropOwner(A)
    await new Promise((resolve) => setTimeout(resolve, 1_100))
    expect(await s.claimLapsedOwner(Date.now())).toBeUndefined()
  })

  it('adopt moves a dead owner’s recorded and in-flight credits to the adopter, with its record of who pays', async () => {
    const s = store()
    const [five] = await entry(s, 5)
    await s.indexKey(A, K)
    expect(await s.ownerKeys(A)).toEqual([K])
    await s.commitRecorded(K, five!, 5, A, 'sealed-a')
    await s.startRedemption(K, 2, A)
    expect(await s.adopt(K, A, B)).toBe(5)
    expect(await s.readRecord(K, A)).toBeUndefined()
    expect(await s.readRecord(K, B)).toMatchObject({ record: 'sealed-a', recorded: 5, inFlight: 0, baseline: undefined })
    expect(await s.adopt(K, A, B)).toBe(0)
    // The dead owner's own burn, if it ever comes back, finds its credits gone.
    expect(await s.startRedemption(K, 1, A)).toBe('gone')
    expect(await s.settleRecorded(K, 2, { ok: false }, A)).toBe(false)
    expect((await s.snapshot(K)).pending).toBe(5)
  })

  it('reservations count as their owner’s until committed or released; adopting a dead owner gives its reservations back', async () => {
    const s = store()
    await entry(s)
    const now = Date.now()
    const ofA: string[] = []
    for (let i = 0; i < 4; i++) {
      const outcome = await s.reserveRecorded(K, 1, now, 60_000, A)
      if (outcome.ok) ofA.push(outcome.reservationId)
    }
    expect(ofA).toHaveLength(4)
    expect((await s.reserveRecorded(K, 2, now, 60_000, B)).ok).toBe(true)
    await s.release(K, ofA[0]!)
    await s.commitRecorded(K, ofA[1]!, 1, A, 'sealed-a')
    expect(await s.readRecord(K, A)).toMatchObject({ reserved: 2, recorded: 1 })
    expect(await s.readRecord(K, B)).toMatchObject({ reserved: 2, recorded: 0, record: '' })
    expect((await s.snapshot(K)).reserved).toBe(4)
    // A dies serving two requests: they are given back, what it served moves on.
    expect(await s.adopt(K, A, B)).toBe(1)
    const after = await s.snapshot(K)
    expect([after.reserved, after.pending]).toEqual([2, 1])
    expect(await s.readRecord(K, A)).toBeUndefined()
    // A was alive after all: its releases and late commit give nothing back twice.
    await s.release(K, ofA[2]!)
    expect((await s.snapshot(K)).reserved).toBe(2)
    expect(await s.commitRecorded(K, ofA[3]!, 1, A, undefined)).toMatchObject({ late: true, shortfall: 0 })
    const left = await s.reserve(K, 1, now, 60_000)
    expect(left.ok && left.remaining).toBe(10 - 2 - 1 - 1 - 1)
  })

  it('an idle outbox expires with the entry (entryTtlMs); one holding credits does not', async () => {
    const prefix = freshPrefix()
    const s = clients[which]!.store({ prefix, entryTtlMs: 1_000 })
    const [two] = await entry(s, 2)
    await s.commitRecorded(K, two!, 2, A, 'sealed-a')
    const ttl = () => clients[which]!.sendCommand('PTTL', `${prefix}{${K}}:outbox`)
    expect(await ttl()).toBe(-1)
    await s.startRedemption(K, 2, A)
    await s.settleRecorded(K, 2, { ok: false }, A)
    expect(Number(await ttl())).toBeGreaterThan(0)
  })
})

describe('outbox keys', () => {
  let node: Connected
  let stop: () => Promise<void>

  beforeAll(async () => {
    ;({ node, stop } = await clusterNode())
  })

  afterAll(() => stop?.())

  it('every outbox script keeps to one hash slot (a cluster node runs them all)', async () => {
    const keys: string[][] = []
    const sendCommand: SendCommand = (...args) => {
      if (args[0] === 'EVALSHA' || args[0] === 'EVAL') keys.push(args.slice(3, 3 + Number(args[2])))
      return node.sendCommand(...args)
    }
    const s = createRedisStore({ sendCommand, prefix: 'pg:', ownerLeaseMs: 1_000 })
    const [one] = await entry(s, 1)
    await s.renewOwner(A, Date.now())
    await s.indexKey(A, K)
    await s.commitRecorded(K, one!, 1, A, 'x')
    await s.writeRecord(K, A, 'y')
    await s.startRedemption(K, 1, A)
    await s.redemptionsInFlight(K)
    await s.readRecord(K, A)
    await s.ownerKeys(A)
    await s.adopt(K, A, B)
    const held = await s.reserveRecorded(K, 1, Date.now(), 60_000, B)
    await s.release(K, held.ok ? held.reservationId : '')
    await s.commit(K, 'none', 1)
    await s.snapshot(K)
    await s.startRedemption(K, 1, B)
    await s.settleRecorded(K, 1, { ok: false }, B)
    await s.claimLapsedOwner(Date.now())
    await s.dropOwner(A)
    for (const group of keys) {
      const slots = await Promise.all(group.map((key) => node.sendCommand('CLUSTER', 'KEYSLOT', key)))
      expect(new Set(slots).size, group.join(' ')).toBe(1)
    }
    expect(keys.flat()).toContain(`pg:{${K}}:outbox`)
  })
})
