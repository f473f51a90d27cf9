/**
 * Hostile upstream bodies: fast-check generated JSON (random, and the real shapes with fields
 * replaced by anything) and non-JSON text, with any status, at every upstream call. Nothing
 * crashes, every denial is problem+json with a documented code, a balance is only trusted when
 * it keeps the contract, and every credit served is either redeemed or reported to onError.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { CODES } from './harness'
import { moneyWorld, type Outcome } from './money-world'

const SHAPES = {
  balance: { isSubscriber: true, total: 5, used: 0, remaining: 5, expiresAt: null },
  order: { success: true, txHash: '0xabc', balance: { isSubscriber: true, total: 5, used: 0, remaining: 5, expiresAt: null } },
  redeem: { success: true, creditsRedeemed: 1, remainingBalance: 4 },
  settle: { success: true, transaction: '0xabc', network: 'eip155:84532', creditsRedeemed: '1', remainingBalance: '1' },
}
type Endpoint = keyof typeof SHAPES

/** The real shape, with some fields replaced by any JSON value (or dropped), as text. */
function mangled(endpoint: Endpoint): fc.Arbitrary<string> {
  const shape = SHAPES[endpoint] as Record<string, unknown>
  const field = (value: unknown) => fc.oneof({ weight: 2, arbitrary: fc.constant(value) }, fc.jsonValue(), fc.constant(undefined))
  const fields = Object.fromEntries(Object.entries(shape).map(([name, value]) => [name, field(value)]))
  return fc.record(fields).map((body) => JSON.stringify(body))
}

const hostileBody = (endpoint: Endpoint) =>
  fc.oneof(
    fc.json(),
    mangled(endpoint),
    fc.string(),
    fc.constantFrom('', '{', 'null', '[]', '{"remaining":1e400}', '{"balance":"99999999999999999999"}', '\u0000', '<html>'),
  )
const hostileStatus = fc.constantFrom(200, 200, 200, 201, 204, 302, 400, 418, 500, 502)

/**
 * What a balance body claims, by the contract (docs/LOCAL-LEDGER.md, "What it answers"), checked independently of the code under
 * test: `remaining` (or the live shape's `balance`) as a non-negative safe integer or a decimal
 * string no larger than MAX_SAFE_INTEGER; undefined when it claims nothing valid.
 */
function claimedCredits(body: string): number | undefined {
  let value: unknown
  try {
    value = JSON.parse(body)
  } catch {
    return undefined
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined
  const record = value as Record<string, unknown>
  const credits = 'remaining' in record ? record.remaining : record.balance
  if (typeof credits === 'number') return Number.isSafeInteger(credits) && credits >= 0 ? credits : undefined
  if (typeof credits === 'string' && /^[0-9]{1,20}$/.test(credits) && BigInt(credits) <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(credits)
  return undefined
}

function expectWellFormed(outcomes: Outcome[]): void {
  for (const o of outcomes) {
    if (o.admitted) continue
    expect(CODES).toContain(o.code)
    expect([401, 402, 500, 503]).toContain(o.status)
  }
}

async function run(endpoint: Endpoint, body: string, status: number, afterApply: boolean) {
  // Balance: the holder has 2 credits and auto-order is off. Order: no credits, auto-order on.
  // Redeem and settle: 2 credits; the burn is applied, then its answer replaced by the hostile one.
  const burn = endpoint === 'redeem' || endpoint === 'settle'
  const world = await moneyWorld({
    credits: 2,
    initialOrders: endpoint === 'order' ? 0 : 1,
    gate: {
      autoOrder: endpoint === 'order' ? { maxOrders: 2, pollTimeoutMs: 100 } : false,
      timeoutMs: 2_000,
      settle: { maxRetries: 2, via: endpoint === 'redeem' ? 'redeem' : 'x402' },
    },
  })
  world.inject(endpoint, { body, status, afterApply: burn ? true : afterApply })
  const first = await world.send({ cost: 1, status: 200, waitMs: 0 })
  world.ledger.clearFaults()
  const second = await world.send({ cost: 1, status: 200, waitMs: 0 })
  await world.gate.close()
  const outcomes = [first, second]
  expectWellFormed(outcomes)

  const served = outcomes.filter((o) => o.status === 200).length
  // Every credit served is redeemed upstream, or reported as not redeemed: never silently lost.
  expect(world.ledger.redeemed(world.planId) + world.recorder.unredeemed).toBeGreaterThanOrEqual(served)
  expect(world.ledger.redeemed(world.planId)).toBeLessThanOrEqual(served)
  return { world, first, served }
}

describe('hostile upstream bodies', () => {
  it('balance: a body is trusted only when it keeps the contract', async () => {
    await fc.assert(
      fc.asyncProperty(hostileBody('balance'), hostileStatus, async (body, status) => {
        const { first } = await run('balance', body, status, false)
        if (first.status === 200) {
          // Served on the hostile answer's word: then it was a 2xx and a valid balance with credits.
          expect(status).toBeGreaterThanOrEqual(200)
          expect(status).toBeLessThan(300)
          expect(claimedCredits(body)).toBeGreaterThanOrEqual(1)
        }
      }),
      { numRuns: 150 },
    )
  })

  it('order: an answer that breaks the contract is a 503, and the credits it bought are used, not bought again', async () => {
    await fc.assert(
      fc.asyncProperty(hostileBody('order'), hostileStatus, fc.boolean(), async (body, status, afterApply) => {
        const { world } = await run('order', body, status, afterApply)
        // Charged upstream but answered with garbage: the next request uses those credits, it does not buy again.
        if (afterApply) expect(world.ordersByGate()).toBe(1)
        else expect(world.ordersByGate()).toBeLessThanOrEqual(1)
      }),
      { numRuns: 150 },
    )
  })

  it('settle: applied upstream, answered with anything: burned exactly once (never sent again once the balance shows it)', async () => {
    await fc.assert(
      fc.asyncProperty(hostileBody('settle'), hostileStatus, async (body, status) => {
        const { world, served } = await run('settle', body, status, true)
        expect(served).toBe(2)
        expect(world.ledger.redeemed(world.planId)).toBe(2)
      }),
      { numRuns: 60 },
    )
  })

  it('redeem: applied upstream, answered with anything: redeemed exactly once', async () => {
    await fc.assert(
      fc.asyncProperty(hostileBody('redeem'), hostileStatus, async (body, status) => {
        const { world, served } = await run('redeem', body, status, true)
        expect(served).toBe(2)
        expect(world.ledger.redeemed(world.planId)).toBe(2)
      }),
      { numRuns: 60 },
    )
  })
})
