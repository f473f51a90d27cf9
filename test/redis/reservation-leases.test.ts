/**
 * Reservation leases on a real redis-server, through node-redis and ioredis: the lease cases every
 * store answers alike (test/helpers/lease-cases.ts); every script that touches an entry gives its
 * ended leases back first, inside the script; a warm request is still two round trips (RESERVE,
 * then COMMIT_RECORDED); and through a gate, Σ burned = Σ cost of the served requests with lost
 * releases mixed in, and the plan is never bought twice.
 */
import { createHash } from 'node:crypto'
import { createPlanGate } from '@plangate/core'
import { createLocalLedger } from '@plangate/core/local'
import { createRedisStore, type SendCommand } from '@plangate/redis'
// The scripts are not exported: a test names them from the source, as the SHA pins do.
import { SCRIPTS } from '../../packages/redis/src/script-set'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freshPrefix, ioredis, nodeRedis, type Connected } from '../../packages/redis/test/clients'
import { redisServer, type RedisServer } from '../../packages/redis/test/redis-server'
import { ENDINGS, runLostReleases, type LeaseRequest } from '../faults/lost-releases'
import { LEASE_CASES, LEASE_MS } from '../helpers/lease-cases'
import { subscribe } from '../helpers/world'
import { runCalls } from '../runtimes/durable-object/contract'

const K = '7:0x00000000000000000000000000000000000000cc'
const EMPTY = { acked: 0, epoch: 0, upstream: 0, total: undefined, expiresAt: null, reserved: 0, pending: 0 }
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

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

describe.each([0, 1])('reservation leases on Redis (%#: node-redis, ioredis)', (which) => {
  const client = () => clients[which]!

  it.each(LEASE_CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const store = client().store({ prefix: freshPrefix(), reservationLeaseMs: LEASE_MS })
    expect(await runCalls(store, c.calls(K))).toEqual(c.expected)
  })

  it.each<[string, (s: ReturnType<Connected['store']>) => Promise<unknown>]>([
    ['RESERVE', (s) => s.reserve(K, 0, Date.now(), Infinity)],
    ['RELEASE (of another reservation)', (s) => s.release(K, 'other')],
    ['COMMIT (of another reservation)', (s) => s.commit(K, 'other', 0)],
    ['SETTLE', (s) => s.settle(K, 0, { ok: false })],
    ['OBSERVE', (s) => s.observe(K, { remaining: 9, total: 9, expiresAt: null }, EMPTY, Date.now())],
    ['SNAPSHOT', (s) => s.snapshot(K)],
    ['COMMIT_RECORDED (of another reservation)', (s) => s.commitRecorded(K, 'other', 0, 'owner', 'x')],
    ['SETTLE_RECORDED', async (s) => s.settleRecorded(K, 0, { ok: false }, 'owner')],
  ])('%s gives the ended leases back itself, in the script', async (_script, step) => {
    const prefix = freshPrefix()
    const store = client().store({ prefix, reservationLeaseMs: 100 })
    await store.observe(K, { remaining: 9, total: 9, expiresAt: null }, EMPTY, Date.now())
    expect(await store.reserve(K, 4, Date.now(), Infinity)).toMatchObject({ ok: true })
    expect(await store.reserveRecorded(K, 3, Date.now(), Infinity, 'owner')).toMatchObject({ ok: true })
    await sleep(300)
    await step(store)
    // Read raw: the step alone (no snapshot, which sweeps too) dropped them and gave them back.
    const fields = (await client().sendCommand('HGETALL', `${prefix}{${K}}`)) as unknown
    const hash = Array.isArray(fields) ? Object.fromEntries(Array.from({ length: fields.length / 2 }, (_, i) => [String(fields[2 * i]), String(fields[2 * i + 1])])) : (fields as Record<string, string>)
    expect(Object.keys(hash).filter((name) => name.startsWith('l:'))).toEqual([])
    expect(hash.r).toBe('0')
    expect(hash.m).toBeUndefined()
  })

  it('a lease is timed by Redis: held while it runs, gone after, whatever the caller says the time is', async () => {
    const store = client().store({ prefix: freshPrefix(), reservationLeaseMs: 300 })
    const far = Date.now() + 86_400_000
    await store.observe(K, { remaining: 5, total: 5, expiresAt: null }, EMPTY, far)
    expect(await store.reserve(K, 5, far, Infinity)).toMatchObject({ ok: true, remaining: 0 })
    expect((await store.snapshot(K)).reserved).toBe(5)
    await sleep(600)
    expect((await store.snapshot(K)).reserved).toBe(0)
  })

  it('the outbox counts only the leases still running as an owner’s reservations', async () => {
    const store = client().store({ prefix: freshPrefix(), reservationLeaseMs: 300 })
    await store.observe(K, { remaining: 9, total: 9, expiresAt: null }, EMPTY, Date.now())
    await store.reserveRecorded(K, 2, Date.now(), Infinity, 'a')
    await store.writeRecord(K, 'a', 'sealed')
    expect(await store.readRecord(K, 'a')).toMatchObject({ reserved: 2 })
    await sleep(600)
    expect(await store.readRecord(K, 'a')).toMatchObject({ reserved: 0 })
  })
})

