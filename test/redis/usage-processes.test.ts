/**
 * Usage pricing across processes: 3 real Express processes on one real redis-server, serving
 * concurrent requests of one plan's holders that report random usage (some above the maximum,
 * some 0, some nothing) and answer random statuses. Once every process has closed (SIGTERM:
 * gate.close()), the ledger has burned Σ over the 2xx answers of min(reported, max), exactly.
 */
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { crashWorld, type CrashWorld } from './crash-world'

const MAX = 5
let world: CrashWorld

beforeAll(async () => {
  world = await crashWorld()
}, 60_000)
afterAll(() => world?.close(), 60_000)

interface Metered {
  uses: number[]
  status: number
}

const metered = fc.record({ uses: fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }), status: fc.constantFrom(200, 200, 201, 400, 500) })
const charge = (r: Metered) => (r.status >= 300 ? 0 : r.uses.length === 0 ? MAX : Math.min(MAX, r.uses.reduce((a, b) => a + b, 0)))

describe('usage pricing on 3 processes sharing Redis', () => {
  it('Σ burned = Σ min(reported, max) over the 2xx answers, 150 random concurrent requests', async () => {
    const { planId, holders } = await world.planWithHolders(3)
    const agents = await Promise.all([0, 1, 2].map(() => world.agent('usage:', planId, { batchMs: 50, leaseMs: 1_500, max: MAX })))
    const requests = fc.sample(metered, { numRuns: 150, seed: Number(process.env.USAGE_SEED ?? Date.now() % 1_000_000) })
    const statuses = await Promise.all(
      requests.map(async (r, i) => {
        const query = `use=${r.uses.join(',')}&status=${r.status}`
        const response = await fetch(`${agents[i % 3]!.url}/ask?${query}`, { headers: { Authorization: `Bearer ${holders[i % 3]!.apiKey}` }, signal: AbortSignal.timeout(60_000) })
        await response.arrayBuffer()
        return response.status
      }),
    )
    await Promise.all(agents.map((a) => a.stop()))
    expect(statuses).toEqual(requests.map((r) => r.status))
    expect(world.ledger.redeemed(planId)).toBe(requests.reduce((sum, r) => sum + charge(r), 0))
    for (let h = 0; h < 3; h++) {
      const mine = requests.filter((_, i) => i % 3 === h)
      expect(world.ledger.balance(planId, holders[h]!.address).remaining).toBe(100_000 - mine.reduce((sum, r) => sum + charge(r), 0))
    }
  }, 120_000)
})
