/**
 * `@plangate/cloudflare` on the real workerd: a Hono Worker (test/runtimes/durable-object) whose
 * gate keeps balances in a `PlanGateStore` Durable Object namespace, run as two Worker services —
 * two isolates with a gate each, as Cloudflare runs a Worker in many — against one namespace, one
 * local ledger served by this test over loopback, and real HTTP from here.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MemoryBalanceStore } from '@plangate/core'
import { createLocalLedger } from '@plangate/core/local'
import { storeContract } from '@plangate/core/testing'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { DO_WORKER_DIR } from './durable-object/bundle'
import { startIsolates, type Isolates } from './durable-object/isolates'
import { runCalls, type ContractCall } from './durable-object/contract'
import { remoteStore } from './durable-object/remote-store'
import { LEASE_CASES, LEASE_MS } from '../helpers/lease-cases'
import { binary, freePort, HOOK_TIMEOUT_MS, localLedgerEnv, start, type Running } from './process'

const ledger = createLocalLedger()
const agent = ledger.createAccount()
let isolates: Isolates | undefined
let a: Running
let b: { url: string }

beforeAll(async () => {
  isolates = await startIsolates(ledger, agent.apiKey)
  ;({ a, b } = isolates)
  expect(await (await fetch(`${b.url}/health`)).json()).toEqual({ ok: true, isolate: 'b' })
}, HOOK_TIMEOUT_MS)

afterAll(() => isolates?.stop(), HOOK_TIMEOUT_MS)

/** A subscriber who has bought `orders` orders of a new plan of `credits` credits (price 10). */
async function subscriber(credits: number, options: { funds: number; orders: number }) {
  const planId = ledger.createPlan({ credits, price: 10, owner: agent.address })
  const holder = ledger.createAccount({ funds: options.funds })
  for (let i = 0; i < options.orders; i++) {
    const bought = await ledger.fetch(`${ledger.baseUrl}/protocol/plans/${planId}/order`, { method: 'POST', headers: { Authorization: `Bearer ${holder.apiKey}` } })
    expect(bought.status).toBe(200)
  }
  return { planId, ...holder }
}

/** `n` concurrent requests, alternating between the two isolates; their status codes and who answered. */
async function burst(route: string, apiKey: string, n: number) {
  const answers = await Promise.all(
    Array.from({ length: n }, (_, i) => fetch(`${(i % 2 === 0 ? a : b).url}${route}`, { method: 'POST', headers: { Authorization: `Bearer ${apiKey}` } })),
  )
  return Promise.all(
    answers.map(async (response) => {
      const body = (await response.json()) as { code?: string; detail?: string }
      return { status: response.status, isolate: response.headers.get('x-isolate'), code: body.code, detail: body.detail }
    }),
  )
}

