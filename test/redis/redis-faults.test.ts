/**
 * The Redis store's failure rows, over real HTTP through a real Express app, against a real
 * redis-server that the test breaks: down at start, killed mid-run, frozen (SIGSTOP), answering
 * errors (out of memory; a password the client does not have). Each time requests are answered
 * 503 STORE_UNAVAILABLE (with Retry-After) within the time budget, nothing is served without a
 * reservation, and service resumes once Redis does. Every row runs through node-redis and ioredis.
 */
import { createPlanGate, type PlanGate } from '@plangate/core'
import { createLocalLedger, type LocalAccount, type LocalLedger } from '@plangate/core/local'
import { requirePlan } from '@plangate/express'
import express from 'express'
import { afterEach, describe, expect, it } from 'vitest'
import { ioredis, nodeRedis, type Connected } from '../../packages/redis/test/clients'
import { redisServer, type RedisServer } from '../../packages/redis/test/redis-server'
import { listen } from '../helpers/serve'

const CREDITS = 20
const STORE_TIMEOUT_MS = 300
const PASSWORD = 'row-password-7f3a'

interface World {
  server: RedisServer
  client: Connected
  /** A second client, for CONFIG SET and the like. */
  control?: Connected
  ledger: LocalLedger
  alice: LocalAccount
  planId: string
  gate: PlanGate
  url: string
  close(): Promise<void>
}

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!()
})

async function world(clientName: 'node-redis' | 'ioredis', options: { startDown?: boolean; requirepass?: boolean } = {}): Promise<World> {
  const server = await redisServer({ started: !options.startDown, extra: options.requirepass ? ['--requirepass', PASSWORD] : [] })
  cleanups.push(() => server.stop())
  const connect = clientName === 'node-redis' ? nodeRedis : ioredis
  const client = await connect(server.url, { connect: !options.startDown && !options.requirepass })
  cleanups.push(() => client.close())
  const control = options.requirepass ? await nodeRedis(server.url, { password: PASSWORD }) : undefined
  if (control) cleanups.push(() => control.close())

  const ledger = createLocalLedger()
  const owner = ledger.createAccount()
  const alice = ledger.createAccount({ funds: 10 })
  const planId = ledger.createPlan({ credits: CREDITS, price: 10, owner: owner.address })
  const order = await ledger.fetch(`${ledger.baseUrl}/protocol/plans/${planId}/order`, { method: 'POST', headers: { Authorization: `Bearer ${alice.apiKey}` } })
  expect(order.status).toBe(200)

  const store = client.store({ prefix: 'faults:', timeoutMs: STORE_TIMEOUT_MS })
  const gate = createPlanGate({ apiKey: owner.apiKey, environment: ledger.baseUrl, fetch: ledger.fetch, store, autoOrder: false, logger: { warn() {}, error() {} } })
  const app = express()
  app.get('/paid', requirePlan(planId, { gate }), (req, res) => void res.json(req.balance))
  const http = await listen(app)
  cleanups.push(() => http.close())
  return { server, client, control, ledger, alice, planId, gate, url: http.url, close: http.close }
}

/** One paid request. Bounded: a request that hangs fails the test instead of waiting forever. */
async function paid(w: World): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
  const response = await fetch(`${w.url}/paid`, { headers: { Authorization: `Bearer ${w.alice.apiKey}` }, signal: AbortSignal.timeout(15_000) })
  return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, unknown> }
}

async function expectStoreUnavailable(w: World): Promise<void> {
  const answer = await paid(w)
  expect(answer.status).toBe(503)
  expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/)
  expect(answer.headers.get('retry-after')).toBe('1')
  expect(answer.body).toMatchObject({ code: 'STORE_UNAVAILABLE', status: 503, planId: w.planId })
  expect(JSON.stringify(answer.body)).not.toMatch(/127\.0\.0\.1|NOAUTH|OOM|redis/i)
}

/** Until a request is served again (bounded). */
async function resumes(w: World): Promise<void> {
  for (let attempt = 0; attempt < 150; attempt++) {
    const answer = await paid(w)
    if (answer.status === 200) return
    expect(answer.body).toMatchObject({ code: 'STORE_UNAVAILABLE' })
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error('service did not resume')
}

/** After the gate closes: what the ledger redeemed is what was served, and never more than there was. */
async function expectNoOverspend(w: World, served: number): Promise<void> {
  await w.gate.close()
  expect(served).toBeLessThanOrEqual(CREDITS)
  expect(w.ledger.redeemed(w.planId)).toBe(served)
  expect(w.ledger.balance(w.planId, w.alice.address).remaining).toBe(CREDITS - served)
}

interface Row {
  name: string
  options?: { startDown?: boolean; requirepass?: boolean }
  /** Breaks Redis (not called for a row that starts down). */
  breakIt?(w: World): Promise<unknown> | void
  healIt(w: World): Promise<unknown> | void
}

const ROWS: Row[] = [
  { name: 'Redis down at start', options: { startDown: true }, healIt: (w) => w.server.start() },
  {
    name: 'Redis killed mid-run, then started again (empty)',
    breakIt: (w) => w.server.kill(),
    healIt: (w) => w.server.start(),
  },
  { name: 'Redis frozen (SIGSTOP), then thawed', breakIt: (w) => w.server.freeze(), healIt: (w) => w.server.thaw() },
  {
    name: 'Redis answering errors (out of memory: maxmemory 1, noeviction)',
    breakIt: async (w) => {
      await w.client.sendCommand('CONFIG', 'SET', 'maxmemory-policy', 'noeviction')
      await w.client.sendCommand('CONFIG', 'SET', 'maxmemory', '1')
    },
    healIt: (w) => w.client.sendCommand('CONFIG', 'SET', 'maxmemory', '0'),
  },
  {
    name: 'Redis refusing a client without its password (NOAUTH), until the password is lifted',
    options: { requirepass: true },
    healIt: (w) => w.control!.sendCommand('CONFIG', 'SET', 'requirepass', ''),
  },
]

describe.each(['node-redis', 'ioredis'] as const)('through %s', (clientName) => {
  it.each(ROWS)(
    '$name: 503 STORE_UNAVAILABLE, nothing overspent, service resumes',
    async (row) => {
      const w = await world(clientName, row.options)
      let served = 0
      const broken = row.options?.startDown || row.options?.requirepass
      if (!broken) {
        expect((await paid(w)).status).toBe(200)
        served++
        // Its commit and redemption land first: a store failing under a commit is the gate's
        // settlement path, not this row.
        for (let i = 0; i < 100 && w.ledger.redeemed(w.planId) < served; i++) await new Promise((resolve) => setTimeout(resolve, 20))
        expect(w.ledger.redeemed(w.planId)).toBe(served)
        await row.breakIt!(w)
      }
      for (let i = 0; i < 3; i++) await expectStoreUnavailable(w)
      await row.healIt(w)
      await resumes(w)
      served++
      for (let i = 0; i < 2; i++) {
        expect((await paid(w)).status).toBe(200)
        served++
      }
      await expectNoOverspend(w, served)
    },
    60_000,
  )
})
