import { describe, expect, it } from 'vitest'
import { MemoryBalanceStore } from '../src/index'
import { type EntrySnapshot } from '../src/store'

const T0 = 1_700_000_000_000
const TTL = 30_000
const K = '7:0xaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'

function permutations(n: number): number[][] {
  if (n === 0) return [[]]
  return permutations(n - 1).flatMap((p) => Array.from({ length: n }, (_, i) => [...p.slice(0, i), n - 1, ...p.slice(i)]))
}

/**
 * Burns of one holder that overlap: each is committed and takes its snapshot, then the API burns
 * them in `burnOrder` (each answer tells the balance right after its own burn), and the answers
 * reach the store in `answerOrder`. The store steps are driven directly, in that order.
 */
function overlap(credits: number, amounts: number[], burnOrder: number[], answerOrder: number[]) {
  const store = new MemoryBalanceStore()
  store.observe(K, { remaining: credits, total: credits, expiresAt: null }, store.snapshot(K), T0)
  const started: EntrySnapshot[] = amounts.map((amount) => {
    const reserved = store.reserve(K, amount, T0, TTL)
    if (!reserved.ok) throw new Error(`expected ${amount} reserved`)
    store.commit(K, reserved.reservationId, amount)
    return store.snapshot(K)
  })
  let ledger = credits
  const remainingAfter: number[] = []
  for (const i of burnOrder) remainingAfter[i] = ledger -= amounts[i]!
  const seen: { upstream: number; pending: number }[] = []
  for (const i of answerOrder) {
    store.settle(K, amounts[i]!, { ok: true, remainingAfter: remainingAfter[i]!, startedAt: started[i]! })
    seen.push(store.snapshot(K))
  }
  return { ledger, seen, last: store.snapshot(K) }
}

describe('settles of one holder that overlap, answered in any order', () => {
  for (const amounts of [
    [1, 1],
    [2, 3],
  ]) {
    it(`${amounts.join(' + ')} credits: upstream ends at what the API holds, and never offers a credit that is not there`, () => {
      const orders = permutations(amounts.length)
      for (const burnOrder of orders) {
        for (const answerOrder of orders) {
          const { ledger, seen, last } = overlap(10, amounts, burnOrder, answerOrder)
          const at = `burned ${burnOrder.join(',')}, answered ${answerOrder.join(',')}`
          expect(last, at).toMatchObject({ upstream: ledger, pending: 0, acked: amounts.reduce((a, b) => a + b, 0) })
          // What is still in flight is held in pending: what the store hands out never exceeds what is left.
          for (const step of seen) expect(step.upstream - step.pending, at).toBeLessThanOrEqual(ledger)
        }
      }
    })
  }

  // Three at once: an answer may already hold a burn still in flight, which answers later.
  it('1 + 2 + 3 credits: upstream ends at what the API holds, and never offers a credit that is not there', () => {
    const orders = permutations(3)
    for (const burnOrder of orders) {
      for (const answerOrder of orders) {
        const { ledger, seen, last } = overlap(10, [1, 2, 3], burnOrder, answerOrder)
        const at = `burned ${burnOrder.join(',')}, answered ${answerOrder.join(',')}`
        expect(last, at).toMatchObject({ upstream: ledger, pending: 0, acked: 6 })
        for (const step of seen) expect(step.upstream - step.pending, at).toBeLessThanOrEqual(ledger)
      }
    }
  })

  it('the reported case: the first burned answers first, the second then counts it again no more', () => {
    const { ledger, last } = overlap(3, [1, 1], [0, 1], [0, 1])
    expect(ledger).toBe(1)
    expect(last.upstream).toBe(1)
  })

  it('a balance that moved upstream for other reasons (another gate burned) is still taken from the answer', () => {
    const store = new MemoryBalanceStore()
    store.observe(K, { remaining: 10, total: 10, expiresAt: null }, store.snapshot(K), T0)
    const r = store.reserve(K, 2, T0, TTL)
    if (!r.ok) throw new Error('expected reserved')
    store.commit(K, r.reservationId, 2)
    const startedAt = store.snapshot(K)
    store.settle(K, 2, { ok: true, remainingAfter: 5, startedAt }) // 3 burned elsewhere
    expect(store.snapshot(K).upstream).toBe(5)
    const r2 = store.reserve(K, 1, T0, TTL)
    if (!r2.ok) throw new Error('expected reserved')
    store.commit(K, r2.reservationId, 1)
    store.settle(K, 1, { ok: true, remainingAfter: 9, startedAt: store.snapshot(K) }) // topped up
    expect(store.snapshot(K).upstream).toBe(9)
  })
})

/**
 * A balance read while a burn is in flight (the gate reads before it orders): the read may hold
 * the burn or not, and the burn's answer tells which.
 */
describe('a balance read while a burn is in flight', () => {
  function readDuringBurn(burnFirst: boolean, boughtBetween = 0, answeredFirst: 'read' | 'burn' = 'read') {
    const store = new MemoryBalanceStore()
    store.observe(K, { remaining: 10, total: 10, expiresAt: null }, store.snapshot(K), T0)
    const r = store.reserve(K, 2, T0, TTL)
    if (!r.ok) throw new Error('expected reserved')
    store.commit(K, r.reservationId, 2)
    const burnStarted = store.snapshot(K)
    const readStarted = store.snapshot(K)
    let ledger = 10
    let remainingAfter = 0
    if (burnFirst) remainingAfter = ledger -= 2
    const read = ledger
    ledger += boughtBetween
    if (!burnFirst) remainingAfter = ledger -= 2
    const applyRead = () => store.observe(K, { remaining: read, total: 10, expiresAt: null }, readStarted, T0 + 1)
    const applyBurn = () => store.settle(K, 2, { ok: true, remainingAfter, startedAt: burnStarted })
    if (answeredFirst === 'read') {
      applyRead()
      applyBurn()
    } else {
      applyBurn()
      applyRead()
    }
    return { ledger, last: store.snapshot(K) }
  }

  it('the burn was in the read: not taken off again', () => {
    const { ledger, last } = readDuringBurn(true)
    expect(last).toMatchObject({ upstream: ledger, pending: 0 })
  })

  it('the burn came after the read: taken off', () => {
    const { ledger, last } = readDuringBurn(false)
    expect(last).toMatchObject({ upstream: ledger, pending: 0 })
  })

  it('credits bought between the read and a later burn never make it count more than there is', () => {
    for (const answeredFirst of ['read', 'burn'] as const) {
      for (const bought of [1, 2, 3, 10]) {
        const { ledger, last } = readDuringBurn(false, bought, answeredFirst)
        expect(last.upstream, `${bought} bought, ${answeredFirst} answered first`).toBeLessThanOrEqual(ledger)
      }
    }
  })

  it('the burn answered while the read was out: in the read, it is not taken off again; after it, it is', () => {
    for (const burnFirst of [true, false]) {
      const { ledger, last } = readDuringBurn(burnFirst, 0, 'burn')
      expect(last, `burned ${burnFirst ? 'before' : 'after'} the read`).toMatchObject({ upstream: ledger, pending: 0 })
    }
  })
})
