/**
 * Random sequences of every store method — reservations, commits (of all or part of a
 * reservation, twice, late or of one never granted), releases (twice too), redemptions that
 * race balance reads (snapshots handed back late), expiring credits, the spend guard — agree with
 * MemoryBalanceStore, call by call, through node-redis and through ioredis.
 */
import { MemoryBalanceStore, type BalanceStore } from '@plangate/core'
import { type EntrySnapshot } from '@plangate/core/store'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freshPrefix, ioredis, nodeRedis, type Connected } from './clients'
import { redisServer, type RedisServer } from './redis-server'

const KEYS = ['7:0x00000000000000000000000000000000000000aa', '9:0x00000000000000000000000000000000000000aa']
const EMPTY: EntrySnapshot = { acked: 0, epoch: 0, upstream: 0, total: undefined, expiresAt: null, reserved: 0, pending: 0 }

const key = fc.integer({ min: 0, max: KEYS.length - 1 })
const amount = fc.integer({ min: 0, max: 5 })
const op = fc.oneof(
  fc.record({
    kind: fc.constant('observe' as const),
    key,
    remaining: fc.integer({ min: 0, max: 30 }),
    total: fc.option(fc.integer({ min: 0, max: 60 }), { nil: undefined }),
    expiresIn: fc.option(fc.integer({ min: 0, max: 80 }), { nil: null }),
    from: fc.nat(),
  }),
  fc.record({ kind: fc.constant('reserve' as const), key, cost: amount, ttl: fc.constantFrom(0, 15, 1_000, Infinity) }),
  fc.record({ kind: fc.constant('reserve' as const), key, cost: amount, ttl: fc.constant(Infinity) }),
  // `pick` names an earlier reservation of the key (any, ended or not), or none when there is none.
  fc.record({ kind: fc.constant('commit' as const), key, pick: fc.nat(), cost: amount, served: fc.option(amount, { nil: undefined }) }),
  fc.record({ kind: fc.constant('release' as const), key, pick: fc.nat() }),
  fc.record({ kind: fc.constant('settle' as const), key, amount, ok: fc.boolean(), remainingAfter: fc.integer({ min: 0, max: 30 }), from: fc.nat() }),
  fc.record({ kind: fc.constant('snapshot' as const), key }),
  fc.record({ kind: fc.constant('recordOrder' as const), key, windowMs: fc.integer({ min: 1, max: 60 }), max: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 25 }) }),
)
type Op = typeof op extends fc.Arbitrary<infer T> ? T : never

/** Applies `ops` to `store` and returns every answer, in order. */
async function play(store: BalanceStore, ops: Op[]): Promise<unknown[]> {
  let now = 1_800_000_000_000
  const snapshots: EntrySnapshot[][] = KEYS.map(() => [])
  const earlier = (k: number, from: number) => (snapshots[k]!.length === 0 ? EMPTY : snapshots[k]![from % snapshots[k]!.length]!)
  // Each key's reservations, in the order granted: ids differ between stores, their order does not.
  const granted: Array<Array<{ id: string; cost: number }>> = KEYS.map(() => [])
  const pick = (k: number, n: number) => (granted[k]!.length === 0 ? { id: 'none', cost: undefined } : granted[k]![n % granted[k]!.length]!)
  const answers: unknown[] = []
  for (const o of ops) {
    if (o.kind === 'tick') {
      now += o.ms
      continue
    }
    const k = KEYS[o.key]!
    switch (o.kind) {
      case 'observe': {
        const expiresAt = o.expiresIn === null ? null : now + o.expiresIn
        answers.push(await store.observe(k, { remaining: o.remaining, total: o.total, expiresAt }, earlier(o.key, o.from), now))
        break
      }
      case 'reserve': {
        const outcome = await store.reserve(k, o.cost, now, o.ttl)
        if (outcome.ok && outcome.reservationId !== '') granted[o.key]!.push({ id: outcome.reservationId, cost: o.cost })
        answers.push(outcome.ok ? { ...outcome, reservationId: outcome.reservationId !== '' } : outcome)
        break
      }
      case 'commit': {
        const { id, cost = o.cost } = pick(o.key, o.pick)
        answers.push(await store.commit(k, id, cost, o.served === undefined ? undefined : Math.min(o.served, cost)))
        break
      }
      case 'release':
        answers.push(await store.release(k, pick(o.key, o.pick).id))
        break
      case 'settle': {
        const settlement = o.ok ? { ok: true as const, remainingAfter: o.remainingAfter, startedAt: earlier(o.key, o.from) } : { ok: false as const }
        answers.push(await store.settle(k, o.amount, settlement))
        break
      }
      case 'snapshot': {
        const seen = await store.snapshot(k)
        snapshots[o.key]!.push(seen)
        answers.push(seen)
        break
      }
      case 'recordOrder':
        answers.push(await store.recordOrder(k, now, o.windowMs, o.max))
        break
    }
  }
  for (const k of KEYS) answers.push(await store.snapshot(k))
  return answers
}

let server: RedisServer
const connected: Connected[] = []

beforeAll(async () => {
  server = await redisServer()
  connected.push(await nodeRedis(server.url), await ioredis(server.url))
})

afterAll(async () => {
  await Promise.all(connected.map((c) => c.close()))
  await server?.stop()
})

describe('random sequences agree with MemoryBalanceStore', () => {
  it.each([0, 1])('through client %#', async (index) => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 60 }), async (ops) => {
        const expected = await play(new MemoryBalanceStore(), ops)
        const actual = await play(connected[index]!.store({ prefix: freshPrefix() }), ops)
        expect(actual).toEqual(expected)
      }),
      { numRuns: 150 },
    )
  }, 60_000)
})
