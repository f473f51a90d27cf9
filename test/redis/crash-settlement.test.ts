/**
 * Crash-safe settlement: real Express processes (test/redis/agent.ts) on one real redis-server,
 * killed with SIGKILL while credits they served are gathered for a batch, or while a settle of
 * theirs is in flight. What they served is in Redis (the outbox), so a surviving process, or one
 * started afterwards, settles it, once: judged by the local ledger (served over HTTP by this
 * process), Σ settled = Σ cost of the 2xx answers, exactly, and every holder's balance agrees.
 */
import { fileURLToPath } from 'node:url'
import { createLocalLedger, type LocalAccount, type LocalLedger } from '@plangate/core/local'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { nodeRedis, type Connected } from '../../packages/redis/test/clients'
import { redisServer, type RedisServer } from '../../packages/redis/test/redis-server'
import { serveFetch } from '../helpers/serve'
import { freePort, localLedgerEnv, start, stopAll, type Running } from '../runtimes/process'

const TEST_DIR = fileURLToPath(new URL('../', import.meta.url))
const TIMEOUT = 120_000
const CREDITS = 100_000
const LEASE_MS = 1_500

let redis: RedisServer
let client: Connected
let ledger: LocalLedger
let api: { url: string; close(): Promise<void> }
let owner: LocalAccount
/** While set, the ledger applies a settle and withholds its answer until this resolves. */
let withhold: Promise<void> | undefined
let settlesWithheld = 0

beforeAll(async () => {
  redis = await redisServer()
  client = await nodeRedis(redis.url)
  ledger = createLocalLedger()
  api = await serveFetch(async (request) => {
    const response = await ledger.fetch(request)
    if (withhold && new URL(request.url).pathname.endsWith('/x402/settle')) {
      settlesWithheld++
      await withhold
    }
    return response
  })
  owner = ledger.createAccount()
}, TIMEOUT)

afterAll(async () => {
  await stopAll()
  await api?.close()
  await client?.close()
  await redis?.stop()
}, TIMEOUT)

/** A plan, and `n` holders who ordered it once (CREDITS credits each). */
async function planWithHolders(n: number): Promise<{ planId: string; holders: LocalAccount[] }> {
  const planId = ledger.createPlan({ credits: CREDITS, price: 1, owner: owner.address })
  const holders = Array.from({ length: n }, () => ledger.createAccount({ funds: 10 }))
  for (const holder of holders) {
    const ordered = await ledger.fetch(`${ledger.baseUrl}/protocol/plans/${planId}/order`, { method: 'POST', headers: { Authorization: `Bearer ${holder.apiKey}` } })
    expect(ordered.status).toBe(200)
  }
  return { planId, holders }
}

async function agent(prefix: string, planId: string, batchMs: number): Promise<Running> {
  const port = await freePort()
  const env = localLedgerEnv({
    PORT: String(port),
    REDIS_URL: redis.url,
    CLIENT: port % 2 === 0 ? 'node-redis' : 'ioredis',
    LEDGER_URL: `${api.url}/api/v1`,
    AGENT_KEY: owner.apiKey,
    PREFIX: prefix,
    ROUTES: JSON.stringify([{ path: '/ask', planId, autoOrder: false }]),
    STORE_TIMEOUT_MS: '10000',
    GATE_TIMEOUT_MS: '20000',
    BATCH_MS: String(batchMs),
    OWNER_LEASE_MS: String(LEASE_MS),
  })
  return start(process.execPath, ['--conditions=plangate-source', '--import', 'tsx', 'redis/agent.ts'], { port, cwd: TEST_DIR, env })
}

/** `n` concurrent requests, spread round-robin over agents and holders; the 2xx count per holder. */
async function burst(agents: Running[], holders: LocalAccount[], n: number): Promise<Map<string, number>> {
  const served = new Map<string, number>()
  await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const holder = holders[i % holders.length]!
      const response = await fetch(`${agents[i % agents.length]!.url}/ask`, { headers: { Authorization: `Bearer ${holder.apiKey}` }, signal: AbortSignal.timeout(60_000) })
      await response.arrayBuffer()
      if (response.ok) served.set(holder.address, (served.get(holder.address) ?? 0) + 1)
    }),
  )
  return served
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

