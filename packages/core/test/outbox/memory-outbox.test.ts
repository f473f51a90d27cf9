/**
 * MemoryOutboxStore's steps, case for case those packages/redis/test/outbox.test.ts runs against a
 * real redis-server (the two must mean the same), with its clock moved by hand instead of slept.
 */
import { describe, expect, it } from 'vitest'
import { isOutbox, MemoryOutboxStore } from '../../src/store'

const K = '7:0x00000000000000000000000000000000000000bb'
const A = 'owner-a'
const B = 'owner-b'

function clocked(options: { ownerLeaseMs?: number; entryTtlMs?: number; reservationLeaseMs?: number } = {}) {
  let time = 1_000_000
  const store = new MemoryOutboxStore({ now: () => time, ...options })
  return { store, advance: (ms: number) => void (time += ms), now: () => time }
}

/** An entry holding 10 credits, with one reservation of each of `costs`: their ids. */
async function entry(store: MemoryOutboxStore, now: number, ...costs: number[]): Promise<string[]> {
  await store.observe(K, { remaining: 10, total: 10, expiresAt: null }, await store.snapshot(K), now)
  const ids: string[] = []
  for (const cost of costs) {
    const outcome = await store.reserve(K, cost, now, 60_000)
    if (!outcome.ok) throw new Error(`expected ${cost} reserved, got ${outcome.reason}`)
    ids.push(outcome.reservationId)
  }
  return ids
}

