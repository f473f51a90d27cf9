/**
 * Usage pricing on the Durable Object store, on the real workerd (the Worker of
 * test/runtimes/durable-object, two isolates sharing one `PlanGateStore` namespace): random runs
 * (fast-check) of concurrent requests on both isolates, each with a random maximum, random reports
 * (some above the maximum, some 0, some nothing) and a random status, against a plan with few
 * credits. Σ burned = Σ min(reported, max) over the 2xx answers (max when nothing was reported),
 * never more than the credits there were, and nothing stays reserved in the object.
 */
import { createLocalLedger } from '@plangate/core/local'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { startIsolates, type Isolates } from './durable-object/isolates'
import { HOOK_TIMEOUT_MS, type Running } from './process'

const ledger = createLocalLedger()
const agent = ledger.createAccount()
let isolates: Isolates | undefined
let a: Running
let b: { url: string }

beforeAll(async () => {
  isolates = await startIsolates(ledger, agent.apiKey)
  ;({ a, b } = isolates)
}, HOOK_TIMEOUT_MS)

afterAll(() => isolates?.stop(), HOOK_TIMEOUT_MS)

interface MeteredRequest {
  max: number
  /** Each one a `balance.use()`; empty: nothing reported. */
  uses: number[]
  status: 200 | 201 | 400 | 500
}

const request: fc.Arbitrary<MeteredRequest> = fc.record({
  max: fc.integer({ min: 0, max: 5 }),
  uses: fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }),
  status: fc.constantFrom(200, 200, 201, 400, 500),
})

/** What a served request should burn: what it reported, capped at its maximum; the maximum when it reported nothing. */
const owed = (r: MeteredRequest) => (r.uses.length === 0 ? r.max : Math.min(r.max, r.uses.reduce((x, y) => x + y, 0)))

/** A snapshot of the object's entry for `key`, through the Worker's TEST ONLY /contract route. */
async function snapshot(key: string): Promise<unknown> {
  const response = await fetch(`${a.url}/contract`, { method: 'POST', body: JSON.stringify({ calls: [{ method: 'snapshot', key }] }) })
  expect(response.status, a.output()).toBe(200)
  return ((await response.json()) as { answers: unknown[] }).answers[0]
}

describe('usage pricing on the Durable Object store, two isolates, one namespace', () => {
  it('Σ burned = Σ min(reported, max) over the 2xx answers, never more than the credits there were', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 12 }), fc.array(request, { minLength: 1, maxLength: 12 }), async (credits, requests) => {
        const planId = ledger.createPlan({ credits, price: 10, owner: agent.address })
        const holder = ledger.createAccount({ funds: 10 })
        const bought = await ledger.fetch(`${ledger.baseUrl}/protocol/plans/${planId}/order`, { method: 'POST', headers: { Authorization: `Bearer ${holder.apiKey}` } })
        expect(bought.status).toBe(200)
        const statuses = await Promise.all(
          requests.map(async (r, i) => {
            const headers = { Authorization: `Bearer ${holder.apiKey}`, 'x-max': String(r.max), 'x-uses': r.uses.join(','), 'x-status': String(r.status) }
            const answer = await fetch(`${(i % 2 === 0 ? a : b).url}/metered/${planId}`, { method: 'POST', headers })
            await answer.arrayBuffer()
            return answer.status
          }),
        )
        // Each answered as its route said, or refused for want of credits (others held them).
        statuses.forEach((status, i) => expect([requests[i]!.status, 402], a.output()).toContain(status))
        const expected = requests.reduce((sum, r, i) => sum + (statuses[i]! < 300 ? owed(r) : 0), 0)
        expect(expected).toBeLessThanOrEqual(credits)
        await vi.waitFor(() => expect(ledger.redeemed(planId)).toBe(expected), { timeout: 10_000, interval: 50 })
        expect(ledger.balance(planId, holder.address).remaining).toBe(credits - expected)
        // Nothing held or waiting to be burned: the figure above is final. The object's idea of
        // what is left is never more than there is (a balance read that several answers raced
        // may leave it lower until the next read: refusing then is safe, serving is not).
        // The burns' answers reach the object just after the ledger took them: waited for too.
        const entry = await vi.waitFor(
          async () => {
            const entry = (await snapshot(`${planId}:${holder.address}`)) as { reserved: number; pending: number; upstream: number }
            expect(entry).toMatchObject({ reserved: 0, pending: 0 })
            return entry
          },
          { timeout: 10_000, interval: 50 },
        )
        expect(entry.upstream).toBeLessThanOrEqual(credits - expected)
      }),
      { numRuns: 20 },
    )
  }, HOOK_TIMEOUT_MS * 2)
})