describe('the Durable Object store on workerd, two isolates, one namespace', () => {
  it('never hands a credit out twice: R credits, N concurrent requests on both isolates, exactly R served', async () => {
    const credits = 5
    const holder = await subscriber(credits, { funds: 10, orders: 1 })
    const answers = await burst(`/ask/${holder.planId}`, holder.apiKey, 16)
    const served = answers.filter((x) => x.status === 200)
    expect(served, a.output()).toHaveLength(credits)
    expect(answers.filter((x) => x.status === 402 && x.code === 'PAYMENT_REQUIRED')).toHaveLength(16 - credits)
    // Both isolates took part (each its own gate, its own memory): only the object is shared.
    expect(new Set(answers.map((x) => x.isolate))).toEqual(new Set(['a', 'b']))
    await vi.waitFor(() => expect(ledger.redeemed(holder.planId)).toBe(credits), { timeout: 10_000, interval: 50 })
    expect(ledger.balance(holder.planId, holder.address).remaining).toBe(0)
    expect(ledger.orders(holder.planId)).toBe(1)
  }, HOOK_TIMEOUT_MS)

  it('a burst on both isolates orders the fewest times: ceil(demand / credits per order)', async () => {
    const credits = 3
    const demand = 10
    const holder = await subscriber(credits, { funds: 200, orders: 0 })
    const answers = await burst(`/auto/${holder.planId}`, holder.apiKey, demand)
    expect(answers.map((x) => x.status), a.output()).toEqual(Array(demand).fill(200))
    await vi.waitFor(() => expect(ledger.redeemed(holder.planId)).toBe(demand), { timeout: 10_000, interval: 50 })
    const orders = Math.ceil(demand / credits)
    expect(ledger.orders(holder.planId)).toBe(orders)
    expect(ledger.wallet(holder.address)).toBe(200 - 10 * orders)
    expect(ledger.balance(holder.planId, holder.address).remaining).toBe(orders * credits - demand)
  }, HOOK_TIMEOUT_MS)

  it('slow orders: the order lock in the object keeps the other isolate from ordering too', async () => {
    // Each order answers 400 ms late: both isolates find the balance empty at once, one orders,
    // the other is refused the lock, waits and reads what the first bought.
    ledger.inject('order', { delayMs: 400, times: 10 })
    try {
      const credits = 4
      const holder = await subscriber(credits, { funds: 200, orders: 0 })
      const answers = await burst(`/auto/${holder.planId}`, holder.apiKey, credits)
      expect(answers.map((x) => x.status), a.output()).toEqual(Array(credits).fill(200))
      await vi.waitFor(() => expect(ledger.redeemed(holder.planId)).toBe(credits), { timeout: 10_000, interval: 50 })
      expect(ledger.orders(holder.planId)).toBe(1)
    } finally {
      ledger.clearFaults()
    }
  }, HOOK_TIMEOUT_MS)

  it('a store that is too slow or throws: 503 STORE_UNAVAILABLE, nothing spent', async () => {
    const holder = await subscriber(2, { funds: 10, orders: 1 })
    const detail = { stalled: /did not answer reserve within 500 ms/, failing: /failed during reserve: storage is unavailable/ }
    for (const route of ['stalled', 'failing'] as const) {
      const [answer] = await burst(`/${route}/${holder.planId}`, holder.apiKey, 1)
      expect(answer, a.output()).toMatchObject({ status: 503, code: 'STORE_UNAVAILABLE', detail: expect.stringMatching(detail[route]) })
    }
    expect(ledger.redeemed(holder.planId)).toBe(0)
  }, HOOK_TIMEOUT_MS)
})

/** Runs store calls in the Worker (its TEST ONLY /contract route) and returns the answers. */
async function contract(calls: ContractCall[], worker: { url: string } = a, options: { store?: string; timeoutMs?: number; reservationLeaseMs?: number } = {}): Promise<unknown[]> {
  const response = await fetch(`${worker.url}/contract`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ calls, ...options }) })
  expect(response.status, a.output()).toBe(200)
  return ((await response.json()) as { answers: unknown[] }).answers
}

describe('a reservation whose answer does not arrive is taken back', () => {
  const snapshot = { acked: 0, epoch: 0, upstream: 0, total: undefined, expiresAt: null, reserved: 0, pending: 0 }
  const rejected = { rejected: expect.stringMatching(/did not answer reserve within 300 ms/) }

  it.each([
    ['LATE_STORE', 'landed, its answer late'],
    ['STALLED_STORE', 'landing after the store gave up'],
  ])('%s (%s): refused, and nothing stays reserved', async (store) => {
    const key = `plan-8:0x00000000000000000000000000000000000000e${store.length}`
    const answers = await contract(
      [
        { method: 'observe', key, observation: { remaining: 5, total: 5, expiresAt: null }, startedAt: snapshot, now: 1_000 },
        { method: 'reserve', key, cost: 2, now: 1_001, ttlMs: null },
        // Past the object's 1 s delay, so that the reservation has landed (or been refused).
        { method: 'sleep', ms: 1_500 },
        { method: 'snapshot', key },
      ],
      a,
      { store, timeoutMs: 300 },
    )
    expect(answers.slice(1)).toEqual([rejected, null, { ...snapshot, total: 5, upstream: 5, epoch: 1 }])
  }, HOOK_TIMEOUT_MS)
})

