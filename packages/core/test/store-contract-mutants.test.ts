/**
 * The contract can fail: stores each broken in one step (test/helpers/step-store.ts) must each
 * fail some case, and every case must be failed by some broken store. The unbroken step store
 * keeps the whole contract, so what fails is the break.
 */
import { describe, expect, it } from 'vitest'
import { type BalanceStore } from '../src/index'
import { available, commitTo, countOrder, observeOn, reserveFrom, settleOn, snapshotOf, sweepLeases, type BalanceEntry, type Settlement } from '../src/store'
import { CONTRACT_CASES, storeContractChecks, type StoreUnderTest } from '../src/testing/index'
import { stepStore, type StepStoreOptions, type Steps } from './helpers/step-store'

/** settleOn with its rule for an answer of the same epoch replaced. */
const settleSameEpoch =
  (rule: (entry: BalanceEntry, amount: number, word: number, lowest: number, highest: number) => number) =>
  (entry: BalanceEntry, amount: number, settlement: Settlement) => {
    if (!settlement.ok || settlement.startedAt.epoch !== entry.epoch) return settleOn(entry, amount, settlement)
    entry.pending -= amount
    const word = settlement.remainingAfter
    entry.upstream = rule(entry, amount, word, word - (entry.acked - settlement.startedAt.acked), word + entry.pending)
    entry.lastAckFrom = entry.acked
    entry.lastAckWord = word
    entry.acked += amount
  }

interface Mutant {
  name: string
  steps?: Partial<Steps>
  options?: StepStoreOptions
  exclusiveOrderLock?: boolean
}

const MUTANTS: Mutant[] = [
  { name: 'stale 1 ms early', steps: { reserve: (e, c, now, ttl, id, end) => reserveFrom(e, c, now, ttl - 1, id, end) } },
  {
    name: 'refuses exactly what is left',
    steps: { reserve: (e, c, now, ttl, id, end) => (e && c > 0 && e.observedAt !== 0 && available(e, now) === c ? { ok: false, reason: 'insufficient', remaining: c } : reserveFrom(e, c, now, ttl, id, end)) },
  },
  {
    name: 'grants more than is left',
    steps: { reserve: (e, c, now, ttl, id, end) => reserveFrom(e, c > 1 ? c - 1 : c, now, ttl, id, end) },
  },
  {
    name: 'a cost of 0 names a reservation',
    steps: { reserve: (e, c, now, ttl, id, end) => { const r = reserveFrom(e, c, now, ttl, id, end); return r.ok && c === 0 ? { ...r, reservationId: 'zero' } : r } },
  },
  {
    name: 'expiry ignored',
    steps: { reserve: (e, c, now, ttl, id, end) => reserveFrom(e, c, e?.expiresAt != null ? Math.min(now, e.expiresAt - 1) : now, ttl, id, end) },
  },
  { name: 'one entry for every key', steps: { keyOf: () => 'one' } },
  { name: 'a release of what is not held gives a credit back', steps: { release: (e, id) => { if (!e.leases.delete(id)) e.reserved -= 1; else e.reserved = [...e.leases.values()].reduce((a, l) => a + l.credits, 0) } } },
  { name: 'commit burns the whole cost', steps: { commit: (e, id, cost, _served, at) => commitTo(e, id, cost, undefined, at) } },
  { name: 'a late commit has no shortfall', steps: { commit: (e, id, cost, served, at) => ({ ...commitTo(e, id, cost, served, at), shortfall: 0 }) } },
  { name: 'a commit on no entry is on time', steps: { commitNowhere: () => ({ late: false, shortfall: 0 }) } },
  { name: 'integers kept to 14 digits', steps: { snapshot: (e) => { const s = snapshotOf(e); return { ...s, upstream: Number(s.upstream.toPrecision(14)) } } } },
  { name: 'reserve is not atomic', options: { yieldInReserve: true } },
  { name: 'settle trusts the word', steps: { settle: settleSameEpoch((_e, _a, word) => word) } },
  { name: 'settle takes the lowest bound', steps: { settle: settleSameEpoch((_e, _a, _w, lowest) => lowest) } },
  { name: 'settle takes the highest bound', steps: { settle: settleSameEpoch((_e, _a, _w, _l, highest) => highest) } },
  { name: 'settle ignores the word', steps: { settle: settleSameEpoch((e, amount) => e.upstream - amount) } },
  {
    name: 'settle after a read always takes the amount off',
    steps: { settle: (e, amount, s) => { const raced = s.ok && s.startedAt.epoch !== e.epoch; settleOn(e, amount, s); if (raced && !(s.ok && s.remainingAfter < (e.observed ?? Infinity))) e.upstream -= amount } },
  },
  { name: 'a failed settle keeps the entry fresh', steps: { settle: (e, amount, s) => { const at = e.observedAt; settleOn(e, amount, s); e.observedAt = at } } },
  { name: 'observe ignores what was acked meanwhile', steps: { observe: (e, o, started, now) => observeOn(e, o, { ...started, acked: e.acked }, now) } },
  {
    name: 'observe always takes the last answer as in the read',
    steps: { observe: (e, o, started, now) => { e.lastAckFrom = started.acked; e.lastAckWord ??= o.remaining; e.lastAckWord = Math.max(e.lastAckWord, o.remaining); observeOn(e, o, started, now) } },
  },
  { name: 'observe keeps a total it no longer says', steps: { observe: (e, o, started, now) => observeOn(e, { ...o, total: o.total ?? e.total }, started, now) } },
  { name: 'observe leaves the epoch', steps: { observe: (e, o, started, now) => { const epoch = e.epoch; observeOn(e, o, started, now); e.epoch = epoch === 0 ? 1 : epoch } } },
  { name: 'spend guard window 1 ms long', steps: { countOrder: (times, now, windowMs, max) => countOrder(times, now, windowMs + 1, max) } },
  { name: 'spend guard off by one', steps: { countOrder: (times, now, windowMs, max) => countOrder(times, now, windowMs, max + 1) } },
  { name: 'order lock never granted', steps: { lockOrder: () => undefined } },
  { name: 'a shared store whose order lock excludes nothing', exclusiveOrderLock: true },
  { name: 'leases end 1 ms late', steps: { sweep: (e, at) => sweepLeases(e, at - 1) } },
  { name: 'leases end 1 ms early', steps: { sweep: (e, at) => sweepLeases(e, at + 1) } },
  { name: 'leases never end', steps: { sweep: () => false } },
]

