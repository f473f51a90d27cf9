/**
 * Reservation leases as data: store calls (test/runtimes/durable-object/contract.ts) with the
 * answers every store must give, on a store whose `reservationLeaseMs` is `LEASE_MS` and with real
 * time passing (`sleep` well past the lease). Run on Redis (test/redis/reservation-leases.test.ts)
 * and on the Durable Object store in workerd (test/runtimes/durable-object.test.ts); the memory
 * store has its own, on a clock the test moves (packages/core/test/reservation-leases.test.ts).
 */
import type { ContractCall } from '../runtimes/durable-object/contract'

/** Long enough for the calls before a sleep to land within it on a loaded machine. */
export const LEASE_MS = 400
const PAST_LEASE: ContractCall = { method: 'sleep', ms: LEASE_MS * 2 + 200 }

const EMPTY = { acked: 0, epoch: 0, upstream: 0, total: undefined, expiresAt: null, reserved: 0, pending: 0 }
const held = (remaining: number) => ({ ok: true, remaining, expiresAt: null, reservationId: true })
const insufficient = (remaining: number) => ({ ok: false, reason: 'insufficient', remaining })
const ON_TIME = { late: false, shortfall: 0 }
/** An entry of `credits`, observed (epoch 1) and as JSON carries it (no `total: undefined`). */
const entry = (credits: number, more: { reserved?: number; pending?: number } = {}) => ({ acked: 0, epoch: 1, upstream: credits, total: credits, expiresAt: null, reserved: 0, pending: 0, ...more })

export interface LeaseCase {
  name: string
  calls: (key: string) => ContractCall[]
  expected: unknown[]
}

const observe = (key: string, credits: number): ContractCall => ({ method: 'observe', key, observation: { remaining: credits, total: credits, expiresAt: null }, startedAt: EMPTY, now: 1_000 })
const reserve = (key: string, cost: number): ContractCall => ({ method: 'reserve', key, cost, now: 1_001, ttlMs: null })

export const LEASE_CASES: LeaseCase[] = [
  {
    name: 'a reservation whose release never comes is held for its lease, then its credits come back',
    calls: (key) => [observe(key, 5), reserve(key, 3), reserve(key, 3), { method: 'snapshot', key }, PAST_LEASE, { method: 'snapshot', key }, reserve(key, 5)],
    expected: [null, held(2), insufficient(2), entry(5, { reserved: 3 }), null, entry(5), held(0)],
  },
  {
    name: 'no double give-back: a release after the lease ended, and a release twice, give nothing more back',
    calls: (key) => [
      observe(key, 5),
      reserve(key, 3),
      PAST_LEASE,
      reserve(key, 4), // the credits the lease gave back, handed out again
      { method: 'release', key, pick: 0 },
      { method: 'snapshot', key },
      { method: 'release', key, pick: 1 },
      { method: 'release', key, pick: 1 },
      { method: 'snapshot', key },
      reserve(key, 6),
      reserve(key, 5),
    ],
    expected: [null, held(2), null, held(1), null, entry(5, { reserved: 4 }), null, null, entry(5), insufficient(5), held(0)],
  },
  {
    name: 'a commit after the lease ended still burns what was served, and never takes available below 0',
    calls: (key) => [
      observe(key, 5),
      reserve(key, 3),
      PAST_LEASE,
      reserve(key, 4),
      { method: 'commit', key, pick: 0, cost: 3 },
      { method: 'snapshot', key },
      reserve(key, 1),
      { method: 'commit', key, pick: 1, cost: 4, served: 2 },
      { method: 'snapshot', key },
      reserve(key, 1),
    ],
    expected: [
      null,
      held(2),
      null,
      held(1),
      // 1 was available for the 3 served: 2 short.
      { late: true, shortfall: 2 },
      entry(5, { reserved: 4, pending: 3 }),
      insufficient(0),
      ON_TIME,
      entry(5, { pending: 5 }),
      insufficient(0),
    ],
  },
  {
    name: 'a late commit with credits to spare lacks nothing; only what was served is burned',
    calls: (key) => [observe(key, 10), reserve(key, 4), PAST_LEASE, { method: 'commit', key, pick: 0, cost: 4, served: 3 }, { method: 'snapshot', key }, reserve(key, 8), reserve(key, 7)],
    expected: [null, held(6), null, { late: true, shortfall: 0 }, entry(10, { pending: 3 }), insufficient(7), held(0)],
  },
]
