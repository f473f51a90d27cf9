/**
 * Money invariants under concurrency, over many randomised runs (fast-check) plus one
 * deterministic max-size case each, on Hono (in process), Koa and Fastify (over loopback):
 * - no overspend: with R credits and auto-order off, at most R cost-1 requests are served, exactly
 *   min(R, N) when nothing fails;
 * - auto-order buys the fewest orders that cover the demand: ceil((demand − initial) / credits);
 * - the spend guard is never exceeded, whatever the concurrency.
 */
import fc from 'fast-check'
import type { LedgerEndpoint } from '@plangate/core/local'
import { afterEach, describe, expect, it } from 'vitest'
import { sleep } from './harness'
import { closeWorlds, moneyWorld, served, sumCost, type PaidRequest } from './money-world'

const ok = (cost = 1): PaidRequest => ({ cost, status: 200, waitMs: 0 })
type Delays = { order: number; balance: number; redeem: number }
/** Upstream latencies, so that waves arrive while orders, reads and redemptions are in flight. */
const delays = fc.record({ order: fc.constantFrom(0, 0, 3), balance: fc.constantFrom(0, 0, 2, 8), redeem: fc.constantFrom(0, 0, 4) })
function slowDown(world: { inject: (e: LedgerEndpoint, f: { delayMs: number; times: number }) => void; burnEndpoint: LedgerEndpoint }, d?: Delays) {
  for (const endpoint of ['order', 'balance', 'redeem'] as const) {
    if (d?.[endpoint]) world.inject(endpoint === 'redeem' ? world.burnEndpoint : endpoint, { delayMs: d[endpoint], times: 100_000 })
  }
}
const fewestOrders = (demand: number, initial: number, credits: number) => Math.ceil(Math.max(0, demand - initial) / credits)

afterEach(closeWorlds)

/** Hono in process (money-world.ts); Koa and Fastify over real HTTP. */
const MONEY_ADAPTERS = ['hono', 'koa', 'fastify'] as const