function subject(mutant: Mutant): StoreUnderTest {
  return {
    name: mutant.name,
    create: (): BalanceStore => stepStore(mutant.steps, mutant.options),
    createWithClock: (options): BalanceStore => stepStore(mutant.steps, { ...mutant.options, ...options }),
    exclusiveOrderLock: mutant.exclusiveOrderLock,
  }
}

/** The names of the cases `s` fails. */
async function failed(s: StoreUnderTest): Promise<string[]> {
  const names: string[] = []
  for (const check of storeContractChecks(s)) await check.run().catch(() => names.push(check.name))
  return names
}

describe('the store contract catches broken stores', () => {
  it('the unbroken step store keeps it', async () => {
    expect(await failed(subject({ name: 'unbroken' }))).toEqual([])
  })

  const caught = new Set<string>()
  it.each(MUTANTS.map((m) => [m.name, m] as const))('%s: fails some case', async (_name, mutant) => {
    const names = await failed(subject(mutant))
    expect(names.length).toBeGreaterThan(0)
    for (const name of names) caught.add(name)
  })

  it('an answer no case checks field by field is still compared with the memory store, call by call', async () => {
    // The overlap cases check only upstream, pending and acked themselves: the extra field is
    // caught by the transcript alone.
    const chatty = subject({ name: 'snapshot says more', steps: { snapshot: (e) => ({ ...snapshotOf(e), note: 1 }) as ReturnType<typeof snapshotOf> } })
    expect(await failed(chatty)).toContain('overlapping settles of 1 + 1 credits, burned and answered in every order: the entry ends at what the API holds')
  })

  // After the mutants above (a file's tests run in order).
  it('every case is failed by some broken store', () => {
    expect(CONTRACT_CASES.map((c) => c.name).filter((name) => !caught.has(name))).toEqual([])
  })
})
