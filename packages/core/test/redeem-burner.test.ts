/**
 * RedeemBurner (burn-redeem.ts) on the local ledger serving the published redeem call: one proof
 * per burn, reused by every retry, so a redeem whose answer was lost is sent again safely.
 */
import { describe, expect, it } from 'vitest'
import { SETTLE_FAILED } from '../src/settle/burner'
import { burnWorld, type BurnWorld } from './helpers/x402-world'

async function recordingProofs(): Promise<{ w: BurnWorld; proofs: string[] }> {
  const proofs: string[] = []
  const w = await burnWorld({}, {
    before: async (request) => {
      if (request.url.endsWith('/plans/redeem')) proofs.push(((await request.json()) as { proof: string }).proof)
    },
  })
  return { w, proofs }
}

describe('RedeemBurner', () => {
  it('redeems with the agent’s key and settles the store with the remaining balance', async () => {
    const { w, proofs } = await recordingProofs()
    expect(await w.redeem().burn(await w.serve(2))).toBeUndefined()
    expect(proofs).toHaveLength(1)
    expect(w.burned).toEqual([{ amount: 2, remaining: 3 }])
    expect(await w.store.snapshot(w.key)).toMatchObject({ upstream: 3, pending: 0, acked: 2 })
  })

  it('answer lost after it applied, then a 5xx: retried with the same proof, redeemed once', async () => {
    const { w, proofs } = await recordingProofs()
    w.ledger.inject('redeem', { afterApply: true, network: true })
    w.ledger.inject('redeem', { status: 502 })
    expect(await w.redeem(3).burn(await w.serve(2))).toBeUndefined()
    expect(proofs).toHaveLength(3)
    expect(new Set(proofs).size).toBe(1)
    expect(w.ledger.balance(w.planId, w.alice.address).remaining).toBe(3)
    expect(w.burned).toEqual([{ amount: 2, remaining: 3 }])
  })

  it('each burn has a proof of its own', async () => {
    const { w, proofs } = await recordingProofs()
    const burner = w.redeem()
    await burner.burn(await w.serve(1))
    await burner.burn(await w.serve(1))
    expect(new Set(proofs).size).toBe(2)
    expect(w.ledger.redeemed(w.planId)).toBe(2)
  })

  it.each([401, 402, 403, 404])('a refusal (%i) is final: not retried, counted spent (read again next time), reported', async (status) => {
    const { w, proofs } = await recordingProofs()
    w.ledger.inject('redeem', { status })
    expect(await w.redeem(3).burn(await w.serve(2))).toBe(SETTLE_FAILED)
    expect(proofs).toHaveLength(1)
    expect(w.failed).toEqual([{ amount: 2, error: expect.any(Error) }])
    expect(await w.store.snapshot(w.key)).toMatchObject({ pending: 0, upstream: 3 })
    expect((await w.store.reserve(w.key, 1, Date.now(), 60_000)).ok).toBe(false) // stale: read again first
  })

  it('retryable failures on every attempt: given up after maxRetries, reported', async () => {
    const { w, proofs } = await recordingProofs()
    w.ledger.inject('redeem', { status: 503, times: 3 })
    expect(await w.redeem(2).burn(await w.serve(1))).toBe(SETTLE_FAILED)
    expect(proofs).toHaveLength(3)
    expect(w.failed).toHaveLength(1)
    expect(w.ledger.redeemed(w.planId)).toBe(0)
  })

  it('success: false is retried like an outage', async () => {
    const { w, proofs } = await recordingProofs()
    w.ledger.inject('redeem', { body: JSON.stringify({ success: false }) })
    expect(await w.redeem(2).burn(await w.serve(1))).toBeUndefined()
    expect(proofs).toHaveLength(2)
    expect(w.ledger.redeemed(w.planId)).toBe(1)
  })
})