describe('the store contract: the Durable Object store answers as MemoryBalanceStore does', () => {

  it('random call sequences give the same answers', async () => {
    let run = 0
    await fc.assert(
      fc.asyncProperty(fc.array(callArbitrary(), { minLength: 1, maxLength: 30 }), async (template) => {
        // Fresh objects for every run: the namespace outlives it.
        run += 1
        const calls = template.map((call) => ('key' in call ? { ...call, key: `${call.key}-${run}` } : call))
        const keys = [...new Set(calls.flatMap((call) => ('key' in call ? [call.key] : [])))]
        calls.push(...keys.map((key): ContractCall => ({ method: 'snapshot', key })))
        const expected = await runCalls(new MemoryBalanceStore(), calls)
        expect(await contract(calls, run % 2 === 0 ? a : b)).toEqual(expected)
      }),
      { numRuns: 40 },
    )
  }, HOOK_TIMEOUT_MS)

  it('a hand-written sequence through every branch', async () => {
    const key = 'plan-7:0x00000000000000000000000000000000000000aa'
    const snapshot = { acked: 0, epoch: 0, upstream: 0, total: undefined, expiresAt: null, reserved: 0, pending: 0 }
    const calls: ContractCall[] = [
      { method: 'reserve', key, cost: 1, now: 1_000, ttlMs: 60_000 },
      { method: 'observe', key, observation: { remaining: 5, total: 10, expiresAt: null }, startedAt: snapshot, now: 1_000 },
      { method: 'reserve', key, cost: 2, now: 1_001, ttlMs: 60_000 },
      { method: 'reserve', key, cost: 4, now: 1_002, ttlMs: 60_000 },
      { method: 'reserve', key, cost: 1, now: 90_000, ttlMs: 60_000 },
      { method: 'reserve', key, cost: 1, now: 90_000, ttlMs: null },
      { method: 'commit', key, pick: 0, cost: 2 },
      { method: 'release', key, pick: 1 },
      { method: 'settle', key, amount: 2, settlement: { ok: true, remainingAfter: 3, startedAt: { ...snapshot, epoch: 1 } } },
      { method: 'snapshot', key },
      { method: 'settle', key, amount: 0, settlement: { ok: false } },
      { method: 'reserve', key, cost: 1, now: 90_001, ttlMs: null },
      { method: 'recordOrder', key, now: 0, windowMs: 1_000, max: 1 },
      { method: 'recordOrder', key, now: 500, windowMs: 1_000, max: 1 },
      { method: 'recordOrder', key, now: 1_000, windowMs: 1_000, max: 1 },
      { method: 'snapshot', key },
    ]
    const answers = await contract(calls)
    expect(answers).toEqual(await runCalls(new MemoryBalanceStore(), calls))
    // Not only equal: right. Stale before any observation, then 5 → 3 left, too few for 4, stale
    // after the ttl, granted without one; a redemption acknowledged with 3 left.
    expect(answers.slice(0, 6)).toEqual([
      { ok: false, reason: 'stale', remaining: 0 },
      null,
      { ok: true, remaining: 3, expiresAt: null, reservationId: true },
      { ok: false, reason: 'insufficient', remaining: 3 },
      { ok: false, reason: 'stale', remaining: 3 },
      { ok: true, remaining: 2, expiresAt: null, reservationId: true },
    ])
    expect(answers[9]).toEqual({ acked: 2, epoch: 1, upstream: 3, total: 10, expiresAt: null, reserved: 0, pending: 0 })
    expect(answers.slice(12, 15)).toEqual([true, false, true])
  }, HOOK_TIMEOUT_MS)

  it('the order lock: one holder at a time across isolates, freed by its holder or its time-out only', async () => {
    const key = 'plan-7:0x00000000000000000000000000000000000000bb'
    // The in-memory store grants every lock (one process needs none): here, a real one.
    expect(await contract([{ method: 'lockOrder', key, ttlMs: 60_000 }], a)).toEqual([true])
    expect(await contract([{ method: 'lockOrder', key, ttlMs: 60_000 }], b)).toEqual([false])
    const other = 'plan-7:0x00000000000000000000000000000000000000cc'
    expect(
      await contract([
        { method: 'lockOrder', key: other, ttlMs: 50 },
        { method: 'lockOrder', key: other, ttlMs: 60_000 },
        { method: 'sleep', ms: 100 },
        // The first lock ran out: the next caller gets it, and the first holder's release is void.
        { method: 'lockOrder', key: other, ttlMs: 60_000 },
        { method: 'unlockOrder', lock: 0 },
        { method: 'lockOrder', key: other, ttlMs: 60_000 },
        { method: 'unlockOrder', lock: 1 },
        { method: 'lockOrder', key: other, ttlMs: 60_000 },
      ]),
    ).toEqual([true, false, null, true, null, false, null, true])
  }, HOOK_TIMEOUT_MS)
})

// The store contract of @plangate/core/testing, each call one request to /store, the stores made
// alternately on either isolate. The object times leases by its own clock: those cases are
// LEASE_CASES below, with real time.
let stores = 0
storeContract(
  { describe, it },
  {
    name: 'the Durable Object store on workerd',
    create: () => remoteStore(++stores % 2 === 0 ? a.url : b.url, `contract-${Date.now()}-${stores}:`),
    exclusiveOrderLock: true,
  },
)

