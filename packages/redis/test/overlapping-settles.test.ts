/**
 * Settles of one holder that overlap and answer out of order, on a real redis-server: the Lua
 * step keeps the entry's `upstream` where the memory store's does (core: entry-steps.ts).
 */
import { MemoryBalanceStore, type BalanceStore } from '@plangate/core'
import { type EntrySnapshot } from '@plangate/core/store'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freshPrefix, nodeRedis, type Connected } from './clients'
import { redisServer, type RedisServer } from './redis-server'

const K = '7:0x00000000000000000000000000000000000000aa'

let server: RedisServer
let redis: Connected

beforeAll(async () => {
  server = await redisServer()
  redis = await nodeRedis(server.url)
})

afterAll(async () => {
  await redis?.close()
  await server?.stop()
})

function permutations(n: number): number[][] {
  if (n === 0) return [[]]
  return permutations(n - 1).flatMap((p) => Array.from({ length: n }, (_, i) => [...p.slice(0, i), n - 1, ...p.slice(i)]))
}

/** Each burn committed and snapshotted, burned upstream in `burnOrder`, answered in `answerOrder`. */
async function overlap(store: BalanceStore, amounts: number[], burnOrder: number[], answerOrder: number[]) {
  const now = Date.now()
  await store.observe(K, { remaining: 10, total: 10, expiresAt: null }, await store.snapshot(K), now)
  const started: EntrySnapshot[] = []
  for (const amount of amounts) {
    const reserved = await store.reserve(K, amount, now, 30_000)
    if (!reserved.ok) throw new Error(`expected ${amount} reserved`)
    await store.commit(K, reserved.reservationId, amount)
    started.push(await store.snapshot(K))
  }
  let ledger = 10
  const remainingAfter: number[] = []
  for (const i of burnOrder) remainingAfter[i] = ledger -= amounts[i]!
  for (const i of answerOrder) await store.settle(K, amounts[i]!, { ok: true, remainingAfter: remainingAfter[i]!, startedAt: started[i]! })
  return { ledger, last: await store.snapshot(K) }
}

describe('overlapping settles on Redis', () => {
  it('two, burned and answered in either order: upstream ends at what the API holds', async () => {
    for (const burnOrder of permutations(2)) {
      for (const answerOrder of permutations(2)) {
        const { ledger, last } = await overlap(redis.store({ prefix: freshPrefix() }), [2, 3], burnOrder, answerOrder)
        expect(last, `burned ${burnOrder.join(',')}, answered ${answerOrder.join(',')}`).toMatchObject({ upstream: ledger, pending: 0, acked: 5 })
      }
    }
  })

  it('three, in every order: the same entry as the memory store, upstream at what the API holds', async () => {
    for (const burnOrder of permutations(3)) {
      for (const answerOrder of permutations(3)) {
        const at = `burned ${burnOrder.join(',')}, answered ${answerOrder.join(',')}`
        const onRedis = await overlap(redis.store({ prefix: freshPrefix() }), [1, 2, 3], burnOrder, answerOrder)
        const inMemory = await overlap(new MemoryBalanceStore(), [1, 2, 3], burnOrder, answerOrder)
        expect(onRedis.last, at).toEqual(inMemory.last)
        expect(onRedis.last.upstream, at).toBe(onRedis.ledger)
      }
    }
  })

  it('a balance read racing a burn, answered in either order: the same entry as the memory store, exact', async () => {
    for (const burnFirst of [true, false]) {
      for (const answeredFirst of ['read', 'burn'] as const) {
        const at = `burned ${burnFirst ? 'before' : 'after'} the read, ${answeredFirst} answered first`
        const onRedis = await readDuringBurn(redis.store({ prefix: freshPrefix() }), burnFirst, answeredFirst)
        const inMemory = await readDuringBurn(new MemoryBalanceStore(), burnFirst, answeredFirst)
        expect(onRedis.last, at).toEqual(inMemory.last)
        expect(onRedis.last.upstream, at).toBe(onRedis.ledger)
      }
    }
  })
})

/** A burn of 2 and a balance read both out at once; the read holds the burn when it burned first. */
async function readDuringBurn(store: BalanceStore, burnFirst: boolean, answeredFirst: 'read' | 'burn') {
  const now = Date.now()
  await store.observe(K, { remaining: 10, total: 10, expiresAt: null }, await store.snapshot(K), now)
  const reserved = await store.reserve(K, 2, now, 30_000)
  if (!reserved.ok) throw new Error('expected 2 reserved')
  await store.commit(K, reserved.reservationId, 2)
  const startedAt = await store.snapshot(K)
  const ledger = 8
  const read = burnFirst ? 8 : 10
  const applyRead = () => store.observe(K, { remaining: read, total: 10, expiresAt: null }, startedAt, now + 1)
  const applyBurn = () => store.settle(K, 2, { ok: true, remainingAfter: 8, startedAt })
  for (const step of answeredFirst === 'read' ? [applyRead, applyBurn] : [applyBurn, applyRead]) await step()
  return { ledger, last: await store.snapshot(K) }
}
