/**
 * The Settler (settlement.ts) with the real burners on the local ledger: what it gathers per
 * holder and plan, and, for x402 settle (no idempotency key: one settle per holder at a time),
 * how what arrives while one is in flight waits, merged. The batch window, close() and
 * maxCredits through a gate are in gate.test.ts.
 */
import { describe, expect, it, vi } from 'vitest'
import { Settler } from '../src/settle/settler'
import { burnWorld, type BurnWorld } from './helpers/x402-world'

/** Settle requests wait at a barrier the test opens; what each asked for and how many were out at once is noted. */
function barrier() {
  let open!: () => void
  let opened = new Promise<void>((resolve) => (open = resolve))
  const seen = { amounts: [] as number[], urls: [] as string[], out: 0, most: 0 }
  return {
    seen,
    open: () => open(),
    close: () => void (opened = new Promise<void>((resolve) => (open = resolve))),
    before: async (request: Request) => {
      if (!request.url.endsWith('/x402/settle') && !request.url.endsWith('/plans/redeem')) return
      const body = (await request.json()) as { maxAmount?: string; amount?: number; paymentRequired?: { resource: { url: string } } }
      seen.amounts.push(Number(body.maxAmount ?? body.amount))
      if (body.paymentRequired) seen.urls.push(body.paymentRequired.resource.url)
      seen.most = Math.max(seen.most, ++seen.out)
      await opened
      seen.out--
    },
  }
}

async function world(gate: ReturnType<typeof barrier>): Promise<BurnWorld> {
  return burnWorld({ credits: 20 }, { before: gate.before })
}

describe('Settler', () => {
  it('x402: one settle per holder and plan in flight; what arrives meanwhile waits, merged into one', async () => {
    const gate = barrier()
    const w = await world(gate)
    const settler = new Settler({ store: w.store, burner: w.x402(), batchMs: 0 })
    const first = settler.add(await w.serve(1))
    await vi.waitFor(() => expect(gate.seen.amounts).toEqual([1]))
    const waiting = [settler.add(await w.serve(2)), settler.add(await w.serve(3))]
    gate.open()
    const outcomes = await Promise.all([first, ...waiting])
    expect(gate.seen.amounts).toEqual([1, 5])
    expect(gate.seen.most).toBe(1)
    expect(outcomes.map((o) => o !== undefined && typeof o === 'object' && o.creditsRedeemed)).toEqual(['1', '5', '5'])
    expect(w.ledger.balance(w.planId, w.alice.address).remaining).toBe(20 - 6)
    expect(await w.store.snapshot(w.key)).toMatchObject({ pending: 0, acked: 6 })
  })

  it('x402: holders do not wait for each other', async () => {
    const gate = barrier()
    const w = await world(gate)
    const bob = w.ledger.createAccount({ funds: 100 })
    await w.ledger.fetch(`${w.ledger.baseUrl}/protocol/plans/${w.planId}/order`, { method: 'POST', headers: { Authorization: `Bearer ${bob.apiKey}` } })
    const bobKey = `${w.planId}:${bob.address}`
    await w.store.observe(bobKey, { remaining: 20, total: 20, expiresAt: null }, await w.store.snapshot(bobKey), Date.now())
    const held = await w.store.reserve(bobKey, 4, Date.now(), Infinity)
    if (!held.ok) throw new Error('bob could not reserve')
    await w.store.commit(bobKey, held.reservationId, 4)
    const settler = new Settler({ store: w.store, burner: w.x402(), batchMs: 0 })
    const mine = settler.add(await w.serve(1))
    const his = settler.add({ ...w.redemption(4), key: bobKey, holderAddress: bob.address, payer: { kind: 'key', apiKey: bob.apiKey } })
    await vi.waitFor(() => expect(gate.seen.out).toBe(2))
    gate.open()
    await Promise.all([mine, his])
    expect(gate.seen.amounts.sort()).toEqual([1, 4])
    expect(w.ledger.balance(w.planId, bob.address).remaining).toBe(16)
  })

  it('redeem (a proof per burn, retried safely): redemptions of one holder go in parallel, unmerged', async () => {
    const gate = barrier()
    const w = await world(gate)
    const settler = new Settler({ store: w.store, burner: w.redeem(), batchMs: 0 })
    const all = [settler.add(await w.serve(1)), settler.add(await w.serve(2))]
    await vi.waitFor(() => expect(gate.seen.out).toBe(2))
    gate.open()
    await Promise.all(all)
    expect(gate.seen.amounts.sort()).toEqual([1, 2])
    expect(w.ledger.redeemed(w.planId)).toBe(3)
  })

  it('a batch merges one holder’s credits, the latest payer and request winning; close() burns it', async () => {
    const gate = barrier()
    gate.open()
    const w = await world(gate)
    const settler = new Settler({ store: w.store, burner: w.x402(), batchMs: 60_000 })
    const a = settler.add(await w.serve(1))
    const b = settler.add({ ...(await w.serve(2)), resource: { url: 'https://api.example/latest', method: 'POST' } })
    expect(gate.seen.amounts).toEqual([])
    await settler.close()
    expect(await a).toMatchObject({ creditsRedeemed: '3' })
    expect(await b).toMatchObject({ creditsRedeemed: '3' })
    expect(gate.seen.amounts).toEqual([3])
    expect(gate.seen.urls).toEqual(['https://api.example/latest'])
  })

  it('hold(key): nothing of the holder starts until released; release is idempotent; a zero amount burns nothing', async () => {
    const gate = barrier()
    gate.open()
    const w = await world(gate)
    const settler = new Settler({ store: w.store, burner: w.x402(), batchMs: 0 })
    expect(await settler.add(w.redemption(0))).toBeUndefined()
    const release = settler.hold(w.key)
    const second = settler.hold(w.key)
    const burned = settler.add(await w.serve(2))
    release()
    release() // once only: the other hold still stops it
    // Time enough for a burn that was not held to reach the ledger (it can only hide a bug, never invent one).
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(w.ledger.counters.delegation + w.ledger.counters.settle).toBe(0)
    second()
    await burned
    expect(gate.seen.amounts).toEqual([2])
  })

  it('drain(key) burns what is gathered for that holder now, and waits for it', async () => {
    const gate = barrier()
    gate.open()
    const w = await world(gate)
    const settler = new Settler({ store: w.store, burner: w.x402(), batchMs: 60_000 })
    void settler.add(await w.serve(2))
    await settler.drain(w.key, 5_000)
    expect(gate.seen.amounts).toEqual([2])
    expect(await w.store.snapshot(w.key)).toMatchObject({ pending: 0, acked: 2 })
  })
})
