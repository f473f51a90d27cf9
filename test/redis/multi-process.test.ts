/**
 * Several plangate processes, one truth: 4 real Express server processes (test/redis/agent.ts),
 * each its own gate on one real redis-server, driven over HTTP, against the local ledger served
 * over HTTP by this process. The money guarantees that hold per process with the memory store
 * hold across all of them: no overspend, exactly the fewest orders for a burst, one spend guard.
 * Every scenario ends with a graceful SIGTERM of each process (gate.close() redeems what it
 * served) and is judged by the ledger.
 */
import { fileURLToPath } from 'node:url'
import { createLocalLedger, type LocalAccount, type LocalLedger } from '@plangate/core/local'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { redisServer, type RedisServer } from '../../packages/redis/test/redis-server'
import { serveFetch } from '../helpers/serve'
import { freePort, localLedgerEnv, start, stopAll, type Running } from '../runtimes/process'

const TEST_DIR = fileURLToPath(new URL('../', import.meta.url))
const PROCESSES = 4
const TIMEOUT = 120_000

let redis: RedisServer
let ledger: LocalLedger
let served: { url: string; close(): Promise<void> }
let running: Running[] = []

/** What each scenario's burst got, and the plan and holder it spent. */
interface Outcome {
  planId: string
  holder: LocalAccount
  statuses: number[]
}
const outcomes: Record<'overspend' | 'fewest' | 'guard', Outcome> = {} as never

const R = 150 // credits held, auto-order off
const FEWEST = { credits: 25, n: 100 } // auto-order on, no credits to start with
const GUARD = { credits: 5, maxOrders: 2, n: 200 }

/** `n` concurrent paid requests to `path`, spread round-robin over the agents; their statuses. */
async function burst(path: string, apiKey: string, n: number): Promise<number[]> {
  return Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const response = await fetch(`${running[i % running.length]!.url}${path}`, {
        headers: { Authorization: `Bearer ${apiKey}` },
        signal: AbortSignal.timeout(90_000),
      })
      await response.arrayBuffer()
      return response.status
    }),
  )
}

beforeAll(async () => {
  redis = await redisServer()
  ledger = createLocalLedger()
  // Every settle is answered 200 ms after it burned: the window in which a balance read sees a
  // redemption that the store still counts as pending is wide, so a gate that read then would
  // count it twice and order early (what the cross-process hold prevents).
  served = await serveFetch(async (request) => {
    const response = await ledger.fetch(request)
    if (new URL(request.url).pathname.endsWith('/x402/settle')) await new Promise((resolve) => setTimeout(resolve, 200))
    return response
  })
  const owner = ledger.createAccount()
  const plan = (credits: number) => ledger.createPlan({ credits, price: 1, owner: owner.address })
  const overspend = { planId: plan(R), holder: ledger.createAccount({ funds: 10 }) }
  const fewest = { planId: plan(FEWEST.credits), holder: ledger.createAccount({ funds: 1_000 }) }
  const guard = { planId: plan(GUARD.credits), holder: ledger.createAccount({ funds: 1_000 }) }
  const ordered = await ledger.fetch(`${ledger.baseUrl}/protocol/plans/${overspend.planId}/order`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${overspend.holder.apiKey}` },
  })
  expect(ordered.status).toBe(200)

  const routes = [
    { path: '/overspend', planId: overspend.planId, autoOrder: false },
    { path: '/fewest', planId: fewest.planId, autoOrder: { maxOrders: 1_000 } },
    { path: '/guard', planId: guard.planId, autoOrder: { maxOrders: GUARD.maxOrders } },
  ]
  running = await Promise.all(
    Array.from({ length: PROCESSES }, async (_, i) => {
      const port = await freePort()
      const env = localLedgerEnv({
        PORT: String(port),
        REDIS_URL: redis.url,
        CLIENT: i % 2 === 0 ? 'node-redis' : 'ioredis',
        LEDGER_URL: `${served.url}/api/v1`,
        AGENT_KEY: owner.apiKey,
        PREFIX: 'mp:',
        ROUTES: JSON.stringify(routes),
        // Generous: two CPU cores serve 4 agents, the ledger and 1,320 requests at once. The
        // budgets themselves are tested in redis-faults.test.ts.
        STORE_TIMEOUT_MS: '20000',
        GATE_TIMEOUT_MS: '30000',
      })
      return start(process.execPath, ['--conditions=plangate-source', '--import', 'tsx', 'redis/agent.ts'], { port, cwd: TEST_DIR, env })
    }),
  )

  // The three bursts at once, each on its own plan and holder.
  const [a, b, c] = await Promise.all([
    burst('/overspend', overspend.holder.apiKey, 1_000),
    burst('/fewest', fewest.holder.apiKey, FEWEST.n),
    burst('/guard', guard.holder.apiKey, GUARD.n),
  ])
  outcomes.overspend = { ...overspend, statuses: a }
  outcomes.fewest = { ...fewest, statuses: b }
  outcomes.guard = { ...guard, statuses: c }

  // Graceful: every gate closes, redeeming what it served, before the ledger is read.
  await Promise.all(running.map((agent) => agent.stop()))
}, TIMEOUT)

afterAll(async () => {
  await stopAll()
  await served?.close()
  await redis?.stop()
}, TIMEOUT)

const count = (statuses: number[], status: number) => statuses.filter((s) => s === status).length

describe(`${PROCESSES} processes on one Redis (half on node-redis, half on ioredis)`, () => {
  it('every process closed its gates on SIGTERM', () => {
    for (const agent of running) expect(agent.output()).toContain('closed cleanly')
  })

  it('no overspend: with R credits and auto-order off, exactly R of 1,000 concurrent requests are served', () => {
    const { planId, holder, statuses } = outcomes.overspend
    expect(count(statuses, 200)).toBe(R)
    expect(count(statuses, 402)).toBe(1_000 - R)
    expect(ledger.redeemed(planId)).toBe(R)
    expect(ledger.balance(planId, holder.address).remaining).toBe(0)
    expect(ledger.orders(planId)).toBe(1)
  })

  it('auto-order: a burst across every process is served on exactly the fewest orders', () => {
    const { planId, holder, statuses } = outcomes.fewest
    const fewest = Math.ceil(FEWEST.n / FEWEST.credits)
    const orders = ledger.orders(planId)
    expect(count(statuses, 200)).toBe(FEWEST.n)
    // One process orders at a time (the lock), none on a read that predates an order, and none on
    // a read that races a settle: while the lock is held no settle starts in any process, and
    // those under way land first (the outbox counts them), so the read inside the lock is exact.
    expect(orders).toBe(fewest)
    expect(ledger.redeemed(planId)).toBe(FEWEST.n)
    expect(ledger.balance(planId, holder.address).remaining).toBe(orders * FEWEST.credits - FEWEST.n)
  })

  it('one spend guard across every process: maxOrders orders in all, not per process', () => {
    const { planId, statuses } = outcomes.guard
    expect(ledger.orders(planId)).toBe(GUARD.maxOrders)
    expect(count(statuses, 200)).toBe(GUARD.maxOrders * GUARD.credits)
    expect(count(statuses, 402)).toBe(GUARD.n - GUARD.maxOrders * GUARD.credits)
    expect(ledger.redeemed(planId)).toBe(GUARD.maxOrders * GUARD.credits)
  })
})
