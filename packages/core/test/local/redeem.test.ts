import { describe, expect, it } from 'vitest'
import { redeemResponseSchema } from '../../src/schemas'
import { setup } from './helpers'

/** A setup where alice holds 2 credits of the plan. */
async function subscribed() {
  const s = setup()
  await s.order(s.alice.apiKey)
  return { ...s, claim: (amount: number, proof: string) => ({ planId: s.planId, holderAddress: s.alice.address, amount, proof }) }
}

describe('POST /protocol/plans/redeem', () => {
  it("subtracts the credits with the owner's key", async () => {
    const { ledger, owner, alice, planId, redeem, claim } = await subscribed()
    const res = await redeem(owner.apiKey, claim(1, 'lease-1'))

    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('application/json')
    const body = await res.json()
    expect(body).toEqual({ success: true, creditsRedeemed: 1, remainingBalance: 1 })
    expect(redeemResponseSchema.safeParse(body).success).toBe(true)
    expect(ledger.balance(planId, alice.address)).toMatchObject({ used: 1, remaining: 1 })
    expect(ledger.redeemed(planId)).toBe(1)
  })

  it('accepts the plan id as an integer', async () => {
    const { owner, alice, planId, redeem } = await subscribed()
    const res = await redeem(owner.apiKey, { planId: Number(planId), holderAddress: alice.address, amount: 2, proof: 'x' })
    expect(await res.json()).toEqual({ success: true, creditsRedeemed: 2, remainingBalance: 0 })
  })

  it("answers 401 to any key but the plan owner's, and subtracts nothing", async () => {
    const { ledger, alice, planId, redeem, claim } = await subscribed()
    const stranger = ledger.createAccount()
    for (const key of [alice.apiKey, stranger.apiKey, 'nvm:forged']) {
      const res = await redeem(key, claim(1, `by-${key.length}`))
      expect(res.status).toBe(401)
      expect(await res.text()).not.toContain(key)
    }
    expect(ledger.balance(planId, alice.address).remaining).toBe(2)
    expect(ledger.redeemed()).toBe(0)
  })

  it('answers 402 when the holder has too few credits, and subtracts nothing', async () => {
    const { ledger, owner, alice, planId, redeem, claim } = await subscribed()
    const res = await redeem(owner.apiKey, claim(3, 'too-much'))
    expect(res.status).toBe(402)
    expect(await res.json()).toEqual({ message: expect.any(String) })
    expect(ledger.balance(planId, alice.address).remaining).toBe(2)
  })

  it('answers 402 for a holder who never ordered', async () => {
    const { ledger, owner, planId, redeem } = await subscribed()
    const bob = ledger.createAccount()
    const res = await redeem(owner.apiKey, { planId, holderAddress: bob.address, amount: 1, proof: 'p' })
    expect(res.status).toBe(402)
  })

  it('answers 402 once the credits expired, although the raw remainder is still there', async () => {
    const { ledger, owner, alice, clock, order, redeem } = setup()
    const plan = ledger.createPlan({ credits: 5, price: 1, owner: owner.address, durationSeconds: 1 })
    await order(alice.apiKey, plan)
    const claim = (proof: string) => ({ planId: plan, holderAddress: alice.address, amount: 1, proof })
    clock.advance(999)
    expect((await redeem(owner.apiKey, claim('before'))).status).toBe(200)
    clock.advance(1)
    expect((await redeem(owner.apiKey, claim('after'))).status).toBe(402)
    expect(ledger.balance(plan, alice.address).remaining).toBe(4)
  })

  it('answers 404 for an unknown plan', async () => {
    const { owner, alice, redeem } = await subscribed()
    expect((await redeem(owner.apiKey, { planId: '77', holderAddress: alice.address, amount: 1, proof: 'p' })).status).toBe(404)
  })

  it('applies a proof once: a retry answers the same success without subtracting again', async () => {
    const { ledger, owner, alice, planId, redeem, claim } = await subscribed()
    const first = await (await redeem(owner.apiKey, claim(1, 'lease-7'))).json()
    const retry = await redeem(owner.apiKey, claim(1, 'lease-7'))

    expect(retry.status).toBe(200)
    expect(await retry.json()).toEqual(first)
    expect(ledger.balance(planId, alice.address).remaining).toBe(1)
    expect(ledger.redeemed(planId)).toBe(1)

    // A new proof is a new redemption.
    expect(await (await redeem(owner.apiKey, claim(1, 'lease-8'))).json()).toEqual({
      success: true,
      creditsRedeemed: 1,
      remainingBalance: 0,
    })
    // The retry still succeeds once the credits are gone: it was applied long ago.
    expect((await redeem(owner.apiKey, claim(1, 'lease-7'))).status).toBe(200)
    expect(ledger.redeemed(planId)).toBe(2)
  })

  it('keeps proofs per plan', async () => {
    const { ledger, owner, alice, planId, order, redeem, claim } = await subscribed()
    const other = ledger.createPlan({ credits: 2, price: 1, owner: owner.address })
    await order(alice.apiKey, other)
    await redeem(owner.apiKey, claim(1, 'same'))
    await redeem(owner.apiKey, { planId: other, holderAddress: alice.address, amount: 1, proof: 'same' })
    expect(ledger.redeemed(planId)).toBe(1)
    expect(ledger.redeemed(other)).toBe(1)
    expect(ledger.redeemed()).toBe(2)
  })

  it('answers 409 when a proof comes back with another amount or holder', async () => {
    const { ledger, owner, alice, planId, redeem, claim } = await subscribed()
    await redeem(owner.apiKey, claim(1, 'lease-1'))
    expect((await redeem(owner.apiKey, claim(2, 'lease-1'))).status).toBe(409)
    expect(ledger.balance(planId, alice.address).remaining).toBe(1)
  })

  const holder = '0x' + 'ab'.repeat(20)
  it.each([
    ['a body that is not JSON', '{"planId":'],
    ['an empty body', ''],
    ['an array', '[]'],
    ['null', 'null'],
    ['a missing planId', { holderAddress: holder, amount: 1, proof: 'p' }],
    ['a planId that is not decimal', { planId: 'one', holderAddress: holder, amount: 1, proof: 'p' }],
    ['a negative planId', { planId: -1, holderAddress: holder, amount: 1, proof: 'p' }],
    ['a fractional planId', { planId: 1.5, holderAddress: holder, amount: 1, proof: 'p' }],
    ['a bad holderAddress', { planId: '1', holderAddress: '0x12', amount: 1, proof: 'p' }],
    ['a zero amount', { planId: '1', holderAddress: holder, amount: 0, proof: 'p' }],
    ['a negative amount', { planId: '1', holderAddress: holder, amount: -1, proof: 'p' }],
    ['a fractional amount', { planId: '1', holderAddress: holder, amount: 1.5, proof: 'p' }],
    ['an amount as a string', { planId: '1', holderAddress: holder, amount: '1', proof: 'p' }],
    ['an unsafe amount', { planId: '1', holderAddress: holder, amount: 2 ** 53, proof: 'p' }],
    ['an empty proof', { planId: '1', holderAddress: holder, amount: 1, proof: '' }],
    ['a proof of 201 characters', { planId: '1', holderAddress: holder, amount: 1, proof: 'p'.repeat(201) }],
    ['a proof that is not a string', { planId: '1', holderAddress: holder, amount: 1, proof: 7 }],
  ])('answers 400 for %s', async (_, body) => {
    const { ledger, owner, alice, planId, redeem } = await subscribed()
    const res = await redeem(owner.apiKey, body)
    expect(res.status).toBe(400)
    expect(await res.json()).toEqual({ message: expect.any(String) })
    expect(ledger.balance(planId, alice.address).remaining).toBe(2)
  })

  it('accepts a proof of exactly 200 characters', async () => {
    const { owner, redeem, claim } = await subscribed()
    expect((await redeem(owner.apiKey, claim(1, 'p'.repeat(200)))).status).toBe(200)
  })
})
