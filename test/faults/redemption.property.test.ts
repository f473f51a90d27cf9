/**
 * Money invariant 1: credits redeemed upstream == Σ cost of the 2xx responses, exactly, once the
 * gate is closed — with redeem faults injected (5xx, time-outs, and redemptions that were applied
 * upstream but whose answer was lost), in immediate and batched settlement. Every retry carries
 * its lease's (or batch's) one proof; the ledger counts a repeated proof once.
 */
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { moneyWorld, NOT_APPLIED, REDEEM_FAULTS, served, sumCost, VIAS, type PaidRequest, type RedeemFaultName, type Via } from './money-world'

const TIMEOUT_MS = 100

const request = fc.record({
  cost: fc.integer({ min: 0, max: 3 }),
  status: fc.constantFrom(200, 200, 200, 201, 202, 400, 404, 500, 503),
  waitMs: fc.integer({ min: 0, max: 3 }),
})
const faultNames = Object.keys(REDEEM_FAULTS) as RedeemFaultName[]

type Input = { credits: number; requests: PaidRequest[]; faults: RedeemFaultName[]; batchMs: number; maxRetries: number; waves: number }

let via: Via = 'x402'

async function run(input: Input, timeoutMs = TIMEOUT_MS) {
  const world = await moneyWorld({
    credits: input.credits,
    gate: { timeoutMs, autoOrder: { maxOrders: 1_000 }, settle: { batchMs: input.batchMs, maxRetries: input.maxRetries, via } },
  })
  for (const name of input.faults) world.inject(world.burnEndpoint, REDEEM_FAULTS[name])
  const outcomes = await world.waves(input.requests, input.waves)
  await world.gate.close()
  return { world, outcomes, owed: sumCost(served(outcomes)) }
}

/** Redeem calls grouped by proof: one amount per proof, at most maxRetries + 1 calls each (x402 settle has no proof). */
function proofsOf(calls: Array<{ proof: string; amount: number }>, maxRetries: number) {
  if (via !== 'redeem') return new Map<string, { amount: number; calls: number }>()
  const byProof = new Map<string, { amount: number; calls: number }>()
  for (const call of calls) {
    const seen = byProof.get(call.proof)
    if (seen) {
      expect(call.amount, 'a retry carries the same amount as its first try').toBe(seen.amount)
      seen.calls++
    } else byProof.set(call.proof, { amount: call.amount, calls: 1 })
  }
  for (const { calls: n } of byProof.values()) expect(n).toBeLessThanOrEqual(maxRetries + 1)
  return byProof
}

describe.each(VIAS)('burned upstream (via %s) == Σ cost of 2xx responses', (way) => {
  beforeAll(() => void (via = way))

  it('when the retries cover the injected faults (immediate and batched settlement)', { timeout: 90_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          credits: fc.integer({ min: 1, max: 6 }),
          requests: fc.array(request, { minLength: 1, maxLength: 25 }),
          faults: fc.array(fc.constantFrom(...faultNames), { maxLength: 3 }),
          batchMs: fc.constantFrom(0, 0, 5, 30),
          // Two retries to spare: on a loaded machine a healthy call may time out too.
          maxRetries: fc.integer({ min: 5, max: 7 }),
          waves: fc.integer({ min: 1, max: 3 }),
        }),
        async (input) => {
          const { world, outcomes, owed } = await run(input)
          expect(world.ledger.redeemed(world.planId)).toBe(owed)
          expect(world.recorder.unredeemed).toBe(0)
          if (via === 'redeem') {
            const proofs = proofsOf(world.redeemCalls, input.maxRetries)
            // One proof per lease (or batch): the proofs' amounts add up to what was owed, not more.
            expect([...proofs.values()].reduce((sum, p) => sum + p.amount, 0)).toBe(owed)
            if (input.batchMs === 0) expect(proofs.size).toBe(served(outcomes).filter((o) => o.cost > 0).length)
          } else expect(world.ledger.counters.redeem).toBe(0)
        },
      ),
      { numRuns: 40 },
    )
  })

  const exhausting = (faults: RedeemFaultName[]) =>
    fc.record({
      credits: fc.integer({ min: 1, max: 6 }),
      requests: fc.array(request, { minLength: 1, maxLength: 15 }),
      faults: fc.array(fc.constantFrom(...faults), { maxLength: 6 }),
      batchMs: fc.constantFrom(0, 5),
      maxRetries: fc.integer({ min: 0, max: 2 }),
      waves: fc.integer({ min: 1, max: 3 }),
    })

  it('when the retries run out: redeemed + amounts reported to onError == Σ cost', { timeout: 90_000 }, async () => {
    // Answers that say the redemption was not applied (5xx); a long timeoutMs, so that no healthy
    // call times out on a loaded machine (its last try could have been applied).
    await fc.assert(
      fc.asyncProperty(exhausting(NOT_APPLIED.filter((f) => f !== 'time-out')), async (input) => {
        const { world, owed } = await run(input, 5_000)
        expect(world.ledger.redeemed(world.planId) + world.recorder.unredeemed).toBe(owed)
        proofsOf(world.redeemCalls, input.maxRetries)
      }),
      { numRuns: 30 },
    )
  })

  it('when the retries run out on any fault: redeemed ≤ Σ cost ≤ redeemed + amounts reported', { timeout: 90_000 }, async () => {
    // A last try applied upstream whose answer was lost is reported too: the gate cannot know.
    await fc.assert(
      fc.asyncProperty(exhausting(faultNames), async (input) => {
        const { world, owed } = await run(input)
        const redeemed = world.ledger.redeemed(world.planId)
        expect(redeemed).toBeLessThanOrEqual(owed)
        expect(redeemed + world.recorder.unredeemed).toBeGreaterThanOrEqual(owed)
        proofsOf(world.redeemCalls, input.maxRetries)
      }),
      { numRuns: 30 },
    )
  })

  it('max size: 1,000 concurrent requests, faults on every kind, batched', async () => {
    const requests = Array.from({ length: 1_000 }, (_, i) => ({ cost: i % 3, status: i % 7 === 0 ? 500 : 200, waitMs: 0 }))
    const { world, owed } = await run({ credits: 50, requests, faults: [...faultNames].slice(0, 5), batchMs: 5, maxRetries: 5, waves: 4 })
    expect(owed).toBeGreaterThan(0)
    expect(world.ledger.redeemed(world.planId)).toBe(owed)
    expect(world.recorder.unredeemed).toBe(0)
  })
})
