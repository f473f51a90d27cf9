/**
 * What the crash tests share: one real redis-server, the local ledger served over loopback HTTP
 * (which can withhold settle answers), and Express agents (test/redis/agent.ts) started as real
 * child processes on the Redis store. Judged by the ledger: Σ settled = Σ cost of the 2xx answers.
 */
import { fileURLToPath } from 'node:url'
import { createLocalLedger, type LocalAccount, type LocalLedger } from '@plangate/core/local'
import { expect } from 'vitest'
import { nodeRedis, type Connected } from '../../packages/redis/test/clients'
import { redisServer, type RedisServer } from '../../packages/redis/test/redis-server'
import { serveFetch } from '../helpers/serve'
import { freePort, localLedgerEnv, start, stopAll, type Running } from '../runtimes/process'

const TEST_DIR = fileURLToPath(new URL('../', import.meta.url))
export const CREDITS = 100_000

export interface CrashWorld {
  redis: RedisServer
  client: Connected
  ledger: LocalLedger
  owner: LocalAccount
  /** While set, the ledger applies a settle and withholds its answer until it resolves. */
  withhold: Promise<void> | undefined
  /** Settles the ledger has withheld an answer to so far. */
  settlesWithheld: number
  close(): Promise<void>
  /** A plan, and `n` holders who ordered it once (CREDITS credits each). */
  planWithHolders(n: number): Promise<{ planId: string; holders: LocalAccount[] }>
  /** One agent process on the store under `prefix`, gating `GET /ask` with `planId` (priced by usage up to `max` when given). */
  agent(prefix: string, planId: string, options: { batchMs: number; leaseMs: number; max?: number }): Promise<Running>
  /** Gates registered in the outbox under `prefix` (alive or not yet adopted). */
  owners(prefix: string): Promise<number>
}

export async function crashWorld(): Promise<CrashWorld> {
  const redis = await redisServer()
  const client = await nodeRedis(redis.url)
  const ledger = createLocalLedger()
  const world: CrashWorld = {
    redis,
    client,
    ledger,
    owner: ledger.createAccount(),
    withhold: undefined,
    settlesWithheld: 0,
    async close() {
      await stopAll()
      await api.close()
      await client.close()
      await redis.stop()
    },
    async planWithHolders(n) {
      const planId = ledger.createPlan({ credits: CREDITS, price: 1, owner: world.owner.address })
      const holders = Array.from({ length: n }, () => ledger.createAccount({ funds: 10 }))
      for (const holder of holders) {
        const ordered = await ledger.fetch(`${ledger.baseUrl}/protocol/plans/${planId}/order`, { method: 'POST', headers: { Authorization: `Bearer ${holder.apiKey}` } })
        expect(ordered.status).toBe(200)
      }
      return { planId, holders }
    },
    async agent(prefix, planId, { batchMs, leaseMs, max }) {
      const port = await freePort()
      const env = localLedgerEnv({
        PORT: String(port),
        REDIS_URL: redis.url,
        CLIENT: port % 2 === 0 ? 'node-redis' : 'ioredis',
        LEDGER_URL: `${api.url}/api/v1`,
        AGENT_KEY: world.owner.apiKey,
        PREFIX: prefix,
        ROUTES: JSON.stringify([{ path: '/ask', planId, autoOrder: false, max }]),
        STORE_TIMEOUT_MS: '10000',
        GATE_TIMEOUT_MS: '20000',
        BATCH_MS: String(batchMs),
        OWNER_LEASE_MS: String(leaseMs),
      })
      return start(process.execPath, ['--conditions=plangate-source', '--import', 'tsx', 'redis/agent.ts'], { port, cwd: TEST_DIR, env })
    },
    owners: async (prefix) => Number(await client.sendCommand('ZCARD', `${prefix}outbox:owners`)),
  }
  const api = await serveFetch(async (request) => {
    const response = await ledger.fetch(request)
    if (world.withhold && new URL(request.url).pathname.endsWith('/x402/settle')) {
      world.settlesWithheld++
      await world.withhold
    }
    return response
  })
  return world
}

/** `n` concurrent requests, spread round-robin over agents and holders; the 2xx count per holder. */
export async function burst(agents: Running[], holders: LocalAccount[], n: number): Promise<Map<string, number>> {
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

export async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
export const sum = (counts: Map<string, number>) => [...counts.values()].reduce((a, b) => a + b, 0)

/** Adds `more`'s counts into `into`. */
export function addServed(into: Map<string, number>, more: Map<string, number>): Map<string, number> {
  for (const [holder, n] of more) into.set(holder, (into.get(holder) ?? 0) + n)
  return into
}

/** Every holder's balance fell by exactly what it was served, and the plan burned the total. */
export function expectExact(world: CrashWorld, planId: string, holders: LocalAccount[], served: Map<string, number>): void {
  expect(world.ledger.redeemed(planId)).toBe(sum(served))
  for (const holder of holders) expect(world.ledger.balance(planId, holder.address).remaining).toBe(CREDITS - (served.get(holder.address) ?? 0))
}