describe('reservation leases in the object', () => {
  it.each(LEASE_CASES.map((c, i) => [c.name, c, i] as const))('%s', async (_name, c, i) => {
    const key = `plan-10:0x00000000000000000000000000000000000000${(16 + i).toString(16)}`
    expect(await contract(c.calls(key), i % 2 === 0 ? a : b, { reservationLeaseMs: LEASE_MS })).toEqual(c.expected)
  }, HOOK_TIMEOUT_MS)

  /** The `/lossy` route (worker.ts): every release fails on its way to the object; leases of 2.5 s (a loaded machine may take 1 s to serve one). */
  const LOSSY_LEASE_MS = 2_500
  type Paid = { cost: number; status: 200 | 500; waitMs?: number }

  /**
   * Requests one after another, alternating isolates; then the lease passes. What was served is
   * burned, what the lost releases held comes back: every credit left can be spent, none more.
   */
  async function lossyRun(credits: number, requests: Paid[]) {
    const holder = await subscriber(credits, { funds: 100, orders: 1 })
    const key = `${holder.planId}:${holder.address}`
    let owed = 0
    for (const [i, request] of requests.entries()) {
      const headers = { Authorization: `Bearer ${holder.apiKey}`, 'x-cost': String(request.cost), 'x-status': String(request.status), 'x-wait': String(request.waitMs ?? 0) }
      const answer = await fetch(`${(i % 2 === 0 ? a : b).url}/lossy/${holder.planId}`, { method: 'POST', headers })
      await answer.arrayBuffer()
      expect([200, 402, 500], a.output()).toContain(answer.status)
      if (answer.status === 200) owed += request.cost
    }
    await new Promise((resolve) => setTimeout(resolve, LOSSY_LEASE_MS + 500))
    await vi.waitFor(() => expect(ledger.redeemed(holder.planId)).toBe(owed), { timeout: 10_000, interval: 50 })
    const left = credits - owed
    const [snapshot] = await contract([{ method: 'snapshot', key }], a, { store: 'LOST_RELEASE_STORE' })
    expect(snapshot, 'nothing stays reserved or pending').toMatchObject({ reserved: 0, pending: 0, upstream: left })
    const rest = await burst(`/lossy/${holder.planId}`, holder.apiKey, left + 1)
    expect(rest.filter((x) => x.status === 200), a.output()).toHaveLength(left)
    expect(rest.filter((x) => x.status === 402)).toHaveLength(1)
    await vi.waitFor(() => expect(ledger.redeemed(holder.planId)).toBe(credits), { timeout: 10_000, interval: 50 })
    expect(ledger.orders(holder.planId)).toBe(1)
    return { owed }
  }

  it('releases that never reach the object: their credits come back once the lease ends; a request that outlived its lease is still charged', async () => {
    const { owed } = await lossyRun(8, [
      { cost: 3, status: 500 },
      { cost: 2, status: 200 },
      { cost: 3, status: 500 },
      { cost: 1, status: 200 }, // refused: the lost releases hold 6 of the 6 left
      { cost: 0, status: 500 },
    ])
    expect(owed).toBe(2)
    // Served after its lease ended: committed late, burned all the same.
    const late = await lossyRun(3, [{ cost: 2, status: 200, waitMs: LOSSY_LEASE_MS + 300 }])
    expect(late.owed).toBe(2)
  }, HOOK_TIMEOUT_MS * 2)

  it('Σ burned = Σ cost of the 2xx answers with lost releases mixed in (random runs)', async () => {
    const paid = fc.record({ cost: fc.integer({ min: 0, max: 3 }), status: fc.constantFrom(200 as const, 500 as const) })
    await fc.assert(
      // Each run starts with a lost release that holds a credit: few runs, each one able to fail.
      fc.asyncProperty(fc.integer({ min: 1, max: 8 }), fc.array(paid, { minLength: 1, maxLength: 8 }), async (credits, requests) => {
        await lossyRun(credits, [{ cost: 1, status: 500 }, ...requests])
      }),
      { numRuns: 5 },
    )
  }, HOOK_TIMEOUT_MS * 3)
})

