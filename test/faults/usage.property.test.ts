/**
 * Usage pricing under concurrency, over randomised runs (fast-check): requests of random maxima
 * report random usage (some above the maximum, some 0, some nothing), answer random statuses, and
 * run at once; Σ burned upstream = Σ over the 2xx answers of min(reported, max) (max when nothing
 * was reported), exactly, on the memory store and on a real redis-server. Hono in process.
 */
import fc from 'fast-check'
import type { BalanceStore } from '@plangate/core'
import { requirePlan, type PlanVariables } from '@plangate/hono'
import { createRedisStore } from '@plangate/redis'
import { Hono } from 'hono'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { nodeRedis, type Connected } from '../../packages/redis/test/clients'
import { redisServer, type RedisServer } from '../../packages/redis/test/redis-server'
import { subscribe, world } from '../helpers/world'

interface MeteredRequest {
  max: number
  /** What the route reports with balance.use(), one call each; undefined or empty: nothing reported. */
  uses: number[] | undefined
  status: 200 | 201 | 400 | 500
}

const request: fc.Arbitrary<MeteredRequest> = fc.record({
  max: fc.integer({ min: 0, max: 6 }),
  uses: fc.option(fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }), { nil: undefined }),
  status: fc.constantFrom(200, 200, 201, 400, 500),
})

/** What one request should burn: nothing unless 2xx; else what it reported, capped at its max. */
function expected(r: MeteredRequest): number {
  if (r.status >= 300) return 0
  if (r.uses === undefined || r.uses.length === 0) return r.max // nothing reported: the maximum
  return Math.min(r.max, r.uses.reduce((a, b) => a + b, 0))
}

let redis: RedisServer
let client: Connected
let runs = 0
beforeAll(async () => {
  redis = await redisServer()
  client = await nodeRedis(redis.url)
}, 60_000)
afterAll(async () => {
  await client?.close()
  await redis?.stop()
}, 60_000)

const stores: Array<[string, () => BalanceStore | undefined]> = [
  ['memory', () => undefined],
  ['redis', () => createRedisStore({ sendCommand: client.sendCommand, prefix: `usage${runs++}:` })],
]

describe.each(stores)('on the %s store', (_name, store) => {
  it('Σ burned = Σ min(reported, max) over the 2xx answers, for any mix of concurrent requests', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(request, { minLength: 1, maxLength: 25 }), fc.constantFrom(0, 40), async (requests, batchMs) => {
        const shared = store()
        const { ledger, alice, planId, gate } = world({ credits: 1_000 }, 25, { ...(shared && { store: shared }), settle: { batchMs } })
        await subscribe(ledger, planId, alice)
        const app = new Hono<{ Variables: PlanVariables }>()
        app.get('/work/:i', requirePlan(planId, { gate, cost: { max: (c) => requests[Number(c.req.param('i'))]!.max } }), (c) => {
          const r = requests[Number(c.req.param('i'))]!
          for (const n of r.uses ?? []) c.get('balance').use(n)
          return c.json({ used: c.get('balance').used }, r.status)
        })
        // Each body read to its end, as a server would: a metered answer is charged as its body ends.
        const answers = await Promise.all(requests.map((_, i) => Promise.resolve(app.request(`/work/${i}`, { headers: { Authorization: `Bearer ${alice.apiKey}` } })).then(async (res) => (await res.text(), res.status))))
        await gate.close()
        expect(answers).toEqual(requests.map((r) => r.status))
        expect(ledger.redeemed(planId)).toBe(requests.reduce((sum, r) => sum + expected(r), 0))
      }),
      { numRuns: 100 },
    )
  }, 120_000)
})
