/**
 * Usage pricing against a fixed cost, warm: the same route behind `requirePlan` with `cost: 1`
 * and with `cost: { max: 1 }` plus one `use(1)`, on the memory store and on a real redis-server
 * (@plangate/redis), for Hono called in process (what @hono/node-server passes, no network) and
 * for Express 5 and Hono on @hono/node-server over loopback HTTP (one keep-alive connection, one
 * request at a time, the client in this process).
 *
 *   node --import tsx --conditions=plangate-source bench/sections/usage/usage.ts [--rounds 21] [--ops 2000] [--quick]
 *     [--only in-process,express,hono] [--stores memory,redis]
 *
 * Each pair is measured in alternating rounds (fixed then metered, then metered then fixed, …) so
 * that drift on a shared machine hits both alike; the figure is the median of the per-round
 * ratios, with their range. On Redis it also counts the commands the store sends per request (its
 * round trips) and fails unless a warm request, fixed or metered, makes exactly 2. Prints JSON.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { parseArgs } from 'node:util'
import { serve } from '@hono/node-server'
import { createPlanGate, type BalanceStore, type PlanGate } from '@plangate/core'
import { createRedisStore } from '@plangate/redis'
import { createClient } from 'redis'
import { startRedis } from '../../lib/redis/redis-server'
import { SCRIPT_NAMES } from '../../lib/redis/round-trips'
import { expressApp, honoApp } from '../../lib/servers/apps'
import { closingResponse } from '../../lib/servers/closing-response'
import { createBenchLedger } from '../../lib/setup'

const { values: flags } = parseArgs({ options: { rounds: { type: 'string' }, ops: { type: 'string' }, quick: { type: 'boolean', default: false }, only: { type: 'string' }, stores: { type: 'string' } } })
const ROUNDS = Number(flags.rounds ?? (flags.quick ? 2 : 21))
const OPS = Number(flags.ops ?? (flags.quick ? 200 : 2_000))

const { ledger, agentKey, planId, keys } = await createBenchLedger({ subscribers: 100 })
const redis = await startRedis()
const client = createClient({ url: redis.url })
await client.connect()
/** The outbox owner's lease, renewed on a timer whatever the traffic: not a request's round trip. */
const BACKGROUND = new Set(['CLAIM_OWNER', 'RENEW_OWNER'])
/** Commands sent to Redis for requests (round trips), the background ones left out. */
let sent = 0
/** Commands sent to Redis by name (a script by its name in @plangate/redis), over the whole run. */
const byName: Record<string, number> = {}
const redisStore = (prefix: string) =>
  createRedisStore({
    sendCommand: (...args) => {
      const name = args[0] === 'EVALSHA' ? (SCRIPT_NAMES.get(args[1]!) ?? 'EVALSHA') : args[0]!
      if (!BACKGROUND.has(name)) sent++
      byName[name] = (byName[name] ?? 0) + 1
      return client.sendCommand(args)
    },
    prefix,
  })

/**
 * A gate on `store`, batched with a long window (a commit only gathers: the figure is the gate's
 * own work) and balances cached for an hour (every request of the run is warm: none reads its
 * balance upstream again, which would add Redis commands to some rounds and not others).
 */
async function warmGate(store: BalanceStore | undefined): Promise<PlanGate> {
  const gate = createPlanGate({ apiKey: agentKey, environment: ledger.baseUrl, fetch: ledger.fetch, settle: { batchMs: 3_600_000 }, cache: { ttlMs: 3_600_000 }, ...(store && { store }) })
  for (const key of keys) {
    // Not awaited: a commit's promise ends with its burn, an hour away; its record in the store does not.
    const lease = await gate.reserve(planId, key, 1)
    void lease.commit()
    await lease.stored?.()
  }
  return gate
}

interface Target {
  /** Runs `n` warm requests, one after another, each answered 200 and read whole. */
  run(n: number): Promise<void>
  close(): Promise<void>
}

function inProcess(app: { fetch: (request: Request, env: unknown) => Response | Promise<Response> }): Target {
  const requests = keys.map((key) => new Request('http://127.0.0.1/ask', { headers: { authorization: `Bearer ${key}` } }))
  // What @hono/node-server passes, and its response's 'close' once the answer was written whole.
  const bindings = keys.map((key) => ({ incoming: { rawHeaders: ['Host', '127.0.0.1', 'authorization', `Bearer ${key}`] }, outgoing: closingResponse() }))
  return {
    async run(n) {
      for (let i = 0; i < n; i++) {
        const response = await app.fetch(requests[i % requests.length]!, bindings[i % bindings.length])
        if (response.status !== 200) throw new Error(`bench usage: the Hono app answered ${response.status}`)
        await response.arrayBuffer()
    bindings[i % bindings.length]!.outgoing.closed()
      }
    },
    close: async () => {},
  }
}