describe.each(MONEY_ADAPTERS)('%s', { timeout: 60_000 }, (adapter) => {
  // Over HTTP a run costs several times more: a third of the runs, and every max-size case.
  const runs = (n: number) => (adapter === 'hono' ? n : Math.ceil(n / 3))

  describe('no overspend (auto-order off)', () => {
    type Input = { initial: number; requests: PaidRequest[]; waves: number; ttlMs: number; balanceFaults: number; redeemDelayMs: number }
    async function check(input: Input) {
      const world = await moneyWorld({
        adapter,
        credits: Math.max(1, input.initial),
        initialOrders: input.initial > 0 ? 1 : 0,
        gate: { autoOrder: false, cache: { ttlMs: input.ttlMs } },
      })
      if (input.balanceFaults > 0) world.inject('balance', { status: 503, times: input.balanceFaults })
      // Slow redemptions keep credits "pending" while other requests read the balance.
      if (input.redeemDelayMs > 0) world.inject(world.burnEndpoint, { delayMs: input.redeemDelayMs, times: 10_000 })
      const outcomes = await world.waves(input.requests, input.waves)
      await world.gate.close()
      await world.close() // each run's server, at once: a property starts dozens

      const ok2xx = served(outcomes)
      expect(ok2xx.length).toBeLessThanOrEqual(input.initial)
      if (input.balanceFaults === 0 && input.requests.every((r) => r.status === 200)) {
        expect(ok2xx.length).toBe(Math.min(input.initial, input.requests.length))
      }
      // Every denial is a 402 (or a 503 for the injected faults); the route's own answers pass through.
      for (const o of outcomes.filter((o) => !o.admitted)) expect(['PAYMENT_REQUIRED', 'UPSTREAM_UNAVAILABLE']).toContain(o.code)
      expect(world.ledger.redeemed(world.planId)).toBe(ok2xx.length)
      expect(world.ordersByGate()).toBe(0)
    }

    it('at most R of N concurrent cost-1 requests (random R, N, waves, cache ttl, faults)', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.record({
            initial: fc.integer({ min: 0, max: 30 }),
            requests: fc.array(fc.record({ cost: fc.constant(1), status: fc.constantFrom(200, 200, 200, 500), waitMs: fc.integer({ min: 0, max: 3 }) }), {
              minLength: 1,
              maxLength: 120,
            }),
            waves: fc.integer({ min: 1, max: 4 }),
            ttlMs: fc.constantFrom(0, 30_000),
            balanceFaults: fc.constantFrom(0, 0, 1, 2),
            redeemDelayMs: fc.constantFrom(0, 0, 5),
          }),
          check,
        ),
        { numRuns: runs(60) },
      )
    })

    it('max size: exactly 300 of 1,000 concurrent requests on 300 credits', async () => {
      await check({ initial: 300, requests: Array.from({ length: 1_000 }, () => ok()), waves: 1, ttlMs: 30_000, balanceFaults: 0, redeemDelayMs: 0 })
    })

    it('max size: reads racing slow redemptions (cache ttl 0) never resurrect a credit', async () => {
      await check({ initial: 100, requests: Array.from({ length: 1_000 }, () => ok()), waves: 10, ttlMs: 0, balanceFaults: 0, redeemDelayMs: 5 })
    })
  })

  describe('auto-order places the fewest orders that cover the demand', () => {
    type Input = { credits: number; initialOrders: number; used: number; requests: PaidRequest[]; waves: number; delays?: Delays; ttlMs?: number }
    async function check(input: Input) {
      const world = await moneyWorld({
        adapter,
        credits: input.credits,
        initialOrders: input.initialOrders,
        used: Math.min(input.used, input.initialOrders * input.credits),
        gate: { autoOrder: { maxOrders: 1_000 }, cache: { ttlMs: input.ttlMs ?? 30_000 } },
      })
      slowDown(world, input.delays)
      const outcomes = await world.waves(input.requests, input.waves)
      await world.gate.close()
      await world.close() // each run's server, at once: a property starts dozens
      const demand = sumCost(input.requests.map((r) => ({ ...r, status: 200, admitted: true })))
      expect(outcomes.filter((o) => o.status !== 200)).toEqual([])
      expect(world.ordersByGate()).toBe(fewestOrders(demand, world.initial, input.credits))
      expect(world.ledger.redeemed(world.planId)).toBe(demand + Math.min(input.used, input.initialOrders * input.credits))
    }

    it('cost 1 and mixed costs, random bursts', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.record({
            credits: fc.integer({ min: 1, max: 10 }),
            initialOrders: fc.integer({ min: 0, max: 2 }),
            used: fc.integer({ min: 0, max: 20 }),
            requests: fc.oneof(
              fc.array(fc.constant(ok()), { minLength: 1, maxLength: 150 }),
              fc.array(fc.integer({ min: 0, max: 4 }).map(ok), { minLength: 1, maxLength: 80 }),
            ),
            waves: fc.integer({ min: 1, max: 3 }),
            delays,
            ttlMs: fc.constantFrom(0, 30_000),
          }),
          check,
        ),
        { numRuns: runs(50) },
      )
    })

    // Found by the property above: an answer that raced a redemption counted it twice, and the gate
    // bought a plan the holder did not need.
    it('an order that races a redemption does not buy twice (2 requests, 1 credit per order)', async () => {
      await check({ credits: 1, initialOrders: 0, used: 0, requests: [ok(), ok()], waves: 1, delays: { order: 3, balance: 0, redeem: 0 } })
    })

    it('a balance read that races a redemption does not buy credits the holder still has', async () => {
      const world = await moneyWorld({ adapter, credits: 2, initialOrders: 1, gate: { cache: { ttlMs: 0 } } })
      world.inject(world.burnEndpoint, { delayMs: 50 }) // the first request's redemption lands at ~50 ms…
      expect((await world.send(ok())).status).toBe(200)
      world.inject('balance', { delayMs: 80 }) // …and the second request's read answers at ~80 ms, including it
      expect((await world.send(ok())).status).toBe(200)
      await world.gate.close()
      expect(world.ordersByGate()).toBe(0)
      expect(world.ledger.redeemed(world.planId)).toBe(2)
    })

    it('a redemption landing while the gate reads before ordering does not make it buy (it is held)', async () => {
      const world = await moneyWorld({ adapter, credits: 3, initialOrders: 1 })
      // Two requests hold 2 of the 3 credits for 40 ms; one will fail (credit back), one succeed.
      const held = [world.send({ cost: 1, status: 500, waitMs: 40 }), world.send({ cost: 1, status: 200, waitMs: 40 })]
      await sleep(10)
      // A cost-2 request cannot be covered by the 1 credit left: it reads, then — about to order —
      // reads again, slowly (100 ms), while the other two finish. The truth then covers it.
      world.inject('balance', { delayMs: 0 })
      world.inject('balance', { delayMs: 100 })
      const big = await world.send(ok(2))
      expect((await Promise.all(held)).map((o) => o.status)).toEqual([500, 200])
      expect(big.status).toBe(200)
      await world.gate.close()
      expect(world.ordersByGate()).toBe(0)
      expect(world.ledger.redeemed(world.planId)).toBe(3)
    })

    it('max size: 1,000 concurrent cost-1 requests on an empty balance', async () => {
      await check({ credits: 7, initialOrders: 0, used: 0, requests: Array.from({ length: 1_000 }, () => ok()), waves: 1 })
    })

    it('max size: 1,000 concurrent requests of mixed costs on a partly spent balance', async () => {
      await check({ credits: 9, initialOrders: 1, used: 4, requests: Array.from({ length: 1_000 }, (_, i) => ok(i % 5)), waves: 1 })
    })
  })

  describe('the spend guard is never exceeded', () => {
    type Input = { maxOrders: number; credits: number; n: number; orderFaults: number; waves: number; delays?: Delays }
    async function check(input: Input) {
      const world = await moneyWorld({ adapter, credits: input.credits, gate: { autoOrder: { maxOrders: input.maxOrders, windowMs: 3_600_000 } } })
      if (input.orderFaults > 0) world.inject('order', { status: 503, times: input.orderFaults })
      slowDown(world, input.delays)
      const outcomes = await world.waves(Array.from({ length: input.n }, () => ok()), input.waves)
      await world.gate.close()
      await world.close()
      // Every attempt counts against the guard, failed ones included.
      expect(world.ledger.counters.order).toBeLessThanOrEqual(input.maxOrders)
      expect(world.ordersByGate()).toBeLessThanOrEqual(Math.max(0, input.maxOrders - input.orderFaults))
      expect(served(outcomes).length).toBeLessThanOrEqual(world.ordersByGate() * input.credits)
      if (input.orderFaults === 0) expect(served(outcomes).length).toBe(Math.min(input.n, input.maxOrders * input.credits))
      for (const o of outcomes.filter((o) => o.status !== 200)) expect(['PAYMENT_REQUIRED', 'UPSTREAM_UNAVAILABLE']).toContain(o.code)
    }

    it('orders ≤ maxOrders per window, for random bursts and failing orders', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.record({
            maxOrders: fc.integer({ min: 1, max: 5 }),
            credits: fc.integer({ min: 1, max: 5 }),
            n: fc.integer({ min: 1, max: 200 }),
            orderFaults: fc.constantFrom(0, 0, 1, 2),
            waves: fc.integer({ min: 1, max: 4 }),
            delays,
          }),
          check,
        ),
        { numRuns: runs(60) },
      )
    })

    it('max size: 1,000 concurrent requests against maxOrders 3', async () => {
      await check({ maxOrders: 3, credits: 4, n: 1_000, orderFaults: 0, waves: 1 })
    })
  })
})