describe('a warm request with leases', () => {
  it('is still two round trips: RESERVE, then COMMIT_RECORDED', async () => {
    const names = new Map(Object.entries(SCRIPTS).map(([name, source]) => [createHash('sha1').update(source).digest('hex'), name]))
    const sent: string[] = []
    const send = clients[0]!.sendCommand
    const sendCommand: SendCommand = (...args) => {
      sent.push(args[0] === 'EVALSHA' ? (names.get(args[1]!) ?? 'EVALSHA ?') : args[0]!)
      return send(...args)
    }
    const ledger = createLocalLedger()
    const owner = ledger.createAccount()
    const alice = ledger.createAccount({ funds: 100 })
    const planId = ledger.createPlan({ credits: 10, price: 10, owner: owner.address })
    await subscribe(ledger, planId, alice)
    const store = createRedisStore({ sendCommand, prefix: freshPrefix() })
    const gate = createPlanGate({ apiKey: owner.apiKey, environment: ledger.baseUrl, fetch: ledger.fetch, store, settle: { batchMs: 60_000 }, logger: { warn() {}, error() {} } })
    // Batched for a minute: a commit's promise waits for its settle, which close() sends.
    const settled: Array<Promise<unknown>> = []
    for (let i = 0; i < 2; i++) settled.push((await gate.reserve(planId, alice.apiKey, 1)).commit())
    await sleep(100)
    sent.length = 0
    settled.push((await gate.reserve(planId, alice.apiKey, 1)).commit())
    await sleep(100)
    expect(sent).toEqual(['RESERVE', 'COMMIT_RECORDED'])
    await gate.close()
    await Promise.all(settled)
    expect(ledger.redeemed(planId)).toBe(3)
  })
})

describe('lost releases through a gate on Redis', () => {
  const lease = 1_000
  const world = () => ({
    store: clients[0]!.store({ prefix: freshPrefix(), reservationLeaseMs: lease }),
    passLease: () => sleep(lease + 300),
  })

  it('a hand-picked run: one of each, the lost ones holding most of the credits', async () => {
    await runLostReleases(
      10,
      [
        { cost: 3, ending: 'lost' },
        { cost: 3, ending: 'dropped' },
        { cost: 2, ending: 'served' },
        { cost: 3, ending: 'served' },
        { cost: 1, ending: 'late' },
        { cost: 1, ending: 'failed' },
      ],
      world(),
    )
  })

  it('Σ burned = Σ cost of the served requests; all the rest can be spent without a second order', { timeout: 60_000 }, async () => {
    const request: fc.Arbitrary<LeaseRequest> = fc.record({ cost: fc.integer({ min: 0, max: 3 }), ending: fc.constantFrom(...ENDINGS) })
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 10 }), fc.array(request, { minLength: 1, maxLength: 12 }), async (credits, requests) => {
        await runLostReleases(credits, requests, world())
      }),
      { numRuns: 10 },
    )
  })
})
