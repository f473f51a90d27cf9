import { describe, expect, it } from 'vitest'
import { createLocalLedger } from '../../src/local'
import { orderResponseSchema } from '../../src/schemas'
import { START, setup } from './helpers'

describe('POST /protocol/plans/{planId}/order', () => {
  it('takes the price from the wallet, pays the owner, adds the credits and answers the balance', async () => {
    const { ledger, owner, alice, planId, order } = setup()
    const res = await order(alice.apiKey)

    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('application/json')
    const body = await res.json()
    expect(body).toEqual({
      success: true,
      txHash: expect.stringMatching(/^0x[0-9a-f]{64}$/),
      balance: { isSubscriber: true, total: 2, used: 0, remaining: 2, expiresAt: null },
    })
    // The client's own contract check accepts it.
    expect(orderResponseSchema.safeParse(body).success).toBe(true)
    expect(ledger.wallet(alice.address)).toBe(15)
    expect(ledger.wallet(owner.address)).toBe(10)
    expect(ledger.orders(planId)).toBe(1)
    expect(ledger.balance(planId, alice.address).remaining).toBe(2)
  })

  it('adds the credits of every order and gives each a new txHash', async () => {
    const { ledger, alice, order } = setup()
    const first = await (await order(alice.apiKey)).json()
    const second = await (await order(alice.apiKey)).json()
    expect(second.balance).toMatchObject({ total: 4, used: 0, remaining: 4 })
    expect(second.txHash).not.toBe(first.txHash)
    expect(ledger.wallet(alice.address)).toBe(5)
  })

  it('answers 402 when the wallet is short, and changes nothing', async () => {
    const { ledger, owner, alice, planId, order } = setup()
    await order(alice.apiKey)
    await order(alice.apiKey)
    const res = await order(alice.apiKey)

    expect(res.status).toBe(402)
    expect(res.headers.get('content-type')).toBe('application/json')
    expect(await res.json()).toEqual({ message: expect.any(String) })
    expect(ledger.wallet(alice.address)).toBe(5)
    expect(ledger.wallet(owner.address)).toBe(20)
    expect(ledger.balance(planId, alice.address)).toMatchObject({ total: 4, remaining: 4 })
    expect(ledger.orders(planId)).toBe(2)
  })

  it.each(['99', 'abc', '-1', '1e0', '0x1', '%31'])('answers 404 for plan %j and charges nothing', async (badPlan) => {
    const { ledger, alice, order } = setup()
    const res = await order(alice.apiKey, badPlan)
    expect(res.status).toBe(404)
    expect(await res.json()).toEqual({ message: expect.any(String) })
    expect(ledger.wallet(alice.address)).toBe(25)
    expect(ledger.orders()).toBe(0)
  })

  it('accepts a plan id with leading zeros as the same plan', async () => {
    const { ledger, alice, planId, order } = setup()
    expect((await order(alice.apiKey, `00${planId}`)).status).toBe(200)
    expect(ledger.orders(planId)).toBe(1)
  })

  it.each([
    ['no Authorization header', undefined],
    ['a key of another ledger', 'other'],
    ['a garbage bearer token', 'Bearer not-a-key'],
    ['a Basic credential', 'Basic dXNlcjpwYXNz'],
  ])('answers 401 for %s, never echoing the key, and charges nothing', async (_, authorization) => {
    const { ledger, alice, planId } = setup()
    // A well-formed key for alice's very address, but issued by another ledger.
    const foreignKey = createLocalLedger().createAccount({ address: alice.address }).apiKey
    const header = authorization === 'other' ? `Bearer ${foreignKey}` : authorization
    const res = await ledger.fetch(`${ledger.baseUrl}/protocol/plans/${planId}/order`, {
      method: 'POST',
      headers: header === undefined ? {} : { Authorization: header },
    })

    expect(res.status).toBe(401)
    const text = await res.text()
    expect(JSON.parse(text)).toEqual({ message: expect.any(String) })
    expect(text).not.toContain(foreignKey.slice(4, 40))
    expect(ledger.wallet(alice.address)).toBe(25)
  })

  describe('with durationSeconds', () => {
    it('sets expiresAt to now + duration (ISO, Z)', async () => {
      const { ledger, owner, alice, order } = setup()
      const plan = ledger.createPlan({ credits: 3, price: 1, owner: owner.address, durationSeconds: 60 })
      const body = await (await order(alice.apiKey, plan)).json()
      expect(body.balance.expiresAt).toBe(new Date(START + 60_000).toISOString())
      expect(body.balance.expiresAt).toMatch(/Z$/)
      expect(orderResponseSchema.safeParse(body).success).toBe(true)
    })

    it('keeps unexpired credits and moves the expiry on a new order', async () => {
      const { ledger, owner, alice, clock, order } = setup()
      const plan = ledger.createPlan({ credits: 3, price: 1, owner: owner.address, durationSeconds: 60 })
      await order(alice.apiKey, plan)
      clock.advance(30_000)
      const body = await (await order(alice.apiKey, plan)).json()
      expect(body.balance).toEqual({
        isSubscriber: true,
        total: 6,
        used: 0,
        remaining: 6,
        expiresAt: new Date(START + 90_000).toISOString(),
      })
    })

    it('drops the old remainder when ordering after the credits expired', async () => {
      const { ledger, owner, alice, clock, order, redeem } = setup()
      const plan = ledger.createPlan({ credits: 3, price: 1, owner: owner.address, durationSeconds: 60 })
      await order(alice.apiKey, plan)
      await redeem(owner.apiKey, { planId: plan, holderAddress: alice.address, amount: 1, proof: 'p1' })
      clock.advance(60_000)
      const body = await (await order(alice.apiKey, plan)).json()
      expect(body.balance).toEqual({
        isSubscriber: true,
        total: 3,
        used: 0,
        remaining: 3,
        expiresAt: new Date(START + 120_000).toISOString(),
      })
    })
  })
})
