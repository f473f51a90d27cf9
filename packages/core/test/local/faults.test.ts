import { describe, expect, it } from 'vitest'
import { setup } from './helpers'

describe('injected faults', () => {
  describe('status', () => {
    it('answers the status with a JSON message instead of doing the call, once', async () => {
      const { ledger, alice, planId, order } = setup()
      ledger.inject('order', { status: 503, headers: { 'Retry-After': '7' } })

      const faulty = await order(alice.apiKey)
      expect(faulty.status).toBe(503)
      expect(faulty.headers.get('content-type')).toBe('application/json')
      expect(faulty.headers.get('retry-after')).toBe('7')
      expect(await faulty.json()).toEqual({ message: expect.any(String) })
      expect(ledger.wallet(alice.address)).toBe(25)
      expect(ledger.orders(planId)).toBe(0)

      expect((await order(alice.apiKey)).status).toBe(200)
      expect(ledger.counters.order).toBe(2)
    })

    it('applies before authentication: the upstream is down whoever asks', async () => {
      const { ledger, planId } = setup()
      ledger.inject('balance', { status: 500 })
      const res = await ledger.fetch(`${ledger.baseUrl}/protocol/plans/${planId}/balance/0x${'1'.repeat(40)}`)
      expect(res.status).toBe(500)
    })
  })

  describe('body', () => {
    it.each([
      ['an HTML page', '<html><body>Bad gateway</body></html>', 'text/html'],
      ['truncated JSON', '{"success":tr', undefined],
      ['a negative balance', '{"remaining":-1}', undefined],
    ])('answers %s with status 200', async (_, body, contentType) => {
      const { ledger, alice, balance } = setup()
      ledger.inject('balance', { body, ...(contentType ? { contentType } : {}) })
      const res = await balance(alice.apiKey, alice.address)
      expect(res.status).toBe(200)
      expect(res.headers.get('content-type')).toBe(contentType ?? 'application/json')
      expect(await res.text()).toBe(body)
    })

    it('combines with a status', async () => {
      const { ledger, owner, redeem } = setup()
      ledger.inject('redeem', { status: 502, body: 'upstream said no', contentType: 'text/plain' })
      const res = await redeem(owner.apiKey, {})
      expect(res.status).toBe(502)
      expect(await res.text()).toBe('upstream said no')
    })
  })

  describe('delayMs', () => {
    it('answers normally after the delay', async () => {
      const { ledger, alice, order } = setup()
      ledger.inject('order', { delayMs: 60 })
      const started = performance.now()
      const res = await order(alice.apiKey)
      expect(performance.now() - started).toBeGreaterThanOrEqual(50)
      expect(res.status).toBe(200)
      expect(ledger.wallet(alice.address)).toBe(15)
    })

    it('rejects with the TimeoutError of AbortSignal.timeout, as fetch does, and does not order', async () => {
      const { ledger, alice, order } = setup()
      ledger.inject('order', { delayMs: 10_000 })
      const started = performance.now()
      const error = await order(alice.apiKey, undefined, { signal: AbortSignal.timeout(40) }).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(DOMException)
      expect((error as DOMException).name).toBe('TimeoutError')
      expect(performance.now() - started).toBeLessThan(2_000)
      expect(ledger.wallet(alice.address)).toBe(25)
    })

    it('rejects with an AbortError when the controller aborts without a reason', async () => {
      const { ledger, alice, balance } = setup()
      ledger.inject('balance', { delayMs: 10_000 })
      const controller = new AbortController()
      const pending = balance(alice.apiKey, alice.address, undefined, { signal: controller.signal })
      setTimeout(() => controller.abort(), 10)
      await expect(pending).rejects.toMatchObject({ name: 'AbortError' })
    })

    it("rejects with the signal's own reason", async () => {
      const { ledger, alice, balance } = setup()
      ledger.inject('balance', { delayMs: 10_000 })
      const controller = new AbortController()
      const reason = new Error('client went away')
      const pending = balance(alice.apiKey, alice.address, undefined, { signal: controller.signal })
      controller.abort(reason)
      await expect(pending).rejects.toBe(reason)
    })
  })

  describe('network', () => {
    it("rejects with TypeError('fetch failed') and does nothing", async () => {
      const { ledger, alice, order } = setup()
      ledger.inject('order', { network: true })
      const error = await order(alice.apiKey).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(TypeError)
      expect((error as TypeError).message).toBe('fetch failed')
      expect(ledger.wallet(alice.address)).toBe(25)
      expect(ledger.counters.order).toBe(1)
    })
  })

  describe('afterApply', () => {
    it('redeems, then answers the fault: the answer is lost, and a retry with the proof is not applied twice', async () => {
      const { ledger, owner, alice, planId, order, redeem } = setup()
      await order(alice.apiKey)
      const claim = { planId, holderAddress: alice.address, amount: 1, proof: 'lease-1' }
      ledger.inject('redeem', { status: 503, afterApply: true })

      expect((await redeem(owner.apiKey, claim)).status).toBe(503)
      expect(ledger.balance(planId, alice.address).remaining).toBe(1)

      const retry = await redeem(owner.apiKey, claim)
      expect(await retry.json()).toEqual({ success: true, creditsRedeemed: 1, remainingBalance: 1 })
      expect(ledger.redeemed(planId)).toBe(1)
    })

    it('redeems, then rejects like a connection dropped before the answer', async () => {
      const { ledger, owner, alice, planId, order, redeem } = setup()
      await order(alice.apiKey)
      ledger.inject('redeem', { network: true, afterApply: true })
      await expect(redeem(owner.apiKey, { planId, holderAddress: alice.address, amount: 2, proof: 'p' })).rejects.toThrow('fetch failed')
      expect(ledger.balance(planId, alice.address).remaining).toBe(0)
    })

    it('redeems, then times out while the answer is delayed', async () => {
      const { ledger, owner, alice, planId, order, redeem } = setup()
      await order(alice.apiKey)
      ledger.inject('redeem', { delayMs: 10_000, afterApply: true })
      const claim = { planId, holderAddress: alice.address, amount: 1, proof: 'p' }
      await expect(redeem(owner.apiKey, claim, { signal: AbortSignal.timeout(30) })).rejects.toMatchObject({ name: 'TimeoutError' })
      expect(ledger.redeemed(planId)).toBe(1)
    })

    it('orders, then answers the fault', async () => {
      const { ledger, alice, planId, order } = setup()
      ledger.inject('order', { status: 500, afterApply: true })
      expect((await order(alice.apiKey)).status).toBe(500)
      expect(ledger.orders(planId)).toBe(1)
      expect(ledger.wallet(alice.address)).toBe(15)
    })
  })

  describe('lagMs', () => {
    it('charges at once but shows the credits only lagMs later, by the ledger clock', async () => {
      const { ledger, owner, alice, planId, clock, order, balance, redeem } = setup()
      ledger.inject('order', { lagMs: 1_000 })

      const res = await order(alice.apiKey)
      expect(res.status).toBe(200)
      const body = await res.json()
      // The order's answer shows the balance from before the order.
      expect(body).toMatchObject({ success: true, balance: { isSubscriber: false, total: 0, remaining: 0 } })
      expect(ledger.wallet(alice.address)).toBe(15)
      expect(ledger.orders(planId)).toBe(1)

      clock.advance(999)
      expect((await (await balance(alice.apiKey, alice.address)).json()).remaining).toBe(0)
      const claim = { planId, holderAddress: alice.address, amount: 1, proof: 'early' }
      expect((await redeem(owner.apiKey, claim)).status).toBe(402)

      clock.advance(1)
      expect(await (await balance(alice.apiKey, alice.address)).json()).toEqual({
        isSubscriber: true,
        total: 2,
        used: 0,
        remaining: 2,
        expiresAt: null,
      })
      expect(ledger.balance(planId, alice.address).remaining).toBe(2)
    })

    it('shows the previous credits while a later order lags', async () => {
      const { ledger, alice, clock, order } = setup()
      ledger.fund(alice.address, 5) // three orders of 10
      await order(alice.apiKey)
      ledger.inject('order', { lagMs: 500 })
      expect((await (await order(alice.apiKey)).json()).balance).toMatchObject({ isSubscriber: true, total: 2, remaining: 2 })
      clock.advance(500)
      expect((await (await order(alice.apiKey)).json()).balance).toMatchObject({ total: 6, remaining: 6 })
    })

    it('is refused on other endpoints', () => {
      const { ledger } = setup()
      expect(() => ledger.inject('balance', { lagMs: 10 })).toThrow(TypeError)
      expect(() => ledger.inject('redeem', { lagMs: 10 })).toThrow(TypeError)
    })
  })

  describe('times and order', () => {
    it('applies to the next `times` calls, then the next fault in the queue', async () => {
      const { ledger, alice, balance } = setup()
      ledger.inject('balance', { status: 500, times: 2 })
      ledger.inject('balance', { status: 429 })
      const statuses = []
      for (let i = 0; i < 4; i++) statuses.push((await balance(alice.apiKey, alice.address)).status)
      expect(statuses).toEqual([500, 500, 429, 200])
    })

    it('keeps one queue per endpoint', async () => {
      const { ledger, alice, order, balance } = setup()
      ledger.inject('order', { status: 503 })
      expect((await balance(alice.apiKey, alice.address)).status).toBe(200)
      expect((await order(alice.apiKey)).status).toBe(503)
    })

    it('clearFaults drops every queued fault', async () => {
      const { ledger, alice, order, balance } = setup()
      ledger.inject('order', { status: 503, times: 5 })
      ledger.inject('balance', { network: true })
      ledger.clearFaults()
      expect((await order(alice.apiKey)).status).toBe(200)
      expect((await balance(alice.apiKey, alice.address)).status).toBe(200)
    })

    it('copies the fault: changing the object afterwards changes nothing', async () => {
      const { ledger, alice, order } = setup()
      const fault = { status: 503, headers: { 'Retry-After': '1' } }
      ledger.inject('order', fault)
      fault.status = 418
      fault.headers['Retry-After'] = '9'
      const res = await order(alice.apiKey)
      expect(res.status).toBe(503)
      expect(res.headers.get('retry-after')).toBe('1')
    })
  })

  it.each([
    ['an unknown endpoint', 'orders', {}],
    ['times 0', 'order', { times: 0 }],
    ['fractional times', 'order', { times: 1.5 }],
    ['status 99', 'order', { status: 99 }],
    ['status 600', 'order', { status: 600 }],
    ['a negative delay', 'order', { delayMs: -1 }],
    ['a header with a bad name', 'order', { headers: { 'Bad Name': 'x' } }],
  ])('refuses %s with a TypeError', (_, endpoint, fault) => {
    const { ledger } = setup()
    expect(() => ledger.inject(endpoint as 'order', fault)).toThrow(TypeError)
  })
})
