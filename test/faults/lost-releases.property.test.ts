/**
 * Σ burned = Σ cost of the served requests with lost releases mixed in, on MemoryBalanceStore
 * (its lease clock moved by the test): reservations whose release never came are given back
 * once their lease ends, a commit after that still burns, and the plan is never bought twice.
 * The same run on Redis: test/redis/reservation-leases.test.ts.
 */
import { MemoryBalanceStore } from '@plangate/core'
import fc from 'fast-check'
import { describe, it } from 'vitest'
import { ENDINGS, runLostReleases, type LeaseRequest } from './lost-releases'

const LEASE_MS = 60_000

function memoryWorld() {
  let skew = 0
  const store = new MemoryBalanceStore({ reservationLeaseMs: LEASE_MS, now: () => Date.now() + skew })
  return { store, passLease: async () => void (skew += LEASE_MS) }
}

const request: fc.Arbitrary<LeaseRequest> = fc.record({ cost: fc.integer({ min: 0, max: 3 }), ending: fc.constantFrom(...ENDINGS) })

describe('lost releases (MemoryBalanceStore)', () => {
  it('a hand-picked run: one of each, the lost ones holding most of the credits', async () => {
    await runLostReleases(
      10,
      [
        { cost: 3, ending: 'lost' },
        { cost: 3, ending: 'dropped' },
        { cost: 2, ending: 'served' },
        { cost: 3, ending: 'served' }, // refused: the lost reservations hold 6 of the 8 left
        { cost: 1, ending: 'late' },
        { cost: 1, ending: 'failed' },
      ],
      memoryWorld(),
    )
  })

  it('Σ burned = Σ cost of the served requests; all the rest can be spent without a second order', { timeout: 60_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 12 }), fc.array(request, { minLength: 1, maxLength: 20 }), async (credits, requests) => {
        await runLostReleases(credits, requests, memoryWorld())
      }),
      { numRuns: 60 },
    )
  })
})