const owners = async (prefix: string) => Number(await client.sendCommand('ZCARD', `${prefix}outbox:owners`))
const sum = (counts: Map<string, number>) => [...counts.values()].reduce((a, b) => a + b, 0)

/** Every holder's balance fell by exactly what it was served, and the plan burned the total. */
function expectExact(planId: string, holders: LocalAccount[], served: Map<string, number>): void {
  expect(ledger.redeemed(planId)).toBe(sum(served))
  for (const holder of holders) expect(ledger.balance(planId, holder.address).remaining).toBe(CREDITS - (served.get(holder.address) ?? 0))
}

describe('a process killed with SIGKILL loses nothing it served', () => {
  it('mid-batch: the survivors adopt its records once its lease lapses, and settle them once', async () => {
    const prefix = 'crash1:'
    const { planId, holders } = await planWithHolders(4)
    const agents = await Promise.all([0, 1, 2].map(() => agent(prefix, planId, 60_000)))
    const served = await burst(agents, holders, 300)
    expect(sum(served)).toBe(300)
    // Every commit has reached Redis (each is written as its response finishes), and nothing is
    // settled yet: the batches gather for a minute.
    await until('all three gates are registered', async () => (await owners(prefix)) === 3)
    await new Promise((resolve) => setTimeout(resolve, 500))
    expect(ledger.redeemed(planId)).toBe(0)

    await agents[0]!.kill()
    // A survivor claims the dead gate once its lease lapses, adopts its records and forgets it.
    await until('the killed gate is adopted', async () => agents.slice(1).some((a) => a.output().includes('adopted')))
    expect(await owners(prefix)).toBe(2)
    await Promise.all(agents.slice(1).map((a) => a.stop()))
    for (const a of agents.slice(1)) expect(a.output()).toContain('closed cleanly')
    expectExact(planId, holders, served)
    expect(await owners(prefix)).toBe(0)
  }, TIMEOUT)

  it('the only process: the one started after it settles what it left', async () => {
    const prefix = 'crash2:'
    const { planId, holders } = await planWithHolders(2)
    const first = await agent(prefix, planId, 60_000)
    const served = await burst([first], holders, 50)
    await until('the gate is registered', async () => (await owners(prefix)) === 1)
    await new Promise((resolve) => setTimeout(resolve, 300))
    await first.kill()
    expect(ledger.redeemed(planId)).toBe(0)
    const restarted = await agent(prefix, planId, 60_000)
    await until('the restarted process adopts', async () => restarted.output().includes('adopted 50 credit(s) of 2 holder(s)'))
    expect(await owners(prefix)).toBe(1)
    await restarted.stop()
    expectExact(planId, holders, served)
  }, TIMEOUT)

  it('with a settle in flight: it is judged from the balance (it burned) and not sent again; the rest is settled', async () => {
    const prefix = 'crash3:'
    const { planId, holders } = await planWithHolders(1)
    const first = await agent(prefix, planId, 100)
    let release!: () => void
    withhold = new Promise((resolve) => (release = resolve))
    settlesWithheld = 0
    const before = ledger.counters.settle
    const served = await burst([first], holders, 20)
    // The batch's settle reached the ledger and burned; its answer is withheld, and more is served meanwhile.
    await until('a settle is in flight', async () => settlesWithheld > 0)
    const more = await burst([first], holders, 10)
    await new Promise((resolve) => setTimeout(resolve, 300))
    await first.kill()
    release()
    withhold = undefined
    const burnedBeforeKill = ledger.redeemed(planId)
    expect(burnedBeforeKill).toBeGreaterThan(0)
    expect(burnedBeforeKill).toBeLessThan(30)
    const next = await agent(prefix, planId, 100)
    await until('the rest is settled', async () => ledger.redeemed(planId) >= 30, 20_000)
    await next.stop()
    const all = new Map([[holders[0]!.address, (served.get(holders[0]!.address) ?? 0) + (more.get(holders[0]!.address) ?? 0)]])
    expect(sum(all)).toBe(30)
    expectExact(planId, holders, all)
    expect(ledger.counters.settle - before).toBeGreaterThanOrEqual(2)
    expect(next.output()).not.toContain('does not tell whether it burned')
  }, TIMEOUT)
})
