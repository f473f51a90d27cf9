/**
 * X402Burner on the local ledger: a settle whose answer was lost is reconciled from the balance,
 * one branch each (see #reconcile in burn-x402.ts): fallen by the amount → burned; unchanged →
 * sent again; more bought than the gate's orders explain → a top-up, burned; anything else →
 * not sent again, reported.
 */
import { describe, expect, it } from 'vitest'
import { SETTLE_FAILED } from '../src/settle/burner'
import { burnWorld, type BurnWorld } from './helpers/x402-world'

async function redeemDirectly(w: BurnWorld, amount: number): Promise<void> {
  // Another spender of the same plan: the agent redeems on its own, outside this burner.
  const res = await w.ledger.fetch(`${w.ledger.baseUrl}/protocol/plans/redeem`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${w.agent.apiKey}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ planId: w.planId, holderAddress: w.alice.address, amount, proof: crypto.randomUUID() }),
  })
  if (res.status !== 200) throw new Error(`redeem answered ${res.status}`)
}

describe('X402Burner', () => {
  it('burns with one settle, and settles the store with the remaining balance', async () => {
    const w = await burnWorld()
    const receipt = await w.x402().burn(await w.serve(2))
    expect(receipt).toMatchObject({ success: true, creditsRedeemed: '2', remainingBalance: '3' })
    expect(w.ledger.counters.settle).toBe(1)
    expect(w.burned).toEqual([{ amount: 2, remaining: 3 }])
    expect(await w.store.snapshot(w.key)).toMatchObject({ upstream: 3, pending: 0, acked: 2 })
  })

  it('answer lost, the balance fell by the amount: burned, not sent again', async () => {
    const w = await burnWorld()
    w.ledger.inject('settle', { afterApply: true, network: true })
    expect(await w.x402().burn(await w.serve(2))).toBeUndefined()
    expect(w.ledger.counters.settle).toBe(1)
    expect(w.ledger.balance(w.planId, w.alice.address).remaining).toBe(3)
    expect(w.burned).toEqual([{ amount: 2, remaining: 3 }])
    expect(w.failed).toEqual([])
    expect(await w.store.snapshot(w.key)).toMatchObject({ upstream: 3, pending: 0 })
  })

  it('answer lost, the balance unchanged: sent again, burned once', async () => {
    const w = await burnWorld()
    w.ledger.inject('settle', { status: 503 })
    const receipt = await w.x402().burn(await w.serve(2))
    expect(receipt).toMatchObject({ success: true, remainingBalance: '3' })
    expect(w.ledger.counters.settle).toBe(2)
    expect(w.ledger.balance(w.planId, w.alice.address).remaining).toBe(3)
  })

  it('credits the gate’s own order bought meanwhile are not taken for a top-up: unchanged net of them, sent again', async () => {
    let ordered = false
    const ref: { w?: BurnWorld } = {}
    const w = await burnWorld({}, {
      before: async (request) => {
        const w = ref.w
        if (w === undefined || !request.url.endsWith('/x402/settle') || ordered) return
        ordered = true
        // The gate ordered for this holder while the settle was out (its answer then lost, unapplied).
        await w.ledger.fetch(`${w.ledger.baseUrl}/protocol/plans/${w.planId}/order`, { method: 'POST', headers: { Authorization: `Bearer ${w.alice.apiKey}` } })
        w.bought.value += 5
        w.ledger.inject('settle', { status: 502 })
      },
    })
    ref.w = w
    await w.x402().burn(await w.serve(2))
    expect(w.ledger.counters.settle).toBe(2)
    expect(w.ledger.balance(w.planId, w.alice.address).remaining).toBe(5 + 5 - 2)
    expect(w.toppedUp).toEqual([])
    expect(w.failed).toEqual([])
  })

  it('answer lost, more bought than the gate’s orders explain: the settle topped up, burned, not sent again', async () => {
    const w = await burnWorld({ credits: 5 })
    await redeemDirectly(w, 4)
    await w.observe() // the store sees the 1 credit left
    w.ledger.inject('settle', { afterApply: true, status: 504 })
    // 2 served of 1 held (a commit after its reservation's lease ended: the shortfall), so the
    // ledger's settle orders the plan first (auto top-up), then burns.
    expect(await w.store.commit(w.key, 'lease-ended', 2)).toEqual({ late: true, shortfall: 1 })
    expect(await w.x402().burn(w.redemption(2))).toBeUndefined()
    expect(w.ledger.counters.settle).toBe(1)
    expect(w.ledger.balance(w.planId, w.alice.address)).toMatchObject({ total: 10, remaining: 1 + 5 - 2 })
    expect(w.burned).toEqual([{ amount: 2, remaining: 4 }])
    expect(w.toppedUp).toHaveLength(1)
    expect(w.failed).toEqual([])
  })

  it('answer lost, the balance moved otherwise (spent elsewhere meanwhile): not sent again, reported as not known', async () => {
    let spent = false
    const ref: { w?: BurnWorld } = {}
    const w = await burnWorld({}, {
      before: async (request) => {
        const w = ref.w
        if (w === undefined || !request.url.includes('/balance/') || spent || w.ledger.counters.settle === 0) return
        spent = true
        await redeemDirectly(w, 1)
      },
    })
    ref.w = w
    w.ledger.inject('settle', { afterApply: true, network: true })
    expect(await w.x402().burn(await w.serve(2))).toBe(SETTLE_FAILED)
    expect(w.ledger.counters.settle).toBe(1)
    expect(w.ledger.balance(w.planId, w.alice.address).remaining).toBe(5 - 2 - 1)
    expect(w.burned).toEqual([])
    expect(w.failed).toHaveLength(1)
    expect(w.failed[0]!.amount).toBe(2)
    expect(w.failed[0]!.error.message).toMatch(/does not tell whether it burned; it is not sent again/)
    expect(w.warnings.join('\n')).toMatch(/whether it burned is not known/)
    // Counted spent, and read again before the next settle.
    expect(await w.store.snapshot(w.key)).toMatchObject({ upstream: 3, pending: 0 })
  })

  it('a settle the API refused (a 4xx other than 408/429) burned nothing: not reconciled, not sent again, reported', async () => {
    const w = await burnWorld()
    w.ledger.inject('settle', { status: 400, times: 5 })
    expect(await w.x402().burn(await w.serve(1))).toBe(SETTLE_FAILED)
    expect(w.ledger.counters.settle).toBe(1)
    expect(w.ledger.counters.balance).toBe(1) // only burnWorld's first read
    expect(w.failed).toHaveLength(1)
  })

  it('answers lost on every attempt with the balance unchanged each time: given up after maxRetries, reported', async () => {
    const w = await burnWorld()
    w.ledger.inject('settle', { status: 503, times: 3 })
    expect(await w.x402(2).burn(await w.serve(1))).toBe(SETTLE_FAILED)
    expect(w.ledger.counters.settle).toBe(3)
    expect(w.ledger.balance(w.planId, w.alice.address).remaining).toBe(5)
    expect(w.failed[0]!.error.message).toMatch(/could not be confirmed or ruled out after 3 attempt/)
  })

  it('a token the API refuses: a holder paying by key gets a new one, once', async () => {
    const w = await burnWorld()
    w.ledger.inject('settle', { status: 401, times: 1 })
    const burner = w.x402()
    expect(await burner.burn(await w.serve(1))).toMatchObject({ success: true })
    expect(w.ledger.counters.settle).toBe(2)
    expect(w.ledger.counters.permission).toBe(2)
    // Refused again with the new one: reported, not renewed a second time.
    w.ledger.inject('settle', { status: 401, times: 2 })
    expect(await burner.burn(await w.serve(1))).toBe(SETTLE_FAILED)
    expect(w.ledger.counters.settle).toBe(4)
    expect(w.ledger.counters.permission).toBe(3)
    expect(w.failed).toHaveLength(1)
  })
})