async function overHttp(server: http.Server): Promise<Target> {
  if (!server.listening) await new Promise<void>((resolve) => server.once('listening', resolve))
  const port = (server.address() as AddressInfo).port
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  const one = (key: string) =>
    new Promise<void>((resolve, reject) => {
      const request = http.get({ host: '127.0.0.1', port, path: '/ask', agent, headers: { authorization: `Bearer ${key}` } }, (response) => {
        if (response.statusCode !== 200) reject(new Error(`bench usage: the server answered ${response.statusCode}`))
        response.on('data', () => {})
        response.on('end', resolve)
      })
      request.on('error', reject)
    })
  return {
    async run(n) {
      for (let i = 0; i < n; i++) await one(keys[i % keys.length]!)
    },
    close: async () => {
      agent.destroy()
      server.closeAllConnections?.()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}

type Framework = 'Hono, in process' | 'Express 5, loopback HTTP' | 'Hono (node-server), loopback HTTP'

async function target(framework: Framework, gate: PlanGate, metered: boolean): Promise<Target> {
  const guard = { gate, planId, metered }
  if (framework === 'Hono, in process') return inProcess(honoApp(guard))
  if (framework === 'Express 5, loopback HTTP') return overHttp(expressApp(guard).listen(0, '127.0.0.1'))
  return overHttp(serve({ fetch: honoApp(guard).fetch, port: 0, hostname: '127.0.0.1' }) as http.Server)
}

export interface UsageResult {
  framework: Framework
  store: 'memory' | 'redis'
  /** Median CPU µs per request over the rounds. */
  fixedMicros: number
  meteredMicros: number
  /** metered / fixed, per round: median, lowest, highest. */
  ratio: { median: number; min: number; max: number }
  /** Commands sent to Redis per request (round trips), fixed and metered; undefined on memory. */
  roundTrips?: { fixed: number; metered: number }
}

const median = (values: number[]) => {
  const sorted = [...values].sort((x, y) => x - y)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/** Long enough for the last requests' commits, sent just after their answers, to reach the store. */
const pause = () => new Promise((resolve) => setTimeout(resolve, 20))

/**
 * This process's CPU time per request (µs, user + system), not the wall clock: on a machine shared
 * with other work, time spent waiting for a core is not the request's. Over HTTP it covers the
 * client and the server alike (both in this process), the same for both servers of a pair.
 */
async function timed(t: Target): Promise<{ micros: number; commands: number }> {
  const before = sent
  const started = process.cpuUsage()
  await t.run(OPS)
  const used = process.cpuUsage(started)
  // The last requests' commits go to the store just after their answers: counted with theirs.
  await pause()
  return { micros: (used.user + used.system) / OPS, commands: (sent - before) / OPS }
}

async function pair(framework: Framework, store: 'memory' | 'redis'): Promise<UsageResult> {
  const redeemedBefore = ledger.redeemed(planId)
  const gate = await warmGate(store === 'redis' ? redisStore(`usage-bench-${framework.length}-${Date.now()}:`) : undefined)
  const fixed = await target(framework, gate, false)
  const metered = await target(framework, gate, true)
  try {
    await fixed.run(OPS) // warm-up: JIT, and every key's entry in the store
    await metered.run(OPS)
    await pause()
    const f: number[] = []
    const m: number[] = []
    const ratios: number[] = []
    const commands = { fixed: new Set<number>(), metered: new Set<number>() }
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? [fixed, metered] : [metered, fixed]
      const [first, second] = [await timed(order[0]!), await timed(order[1]!)]
      const [a, b] = round % 2 === 0 ? [first, second] : [second, first]
      f.push(a.micros)
      m.push(b.micros)
      ratios.push(b.micros / a.micros)
      commands.fixed.add(a.commands)
      commands.metered.add(b.commands)
    }
    const result: UsageResult = {
      framework,
      store,
      fixedMicros: median(f),
      meteredMicros: median(m),
      ratio: { median: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios) },
    }
    if (store === 'redis') {
      const [rf, rm] = [[...commands.fixed], [...commands.metered]]
      // Exact: a warm request reserves and commits, one script each, fixed or metered.
      if (rf.length !== 1 || rm.length !== 1 || rf[0] !== 2 || rm[0] !== 2) {
        throw new Error(`bench usage: Redis round trips per warm request, fixed ${rf.join('/')}, metered ${rm.join('/')}; 2 expected (sent so far: ${JSON.stringify(byName)})`)
      }
      result.roundTrips = { fixed: rf[0]!, metered: rm[0]! }
    }
    await gate.close()
    // Every request was charged its credit (one, fixed or used): none was left reserved or free.
    const requests = 2 * OPS * (ROUNDS + 1) + keys.length
    if (ledger.redeemed(planId) - redeemedBefore !== requests) throw new Error(`bench usage: ${ledger.redeemed(planId) - redeemedBefore} credits burned for ${requests} requests`)
    return result
  } finally {
    await fixed.close()
    await metered.close()
    await gate.close()
  }
}

const results: UsageResult[] = []
try {
  const frameworks = { 'in-process': 'Hono, in process', express: 'Express 5, loopback HTTP', hono: 'Hono (node-server), loopback HTTP' } as const
  const only = (flags.only ?? 'in-process,express,hono').split(',') as Array<keyof typeof frameworks>
  const stores = (flags.stores ?? 'memory,redis').split(',') as Array<'memory' | 'redis'>
  for (const framework of only.map((name) => frameworks[name])) {
    for (const store of stores) {
      results.push(await pair(framework, store))
      console.error(`bench usage: ${framework}, ${store}: done`)
    }
  }
} finally {
  await client.quit().catch(() => {})
  await redis.stop()
}
console.log(JSON.stringify(results))
