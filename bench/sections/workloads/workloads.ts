/**
 * Section 2: upstream calls for fixed workloads, counted by the local ledger (exact counts, not
 * timings). Each workload goes through the real Hono adapter in process (`app.request`), once per
 * settlement mode, and once through the naive middleware for comparison.
 */
import { pathToFileURL } from 'node:url'
import { createPlanGate, type PlanGate } from '@plangate/core'
import { requirePlan } from '@plangate/hono'
import { Hono, type MiddlewareHandler } from 'hono'
import { naivePlanMiddleware } from './naive'
import { createBenchLedger, type BenchLedger } from '../../lib/setup'

export interface Workload {
  name: string
  requests: number
  holders: number
  /**
   * Requests are sent in waves of this many at once (request i goes to holder i mod holders).
   * With batched settlement, each wave is followed by a pause longer than `batchMs`, so each wave
   * is one batch window and the counts do not depend on the machine's speed.
   */
  wave: number
  /** Credits per order; holders start with none when `empty`, else with plenty. */
  planCredits: number
  empty: boolean
}

export function workloads(quick: boolean): Workload[] {
  const scale = quick ? 10 : 1
  return [
    { name: `${n(10_000 / scale)} requests from one holder`, requests: 10_000 / scale, holders: 1, wave: 100, planCredits: 1_000_000_000, empty: false },
    {
      name: `${n(10_000 / scale)} requests over ${n(1_000 / scale)} holders`,
      requests: 10_000 / scale,
      holders: 1_000 / scale,
      wave: 100,
      planCredits: 1_000_000_000,
      empty: false,
    },
    {
      name: `a burst of ${n(1_000 / scale)} concurrent requests on an empty balance`,
      requests: 1_000 / scale,
      holders: 1,
      wave: 1_000 / scale,
      planCredits: 250 / scale,
      empty: true,
    },
  ]
}

export type Mode = 'naive' | 'immediate' | 'batched'

export interface WorkloadResult {
  workload: Workload
  mode: Mode
  balance: number
  order: number
  /** Burn calls: x402 settles (plangate) or redeems (the naive baseline). */
  redeem: number
  /** The x402 set-up calls: the plan's metadata, and a holder's delegation and token. */
  setup: number
  served: number
  /** Credits the ledger redeemed: must equal `served`. */
  redeemed: number
  /** Credits bought: orders × credits per order. */
  bought: number
  ms: number
}

export async function countWorkload(workload: Workload, mode: Mode, batchMs: number): Promise<WorkloadResult> {
  const setup = await createBenchLedger({ subscribers: workload.empty ? 0 : workload.holders, credits: workload.planCredits })
  const { ledger, planId } = setup
  if (workload.empty) {
    // Holders who never ordered, with money for far more orders than a sane gate places.
    for (let i = 0; i < workload.holders; i++) setup.keys.push(ledger.createAccount({ funds: workload.requests }).apiKey)
  }
  const ordersBefore = ledger.orders(planId)
  let gate: PlanGate | undefined
  let guard: MiddlewareHandler
  if (mode === 'naive') {
    guard = naivePlanMiddleware({ planId, agentKey: setup.agentKey, baseUrl: ledger.baseUrl, fetch: ledger.fetch })
  } else {
    gate = createPlanGate({
      apiKey: setup.agentKey,
      environment: ledger.baseUrl,
      fetch: ledger.fetch,
      settle: { batchMs: mode === 'batched' ? batchMs : 0 },
      // Enough automatic orders for the burst; the guard itself is tested elsewhere.
      autoOrder: { maxOrders: 100 },
      logger: { warn() {}, error() {} },
    })
    guard = requirePlan(planId, { gate })
  }
  const app = new Hono()
  app.use('/ask', guard)
  app.get('/ask', (c) => c.json({ answer: 'ok' }))

  const started = performance.now()
  const served = await drive(app, setup, workload, mode === 'batched' ? batchMs + 20 : 0)
  await gate?.close()
  const ms = performance.now() - started
  const { balance, order, redeem, settle, plan, delegation, permission, verify } = ledger.counters
  return {
    workload,
    mode,
    balance,
    order,
    redeem: redeem + settle,
    setup: plan + delegation + permission + verify,
    served,
    redeemed: ledger.redeemed(planId),
    bought: (ledger.orders(planId) - ordersBefore) * workload.planCredits,
    ms,
  }
}

/** Sends the workload's requests in waves, pausing `pauseMs` after each; returns the 2xx count. */
async function drive(app: Hono, { keys }: BenchLedger, workload: Workload, pauseMs: number): Promise<number> {
  let served = 0
  const send = async (i: number) => {
    const response = await app.request('/ask', { headers: { authorization: `Bearer ${keys[i % keys.length]}` } })
    await response.arrayBuffer()
    if (response.ok) served++
  }
  for (let first = 0; first < workload.requests; first += workload.wave) {
    const wave = Array.from({ length: Math.min(workload.wave, workload.requests - first) }, (_, j) => send(first + j))
    await Promise.all(wave)
    if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs))
  }
  return served
}

const n = (count: number) => count.toLocaleString('en-US')

/** What must hold whatever the timing; a failure means the harness (or plangate) is broken. */
export function checkWorkload(result: WorkloadResult): string[] {
  const { workload, mode } = result
  const problems: string[] = []
  const expect = (what: string, actual: number, expected: number) => {
    if (actual !== expected) problems.push(`${workload.name}, ${mode}: ${what} was ${actual}, expected ${expected}`)
  }
  expect('requests served', result.served, workload.requests)
  expect('credits redeemed', result.redeemed, workload.requests)
  if (mode === 'naive') return problems
  // Immediate: one settle per request, except those merged while one of their holder's was in flight.
  if (mode === 'immediate' && (result.redeem < 1 || result.redeem > workload.requests)) {
    problems.push(`${workload.name}, ${mode}: settle calls were ${result.redeem}, expected 1 to ${workload.requests}`)
  }
  if (mode === 'batched' && !workload.empty) {
    // At most one settle per holder per wave (= batch window).
    const waves = Math.ceil(workload.requests / workload.wave)
    const most = waves * Math.min(workload.wave, workload.holders)
    if (result.redeem < 1 || result.redeem > most) problems.push(`${workload.name}, ${mode}: settle calls were ${result.redeem}, expected 1 to ${most}`)
  }
  if (workload.empty) {
    expect('orders', result.order, Math.ceil(workload.requests / workload.planCredits))
  } else {
    expect('balance reads', result.balance, workload.holders)
    expect('orders', result.order, 0)
  }
  return problems
}

// Run by the orchestrator in its own process: `workloads.ts [--quick] [--batch-ms 50]`; prints JSON.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const quick = process.argv.includes('--quick')
  const batchAt = process.argv.indexOf('--batch-ms')
  const batchMs = batchAt === -1 ? 50 : Number(process.argv[batchAt + 1])
  const results: WorkloadResult[] = []
  for (const workload of workloads(quick)) {
    for (const mode of ['naive', 'immediate', 'batched'] as const) results.push(await countWorkload(workload, mode, batchMs))
  }
  console.log(JSON.stringify(results))
}