describe('MemoryOutboxStore', () => {
  it('is an outbox', () => {
    expect(isOutbox(new MemoryOutboxStore())).toBe(true)
  })

  it('commitRecorded commits and records in one step; it asks for a record of who pays until one is written', async () => {
    const { store: s, now } = clocked()
    const [two, one] = await entry(s, now(), 2, 1)
    expect(await s.commitRecorded(K, two!, 2, A, undefined)).toEqual({ hasRecord: false, late: false, shortfall: 0 })
    await s.writeRecord(K, A, 'sealed-a')
    expect(await s.commitRecorded(K, one!, 1, A, undefined)).toEqual({ hasRecord: true, late: false, shortfall: 0 })
    const snap = await s.snapshot(K)
    expect([snap.reserved, snap.pending]).toEqual([0, 3])
    expect(await s.readRecord(K, A)).toMatchObject({ record: 'sealed-a', recorded: 3, inFlight: 0, baseline: undefined })
    expect(await s.readRecord(K, B)).toBeUndefined()
  })

  it('startRedemption moves recorded credits in flight with the baseline; refuses while the order lock is held; says when they are gone or lost', async () => {
    const { store: s, now } = clocked()
    expect(await s.startRedemption(K, 1, A)).toBe('lost')
    const [three] = await entry(s, now(), 3)
    await s.commitRecorded(K, three!, 3, A, 'sealed-a')
    const lock = await s.lockOrder(K, 5_000)
    expect(await s.lockOrder(K, 5_000)).toBeUndefined()
    expect(await s.startRedemption(K, 2, A)).toBe('wait')
    await lock!.release()
    expect(await s.startRedemption(K, 2, A)).toBe('started')
    expect(await s.readRecord(K, A)).toMatchObject({ record: 'sealed-a', recorded: 1, inFlight: 2, baseline: { upstream: 10, acked: 0, total: 10 } })
    expect(await s.startRedemption(K, 2, A)).toBe('gone')
    expect(await s.redemptionsInFlight(K)).toBe(2)
  })

  it('an order lock nobody released ends with its ttl, by the store’s clock', async () => {
    const { store: s, advance } = clocked()
    const lock = await s.lockOrder(K, 1_000)
    advance(999)
    expect(await s.lockOrder(K, 1_000)).toBeUndefined()
    advance(1)
    const next = await s.lockOrder(K, 1_000)
    expect(next).toBeDefined()
    // The first holder's release, late, does not free the next one's lock.
    await lock!.release()
    expect(await s.lockOrder(K, 1_000)).toBeUndefined()
  })

  it('settleRecorded settles the entry and drops the credits in flight; an owner with fewer in flight changes nothing', async () => {
    const { store: s, now } = clocked()
    const [three] = await entry(s, now(), 3)
    await s.commitRecorded(K, three!, 3, A, 'sealed-a')
    await s.startRedemption(K, 3, A)
    const startedAt = await s.snapshot(K)
    expect(await s.settleRecorded(K, 3, { ok: true, remainingAfter: 7, startedAt }, B)).toBe(false)
    expect((await s.snapshot(K)).pending).toBe(3)
    expect(await s.settleRecorded(K, 3, { ok: true, remainingAfter: 7, startedAt }, A)).toBe(true)
    const after = await s.snapshot(K)
    expect([after.pending, after.acked, after.upstream]).toEqual([0, 3, 7])
    expect(await s.readRecord(K, A)).toMatchObject({ record: 'sealed-a', recorded: 0, inFlight: 0, baseline: undefined })
    expect(await s.redemptionsInFlight(K)).toBe(0)
    expect(await s.settleRecorded(K, 1, { ok: false }, A)).toBe(false)
  })

  it('counts every owner’s credits in flight', async () => {
    const { store: s, now } = clocked()
    const [two, three] = await entry(s, now(), 2, 3)
    await s.commitRecorded(K, two!, 2, A, 'a')
    await s.commitRecorded(K, three!, 3, B, 'b')
    await s.startRedemption(K, 2, A)
    await s.startRedemption(K, 1, B)
    expect(await s.redemptionsInFlight(K)).toBe(3)
  })

  it('an owner’s lease: not claimable while renewed; claimed once after it lapses, by one claimant; the earliest lapsed first', async () => {
    const { store: s, advance, now } = clocked({ ownerLeaseMs: 1_000 })
    await s.renewOwner(A, now())
    advance(10)
    await s.renewOwner(B, now())
    advance(1_000)
    // A lapsed 10 ms ago; B exactly now, which is not yet lapsed.
    expect(await s.claimLapsedOwner(now())).toBe(A)
    expect(await s.claimLapsedOwner(now())).toBeUndefined()
    advance(1)
    expect(await s.claimLapsedOwner(now())).toBe(B)
    // A claimed owner's lease runs for its claimant: it lapses again if the claimant dies too.
    advance(1_000)
    expect(await s.claimLapsedOwner(now())).toBe(A)
    await s.dropOwner(A)
    await s.dropOwner(B)
    advance(5_000)
    expect(await s.claimLapsedOwner(now())).toBeUndefined()
  })

  it('adopt moves a dead owner’s recorded and in-flight credits to the adopter, with its record of who pays', async () => {
    const { store: s, now } = clocked()
    const [five] = await entry(s, now(), 5)
    await s.indexKey(A, K)
    expect(await s.ownerKeys(A)).toEqual([K])
    await s.commitRecorded(K, five!, 5, A, 'sealed-a')
    await s.startRedemption(K, 2, A)
    expect(await s.adopt(K, A, B)).toBe(5)
    expect(await s.readRecord(K, A)).toBeUndefined()
    expect(await s.readRecord(K, B)).toMatchObject({ record: 'sealed-a', recorded: 5, inFlight: 0, baseline: undefined })
    expect(await s.adopt(K, A, B)).toBe(0)
    // The dead owner's own burn, if it ever comes back, finds its credits gone.
    expect(await s.startRedemption(K, 1, A)).toBe('gone')
    expect(await s.settleRecorded(K, 2, { ok: false }, A)).toBe(false)
    expect((await s.snapshot(K)).pending).toBe(5)
    await s.dropOwner(A)
    expect(await s.ownerKeys(A)).toEqual([])
  })

  it('the adopter keeps its own record of who pays', async () => {
    const { store: s, now } = clocked()
    const [one, two] = await entry(s, now(), 1, 1)
    await s.commitRecorded(K, one!, 1, A, 'sealed-a')
    await s.commitRecorded(K, two!, 1, B, 'sealed-b')
    expect(await s.adopt(K, A, B)).toBe(1)
    expect(await s.readRecord(K, B)).toMatchObject({ record: 'sealed-b', recorded: 2 })
  })

  it('reservations count as their owner’s until committed or released; adopting a dead owner gives its reservations back', async () => {
    const { store: s, now } = clocked()
    await entry(s, now())
    const ofA: string[] = []
    for (let i = 0; i < 4; i++) {
      const outcome = await s.reserveRecorded(K, 1, now(), 60_000, A)
      if (outcome.ok) ofA.push(outcome.reservationId)
    }
    expect(ofA).toHaveLength(4)
    expect((await s.reserveRecorded(K, 2, now(), 60_000, B)).ok).toBe(true)
    await s.release(K, ofA[0]!)
    await s.commitRecorded(K, ofA[1]!, 1, A, 'sealed-a')
    expect(await s.readRecord(K, A)).toMatchObject({ reserved: 2, recorded: 1 })
    expect(await s.readRecord(K, B)).toMatchObject({ reserved: 2, recorded: 0, record: '' })
    expect((await s.snapshot(K)).reserved).toBe(4)
    // A dies serving two requests: they are given back, what it served moves on.
    expect(await s.adopt(K, A, B)).toBe(1)
    const after = await s.snapshot(K)
    expect([after.reserved, after.pending]).toEqual([2, 1])
    expect(await s.readRecord(K, A)).toBeUndefined()
    // A was alive after all: its releases and late commit give nothing back twice.
    await s.release(K, ofA[2]!)
    expect((await s.snapshot(K)).reserved).toBe(2)
    expect(await s.commitRecorded(K, ofA[3]!, 1, A, undefined)).toMatchObject({ late: true, shortfall: 0 })
    const left = await s.reserve(K, 1, now(), 60_000)
    expect(left.ok && left.remaining).toBe(10 - 2 - 1 - 1 - 1)
  })

  it('a reservation whose lease ended no longer counts as its owner’s', async () => {
    const { store: s, advance, now } = clocked({ reservationLeaseMs: 1_000 })
    await entry(s, now())
    await s.reserveRecorded(K, 3, now(), 60_000, A)
    expect(await s.readRecord(K, A)).toMatchObject({ reserved: 3 })
    advance(1_000)
    expect(await s.readRecord(K, A)).toBeUndefined()
    expect((await s.snapshot(K)).reserved).toBe(0)
  })

  it('an idle outbox is forgotten after entryTtlMs (records of who pays too); one holding credits is not', async () => {
    const { store: s, advance, now } = clocked({ entryTtlMs: 1_000 })
    const [two, one] = await entry(s, now(), 2, 1)
    await s.commitRecorded(K, two!, 2, A, 'sealed-a')
    advance(5_000)
    expect(await s.readRecord(K, A)).toMatchObject({ record: 'sealed-a', recorded: 2 })
    await s.startRedemption(K, 2, A)
    await s.settleRecorded(K, 2, { ok: false }, A)
    advance(999)
    expect(await s.readRecord(K, A)).toMatchObject({ record: 'sealed-a', recorded: 0 })
    advance(1)
    expect(await s.readRecord(K, A)).toBeUndefined()
    // The keeper is told to write its record again.
    expect(await s.commitRecorded(K, one!, 1, A, undefined)).toMatchObject({ hasRecord: false })
  })

  it('bad options throw at creation, naming the option', () => {
    expect(() => new MemoryOutboxStore({ ownerLeaseMs: 10 })).toThrow(/"ownerLeaseMs"/)
    expect(() => new MemoryOutboxStore({ ownerLeaseMs: 1.5 })).toThrow(/"ownerLeaseMs"/)
    expect(() => new MemoryOutboxStore({ entryTtlMs: 0 })).toThrow(/"entryTtlMs"/)
    expect(() => new MemoryOutboxStore({ max: -1 })).toThrow(/"max"/)
    expect(() => new MemoryOutboxStore({ now: 5 as unknown as () => number })).toThrow(/"now"/)
    expect(() => new MemoryOutboxStore({ reservationLeaseMs: 0 })).toThrow(/"reservationLeaseMs"/)
    expect(() => new MemoryOutboxStore({ ownerLease: 1_000 } as never)).toThrow(/unknown option "ownerLease"/)
    expect(new MemoryOutboxStore().ownerLeaseMs).toBe(30_000)
  })
})