/** One store call on one of two keys, with small numbers so that the branches meet. */
function callArbitrary(): fc.Arbitrary<ContractCall> {
  const key = fc.constantFrom('p:0x01', 'p:0x02')
  const amount = fc.integer({ min: 0, max: 5 })
  const now = fc.integer({ min: 0, max: 3_000 })
  const snapshot = fc.record({
    acked: fc.integer({ min: 0, max: 10 }),
    epoch: fc.integer({ min: 0, max: 4 }),
    upstream: fc.integer({ min: 0, max: 20 }),
    total: fc.option(fc.integer({ min: 0, max: 50 }), { nil: undefined }),
    expiresAt: fc.option(now, { nil: null }),
    reserved: amount,
    pending: amount,
  })
  return fc.oneof(
    fc.record({ method: fc.constant('reserve' as const), key, cost: amount, now, ttlMs: fc.constantFrom(0, 100, 1_000, null) }),
    fc.record({ method: fc.constant('release' as const), key, pick: fc.nat() }),
    fc.record({ method: fc.constant('commit' as const), key, pick: fc.nat(), cost: amount, served: fc.option(amount, { nil: undefined }) }),
    fc.record({
      method: fc.constant('settle' as const),
      key,
      amount,
      settlement: fc.oneof(
        fc.constant({ ok: false as const }),
        fc.record({ ok: fc.constant(true as const), remainingAfter: fc.integer({ min: 0, max: 20 }), startedAt: snapshot }),
      ),
    }),
    fc.record({
      method: fc.constant('observe' as const),
      key,
      observation: fc.record({ remaining: fc.integer({ min: 0, max: 20 }), total: fc.option(fc.integer({ min: 0, max: 50 }), { nil: undefined }), expiresAt: fc.option(now, { nil: null }) }),
      startedAt: snapshot,
      now,
    }),
    fc.record({ method: fc.constant('snapshot' as const), key }),
    fc.record({ method: fc.constant('recordOrder' as const), key, now, windowMs: fc.constantFrom(100, 1_000), max: fc.integer({ min: 0, max: 3 }) }),
  )
}

describe('the object keeps its record in storage', () => {
  it('a workerd stopped and started again carries on from what the object last said', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'plangate-do-'))
    try {
      const serve = async () => {
        const port = await freePort()
        const args = ['serve', `${DO_WORKER_DIR}config-disk.capnp`, '--socket-addr', `a=127.0.0.1:${port}`, '--directory-path', `store-disk=${dir}`]
        return start(binary('workerd/bin/workerd'), args, { port, env: localLedgerEnv() })
      }
      const call = async (worker: Running, calls: ContractCall[]) => {
        const response = await fetch(`${worker.url}/contract`, { method: 'POST', body: JSON.stringify({ calls }) })
        expect(response.status, worker.output()).toBe(200)
        return ((await response.json()) as { answers: unknown[] }).answers
      }
      const key = 'plan-9:0x00000000000000000000000000000000000000dd'
      const before = { acked: 0, epoch: 0, upstream: 0, total: undefined, expiresAt: null, reserved: 0, pending: 0 }
      const first = await serve()
      expect(
        await call(first, [
          { method: 'observe', key, observation: { remaining: 5, total: 5, expiresAt: null }, startedAt: before, now: 1_000 },
          { method: 'reserve', key, cost: 2, now: 1_001, ttlMs: null },
          { method: 'reserve', key, cost: 1, now: 1_001, ttlMs: null },
          { method: 'commit', key, pick: 0, cost: 2, served: 1 },
          { method: 'recordOrder', key, now: 1_000, windowMs: 60_000, max: 1 },
          { method: 'lockOrder', key, ttlMs: 600_000 },
        ]),
      ).toEqual([
        null,
        { ok: true, remaining: 3, expiresAt: null, reservationId: true },
        { ok: true, remaining: 2, expiresAt: null, reservationId: true },
        { late: false, shortfall: 0 },
        true,
        true,
      ])
      await first.stop()

      const second = await serve()
      expect(
        await call(second, [
          { method: 'snapshot', key },
          { method: 'recordOrder', key, now: 2_000, windowMs: 60_000, max: 1 },
          { method: 'lockOrder', key, ttlMs: 600_000 },
        ]),
      ).toEqual([{ acked: 0, epoch: 1, upstream: 5, total: 5, expiresAt: null, reserved: 1, pending: 1 }, false, false])
      await second.stop()
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }, HOOK_TIMEOUT_MS * 2)
})
