import { describe, expect, it } from 'vitest'
import { balanceSchema } from '../../src/schemas'
import { START, setup } from './helpers'

describe('GET /protocol/plans/{planId}/balance/{holderAddress}', () => {
  it('answers a zero non-subscriber balance for a holder who never ordered', async () => {
    const { alice, owner, balance } = setup()
    const res = await balance(alice.apiKey, owner.address)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('application/json')
    const body = await res.json()
    expect(body).toEqual({ isSubscriber: false, total: 0, used: 0, remaining: 0, expiresAt: null })
    expect(balanceSchema.safeParse(body).success).toBe(true)
  })

  it('answers total, used and remaining after orders and redemptions', async () => {
    const { ledger, owner, alice, planId, order, balance, redeem } = setup()
    await order(alice.apiKey)
    await order(alice.apiKey)
    await redeem(owner.apiKey, { planId, holderAddress: alice.address, amount: 3, proof: 'a' })
    const body = await (await balance(alice.apiKey, alice.address)).json()
    expect(body).toEqual({ isSubscriber: true, total: 4, used: 3, remaining: 1, expiresAt: null })
    expect(ledger.balance(planId, alice.address)).toEqual(body)
  })

  it('matches the holder address whatever its case', async () => {
    const { alice, order, balance } = setup()
    await order(alice.apiKey)
    const shouting = '0x' + alice.address.slice(2).toUpperCase()
    expect((await (await balance(alice.apiKey, shouting)).json()).remaining).toBe(2)
  })

  it('lets any key of the ledger read a balance (the owner checking a subscriber)', async () => {
    const { owner, alice, order, balance } = setup()
    await order(alice.apiKey)
    expect((await (await balance(owner.apiKey, alice.address)).json()).remaining).toBe(2)
  })

  it('reports the raw remainder past expiresAt, with the past expiresAt', async () => {
    const { ledger, owner, alice, clock, order, balance } = setup()
    const plan = ledger.createPlan({ credits: 5, price: 1, owner: owner.address, durationSeconds: 10 })
    await order(alice.apiKey, plan)

    clock.advance(9_999)
    const before = await (await balance(alice.apiKey, alice.address, plan)).json()
    expect(before).toEqual({ isSubscriber: true, total: 5, used: 0, remaining: 5, expiresAt: new Date(START + 10_000).toISOString() })

    clock.advance(1)
    const after = await (await balance(alice.apiKey, alice.address, plan)).json()
    expect(after.remaining).toBe(5)
    expect(Date.parse(after.expiresAt)).toBeLessThanOrEqual(clock.now())
  })

  it.each(['0x123', 'alice', '0x' + 'a'.repeat(41), '0x' + 'g'.repeat(40), 'ab'.repeat(21)])(
    'answers 400 for holder %j',
    async (holder) => {
      const { alice, balance } = setup()
      const res = await balance(alice.apiKey, holder)
      expect(res.status).toBe(400)
      expect(await res.json()).toEqual({ message: expect.any(String) })
    },
  )

  it('answers 404 for an unknown or non-decimal plan', async () => {
    const { alice, balance } = setup()
    expect((await balance(alice.apiKey, alice.address, '42')).status).toBe(404)
    expect((await balance(alice.apiKey, alice.address, 'one')).status).toBe(404)
  })

  it('answers 401 for a key it did not issue', async () => {
    const { alice, balance } = setup()
    const res = await balance(alice.apiKey.slice(0, -2) + 'xx', alice.address)
    expect(res.status).toBe(401)
  })

  it('ledger.balance() refuses an unknown plan or a bad address', () => {
    const { ledger, alice, planId } = setup()
    expect(() => ledger.balance('42', alice.address)).toThrow(TypeError)
    expect(() => ledger.balance(planId, 'alice')).toThrow(TypeError)
  })
})
