/**
 * Section 4: the warm path in pieces (tinybench). Run by the orchestrator in its own process:
 * `node --import tsx --conditions=plangate-source micro.ts [--quick]`; prints JSON.
 *
 * Each task runs its operation OPS times per sample (a single call is too short to time), so the
 * figures are per operation: mean ns and millions of operations per second.
 */
import { createPlanGate, MemoryBalanceStore } from '@plangate/core'
import { admit, parseApiKey, resolveRequirePlan, bearerToken } from '../../lib/core-adapter'
import { Bench } from 'tinybench'
import { honoApp } from '../../lib/servers/apps'
// Not exported by the package: the gate's key fingerprint, measured on its own.
import * as fingerprint from '../../../packages/core/src/fingerprint'
import { closingResponse } from '../../lib/servers/closing-response'
import { createBenchLedger } from '../../lib/setup'

const OPS = 1_000
const quick = process.argv.includes('--quick')

export interface MicroResult {
  name: string
  nsPerOp: number
  /** Relative margin of error of the mean, in %. */
  rme: number
}

const { ledger, agentKey, planId, keys } = await createBenchLedger({ subscribers: 100 })
// Batched with a long window: commit only gathers, so the figure is the gate's own work.
const gate = createPlanGate({ apiKey: agentKey, environment: ledger.baseUrl, fetch: ledger.fetch, settle: { batchMs: 3_600_000 } })
for (const key of keys) (await gate.reserve(planId, key, 1)).commit() // warm: every key verified and cached

const config = resolveRequirePlan<string>(planId, { gate }, { credential: (authorization) => bearerToken(authorization) })
const authorizations = keys.map((key) => `Bearer ${key}`)
const key = keys[0]!
const store = new MemoryBalanceStore()
store.observe('7:0xabc', { remaining: 1e15, total: undefined, expiresAt: null }, store.snapshot('7:0xabc'), Date.now())

// The Hono app of the throughput benchmark, called in process with what @hono/node-server passes:
// the difference between two is what a middleware adds to a request, with no network noise. The
// no-op and the floor (lib/servers/floor.ts) say how much of requirePlan's any middleware would cost.
const bare = honoApp(undefined)
const noop = honoApp('noop')
const floor = honoApp({ floor: planId })
const guarded = honoApp({ gate, planId })
const metered = honoApp({ gate, planId, metered: true })
const requests = keys.map((key) => new Request('http://127.0.0.1/ask', { headers: { authorization: `Bearer ${key}` } }))
// What @hono/node-server passes, and its response's 'close' once the answer was written whole.
const bindings = keys.map((key) => ({ incoming: { rawHeaders: ['Host', '127.0.0.1', 'authorization', `Bearer ${key}`] }, outgoing: closingResponse() }))
const fetchAll = async (app: typeof bare) => {
  for (let i = 0; i < OPS; i++) {
    const response = await app.fetch(requests[i % requests.length]!, bindings[i % bindings.length])
    if (response.status !== 200) throw new Error(`bench: the Hono app answered ${response.status}`)
    // Read to its end, as the server would: a route priced by usage is charged as its body ends.
    await response.arrayBuffer()
    bindings[i % bindings.length]!.outgoing.closed()
  }
}

const bench = new Bench({ time: quick ? 50 : 1_000, warmupTime: quick ? 10 : 200 })
bench
  .add('gate.reserve + commit (cache hit)', async () => {
    for (let i = 0; i < OPS; i++) (await gate.reserve(planId, keys[i % keys.length], 1)).commit()
  })
  .add('admit + commit (what an adapter calls)', async () => {
    for (let i = 0; i < OPS; i++) {
      const admission = await admit(config, gate, authorizations[i % authorizations.length]!)
      if (admission.allowed) admission.lease.commit()
    }
  })
  .add('Hono app.fetch in process: bare route', () => fetchAll(bare))
  .add('Hono app.fetch in process: behind a no-op async middleware', () => fetchAll(noop))
  .add('Hono app.fetch in process: behind the floor middleware', () => fetchAll(floor))
  .add('Hono app.fetch in process: behind requirePlan (cache hit)', () => fetchAll(guarded))
  .add('Hono app.fetch in process: behind requirePlan, cost { max: 1 } and one use(1)', () => fetchAll(metered))
  .add(`sha256Hex of a ${key.length}-character key`, () => {
    for (let i = 0; i < OPS; i++) fingerprint.sha256Hex(keys[i % keys.length]!)
  })
  .add('parseApiKey', () => {
    for (let i = 0; i < OPS; i++) parseApiKey(keys[i % keys.length]!)
  })
  .add('bearerToken', () => {
    for (let i = 0; i < OPS; i++) bearerToken(authorizations[i % authorizations.length])
  })
  .add('store.reserve + release (MemoryBalanceStore)', () => {
    const now = Date.now()
    for (let i = 0; i < OPS; i++) {
      const held = store.reserve('7:0xabc', 1, now, 30_000)
      if (held.ok) store.release('7:0xabc', held.reservationId)
    }
  })

// Since the gate uses the runtime's native SHA-256 where there is one, the JavaScript one (workerd).
const portable = (fingerprint as { portableSha256Hex?: (text: string) => string }).portableSha256Hex
if (portable) {
  bench.add(`portableSha256Hex (workerd's path) of a ${key.length}-character key`, () => {
    for (let i = 0; i < OPS; i++) portable(keys[i % keys.length]!)
  })
}

await bench.run()
await gate.close()
const results: MicroResult[] = bench.tasks.map((task) => {
  const result = task.result as { state: string; latency?: { mean: number; rme: number } }
  if (result.state !== 'completed' || !result.latency) throw new Error(`bench: micro task "${task.name}" ${result.state}`)
  return { name: task.name, nsPerOp: (result.latency.mean * 1e6) / OPS, rme: result.latency.rme }
})
console.log(JSON.stringify(results))
