/**
 * Redemptions of one holder that overlap: the API burns them in one order and their answers
 * reach the store in another, and a balance read may race one. Whatever the orders, the entry
 * must end at exactly what the API holds, and never offer a credit that is not there meanwhile.
 */
import type { BalanceStore, EntrySnapshot } from '../store/balance-store'
import { holds, same } from './check'
import { EMPTY, hold, K, obs, T0, type ContractCase } from './case'

/** Every order of 0..n−1. */
export function permutations(n: number): number[][] {
  if (n === 0) return [[]]
  return permutations(n - 1).flatMap((p) => Array.from({ length: n }, (_, i) => [...p.slice(0, i), n - 1, ...p.slice(i)]))
}

/**
 * Each amount reserved, committed and snapshotted (its redemption starts), burned upstream in
 * `burnOrder` (each answer is the balance right after its own burn), answered in `answerOrder`.
 * After every answer, what the store would hand out is at most what the API holds.
 */
async function overlap(s: BalanceStore, credits: number, amounts: number[], burnOrder: number[], answerOrder: number[], at: string): Promise<void> {
  await s.observe(K, obs(credits), EMPTY, T0)
  const started: EntrySnapshot[] = []
  for (const amount of amounts) {
    await s.commit(K, await hold(s, amount), amount)
    started.push(await s.snapshot(K))
  }
  let ledger = credits
  const remainingAfter: number[] = []
  for (const i of burnOrder) remainingAfter[i] = ledger -= amounts[i]!
  for (const i of answerOrder) {
    await s.settle(K, amounts[i]!, { ok: true, remainingAfter: remainingAfter[i]!, startedAt: started[i]! })
    const step = await s.snapshot(K)
    holds(step.upstream - step.pending <= ledger, `${at}: after the answer of burn ${i}, ${step.upstream - step.pending} offered with ${ledger} left upstream`)
  }
  const last = await s.snapshot(K)
  same({ upstream: last.upstream, pending: last.pending, acked: last.acked }, { upstream: ledger, pending: 0, acked: amounts.reduce((a, b) => a + b, 0) }, `${at}: the entry at the end`)
}

/** A balance read while a burn of 2 is in flight; `bought` credits land between the read and a burn after it. */
async function readDuringBurn(s: BalanceStore, burnFirst: boolean, answeredFirst: 'read' | 'burn', bought: number): Promise<number> {
  await s.observe(K, obs(10), EMPTY, T0)
  await s.commit(K, await hold(s, 2), 2)
  const burnStarted = await s.snapshot(K)
  const readStarted = await s.snapshot(K)
  let ledger = 10
  let remainingAfter = 0
  if (burnFirst) remainingAfter = ledger -= 2
  const read = ledger
  ledger += bought
  if (!burnFirst) remainingAfter = ledger -= 2
  const applyRead = () => s.observe(K, obs(read, 10), readStarted, T0 + 1)
  const applyBurn = () => s.settle(K, 2, { ok: true, remainingAfter, startedAt: burnStarted })
  if (answeredFirst === 'read') {
    await applyRead()
    await applyBurn()
  } else {
    await applyBurn()
    await applyRead()
  }
  return ledger
}

const orderName = (burnOrder: number[], answerOrder: number[]) => `burned ${burnOrder.join(',')}, answered ${answerOrder.join(',')}`

function overlapCase(amounts: number[]): ContractCase {
  return {
    name: `overlapping settles of ${amounts.join(' + ')} credits, burned and answered in every order: the entry ends at what the API holds`,
    async run(_s, { fresh }) {
      for (const burnOrder of permutations(amounts.length)) {
        for (const answerOrder of permutations(amounts.length)) await overlap(await fresh(), 10, amounts, burnOrder, answerOrder, orderName(burnOrder, answerOrder))
      }
    },
  }
}

export const OVERLAP_CASES: ContractCase[] = [
  overlapCase([1, 1]),
  overlapCase([2, 3]),
  // Three at once: an answer may already hold a burn still in flight, which answers later.
  overlapCase([1, 2, 3]),
  {
    name: 'a balance read racing one burn, in either order, answered in either order: the entry ends exact',
    async run(_s, { fresh }) {
      for (const burnFirst of [true, false]) {
        for (const answeredFirst of ['read', 'burn'] as const) {
          const s = await fresh()
          const ledger = await readDuringBurn(s, burnFirst, answeredFirst, 0)
          const last = await s.snapshot(K)
          same({ upstream: last.upstream, pending: last.pending }, { upstream: ledger, pending: 0 }, `burned ${burnFirst ? 'before' : 'after'} the read, ${answeredFirst} answered first`)
        }
      }
    },
  },
  {
    name: 'credits bought between a read and a later burn never make the entry count more than there is',
    async run(_s, { fresh }) {
      for (const answeredFirst of ['read', 'burn'] as const) {
        for (const bought of [1, 2, 3, 10]) {
          const s = await fresh()
          const ledger = await readDuringBurn(s, false, answeredFirst, bought)
          const { upstream } = await s.snapshot(K)
          holds(upstream <= ledger, `${bought} bought, ${answeredFirst} answered first: upstream ${upstream} with ${ledger} left upstream`)
        }
      }
    },
  },
]
