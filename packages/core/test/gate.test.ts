import { afterEach, describe, expect, it, vi } from 'vitest'
import { createPlanGate, MemoryBalanceStore } from '../src/index'
import { createLocalLedger } from '../src/local/index'
import { setup, spend } from './setup'

afterEach(() => {
  vi.useRealTimers()
  vi.restoreAllMocks()
})

describe('reserve → commit | release', () => {
  it('serves from the cache after the first read: no upstream call on a hit', async () => {
    const { gate, ledger, alice, planId } = setup({ credits: 5 })
    expect(await spend(gate, planId, alice.apiKey)).toMatchObject({ ok: true, remaining: 4 }) // read + order
    const calls = { ...ledger.counters }
    for (let i = 0; i < 3; i++) await spend(gate, planId, alice.apiKey)
    expect(ledger.counters.balance).toBe(calls.balance)
    expect(ledger.counters.order).toBe(calls.order)
  })

  it('commit redeems exactly the cost with the agent key; release redeems nothing and gives the credits back', async () => {
    const { gate, ledger, alice, planId } = setup({ credits: 10 })
    const served = await gate.reserve(planId, alice.apiKey, 3)
    served.commit()
    served.commit() // idempotent: never twice
    const failed = await gate.reserve(planId, alice.apiKey, 2)
    expect(failed.balance.remaining).toBe(5)
    failed.release()
    failed.commit() // no effect after release
    await gate.close()
    expect(ledger.redeemed(planId)).toBe(3)
    expect(ledger.balance(planId, alice.address).remaining).toBe(7)
    const next = await gate.reserve(planId, alice.apiKey, 1)
    expect(next.balance.remaining).toBe(6)
  })

  it('orders automatically exactly once when credits run out, and the balance it returns is used', async () => {
    const orders: string[] = []
    const { gate, ledger, alice, planId } = setup({ credits: 2, price: 10 }, { hooks: { onOrder: (e) => void orders.push(e.planId) } }, { funds: 25 })
    const results = []
    for (let i = 0; i < 4; i++) results.push(await spend(gate, planId, alice.apiKey))
    expect(results.map((r) => r.ok && r.remaining)).toEqual([1, 0, 1, 0])
    expect(ledger.orders(planId)).toBe(2)
    expect(orders).toEqual([planId, planId])
    expect(ledger.wallet(alice.address)).toBe(5)
    // The wallet cannot pay a third order: 402, and nothing else changes.
    const denied = await spend(gate, planId, alice.apiKey)
    expect(denied).toMatchObject({ ok: false, code: 'PAYMENT_REQUIRED' })
    expect(ledger.orders(planId)).toBe(2)
  })

  it('holders never see each other’s balance', async () => {
    const { gate, ledger, alice, planId } = setup({ credits: 3 })
    const bob = ledger.createAccount({ funds: 100 })
    const a = await gate.reserve(planId, alice.apiKey, 2)
    const b = await gate.reserve(planId, bob.apiKey, 1)
    expect(a.balance).toMatchObject({ holderAddress: alice.address, remaining: 1 })
    expect(b.balance).toMatchObject({ holderAddress: bob.address, remaining: 2 })
    a.commit()
    b.commit()
    await gate.close()
    expect(ledger.balance(planId, alice.address).remaining).toBe(1)
    expect(ledger.balance(planId, bob.address).remaining).toBe(2)
  })

  it('cost 0 needs a valid key but spends and orders nothing', async () => {
    const { gate, ledger, alice, planId } = setup()
    const lease = await gate.reserve(planId, alice.apiKey, 0)
    lease.commit()
    await gate.close()
    expect(ledger.orders()).toBe(0)
    expect(ledger.counters.redeem).toBe(0)
  })
})

describe('concurrency', () => {
  it('25 concurrent cost-1 requests on 5 credits with auto-order off: exactly 5 served, 20 × 402', async () => {
    const ledger = createLocalLedger()
    const { gate, alice, planId } = setup({ credits: 5 }, { autoOrder: false }, { ledger })
    // Buy the credits out of band so the gate starts cold.
    await ledger.fetch(new Request(`${ledger.baseUrl}/protocol/plans/${planId}/order`, { method: 'POST', headers: { Authorization: `Bearer ${alice.apiKey}` } }))
    const results = await Promise.all(Array.from({ length: 25 }, () => spend(gate, planId, alice.apiKey)))
    expect(results.filter((r) => r.ok)).toHaveLength(5)
    expect(results.filter((r) => !r.ok && r.code === 'PAYMENT_REQUIRED')).toHaveLength(20)
    expect(ledger.counters.balance).toBe(1) // one read in flight, whatever the concurrency
    await gate.close()
    expect(ledger.redeemed(planId)).toBe(5)
    expect(ledger.balance(planId, alice.address).remaining).toBe(0)
  })

  it('a burst on an empty balance places the fewest orders that cover it', async () => {
    const { gate, ledger, alice, planId } = setup({ credits: 10, price: 1 }, { autoOrder: { maxOrders: 100 } }, { funds: 1000 })
    const results = await Promise.all(Array.from({ length: 95 }, () => spend(gate, planId, alice.apiKey)))
    expect(results.every((r) => r.ok)).toBe(true)
    expect(ledger.orders(planId)).toBe(10)
    await gate.close()
    expect(ledger.redeemed(planId)).toBe(95)
    expect(ledger.balance(planId, alice.address).remaining).toBe(5)
  })

  it('concurrent commits and reads never hand a credit out twice', async () => {
    const { gate, ledger, alice, planId } = setup({ credits: 20, price: 1 }, { autoOrder: false, cache: { ttlMs: 0 } }, { funds: 1 })
    await ledger.fetch(new Request(`${ledger.baseUrl}/protocol/plans/${planId}/order`, { method: 'POST', headers: { Authorization: `Bearer ${alice.apiKey}` } }))
    ledger.inject('redeem', { delayMs: 15, times: 1000 })
    // ttl 0 forces a balance read per request while redemptions are still in flight.
    let served = 0
    const waves = []
    for (let wave = 0; wave < 10; wave++) {
      waves.push(...Array.from({ length: 5 }, () => spend(gate, planId, alice.apiKey).then((r) => void (r.ok && served++))))
      await new Promise((r) => setTimeout(r, 3))
    }
    await Promise.all(waves)
    await gate.close()
    expect(served).toBe(20)
    expect(ledger.redeemed(planId)).toBe(20)
  })
})

describe('after an order', () => {
  it('waits out an API that lags before the credits show', async () => {
    const { gate, ledger, alice, planId } = setup({ credits: 3 })
    ledger.inject('order', { lagMs: 300 })
    const started = Date.now()
    const result = await spend(gate, planId, alice.apiKey)
    expect(result).toMatchObject({ ok: true, remaining: 2 })
    expect(Date.now() - started).toBeGreaterThanOrEqual(250)
    expect(ledger.orders(planId)).toBe(1)
    expect(ledger.counters.balance).toBeGreaterThan(1) // it polled
  })

  it('gives up with 503 when the credits never show within pollTimeoutMs, and does not order again at once', async () => {
    const { gate, ledger, alice, planId } = setup({ credits: 3 }, { autoOrder: { pollTimeoutMs: 200 } })
    ledger.inject('order', { lagMs: 60_000 })
    const result = await spend(gate, planId, alice.apiKey)
    expect(result).toMatchObject({ ok: false, code: 'UPSTREAM_UNAVAILABLE' })
    expect(ledger.orders(planId)).toBe(1)
  })

  it('an expired balance counts as 0 and orders again', async () => {
    let now = Date.parse('2026-01-01T00:00:00Z')
    const ledger = createLocalLedger({ now: () => now })
    vi.spyOn(Date, 'now').mockImplementation(() => now)
    const { gate, alice, planId } = setup({ credits: 5, durationSeconds: 60 }, {}, { ledger })
    expect(await spend(gate, planId, alice.apiKey)).toMatchObject({ ok: true, remaining: 4 })
    await gate.close() // burned before the credits expire (a settle after it would top them up first)
    now += 61_000
    expect(await spend(gate, planId, alice.apiKey)).toMatchObject({ ok: true, remaining: 4 })
    expect(ledger.orders(planId)).toBe(2)
  })
})

describe('the lease', () => {
  it('carries the expiry of the credits as ISO text, warm or not, and the new one once they are bought again', async () => {
    let now = Date.parse('2026-01-01T00:00:00Z')
    const ledger = createLocalLedger({ now: () => now })
    vi.spyOn(Date, 'now').mockImplementation(() => now)
    const { gate, alice, planId } = setup({ credits: 5, durationSeconds: 60 }, {}, { ledger })
    const expiry = () => ledger.balance(planId, alice.address).expiresAt
    const cold = await gate.reserve(planId, alice.apiKey)
    expect(cold.balance.expiresAt).toBe('2026-01-01T00:01:00.000Z')
    expect(cold.balance.expiresAt).toBe(expiry())
    for (let i = 0; i < 2; i++) expect((await gate.reserve(planId, alice.apiKey)).balance.expiresAt).toBe('2026-01-01T00:01:00.000Z')
    now += 61_000 // expired: the next request orders again, and its credits expire later
    const renewed = await gate.reserve(planId, alice.apiKey)
    expect(ledger.orders(planId)).toBe(2)
    expect(renewed.balance.expiresAt).toBe(expiry())
    expect(renewed.balance.expiresAt).toBe('2026-01-01T00:02:01.000Z')
    for (let i = 0; i < 2; i++) expect((await gate.reserve(planId, alice.apiKey)).balance.expiresAt).toBe('2026-01-01T00:02:01.000Z')
  })
  it('carries the new expiry once another process has bought the credits again (a shared store)', async () => {
    let now = Date.parse('2026-01-01T00:00:00Z')
    const ledger = createLocalLedger({ now: () => now })
    vi.spyOn(Date, 'now').mockImplementation(() => now)
    const shared = { store: new MemoryBalanceStore(), cache: { ttlMs: 3_600_000 } }
    const { gate: first, owner, alice, planId } = setup({ credits: 5, durationSeconds: 60 }, shared, { ledger })
    const second = createPlanGate({ apiKey: owner.apiKey, environment: ledger.baseUrl, fetch: ledger.fetch, ...shared })
    for (let i = 0; i < 2; i++) expect((await first.reserve(planId, alice.apiKey)).balance.expiresAt).toBe('2026-01-01T00:01:00.000Z')
    now += 61_000
    expect((await second.reserve(planId, alice.apiKey)).balance.expiresAt).toBe('2026-01-01T00:02:01.000Z')
    expect(ledger.orders(planId)).toBe(2)
    // The first gate still knows the key: a warm request, served from the store the second updated.
    const calls = { ...ledger.counters }
    expect((await first.reserve(planId, alice.apiKey)).balance.expiresAt).toBe('2026-01-01T00:02:01.000Z')
    expect(ledger.counters).toEqual(calls)
  })
})

describe('spend guard', () => {
  it('caps orders per holder and plan within the window, whatever the concurrency', async () => {
    const { gate, ledger, alice, planId } = setup({ credits: 1, price: 1 }, { autoOrder: { maxOrders: 2, windowMs: 60_000 } }, { funds: 100 })
    const results = await Promise.all(Array.from({ length: 10 }, () => spend(gate, planId, alice.apiKey)))
    expect(ledger.orders(planId)).toBe(2)
    expect(results.filter((r) => r.ok)).toHaveLength(2)
    const denied = results.filter((r) => !r.ok)
    expect(denied).toHaveLength(8)
    expect(denied.every((r) => !r.ok && r.code === 'PAYMENT_REQUIRED')).toBe(true)
  })
})

describe('credentials', () => {
  it('401 CREDENTIAL_MISSING without a key, with WWW-Authenticate', async () => {
    const { gate, ledger, planId } = setup()
    const error = await gate.reserve(planId, undefined).catch((e) => e)
    expect(error).toMatchObject({ code: 'CREDENTIAL_MISSING', status: 401 })
    expect(error.headers['WWW-Authenticate']).toMatch(/^Bearer/)
    expect(Object.entries(ledger.counters).filter(([, n]) => n > 0)).toEqual([])
  })

  it('401 CREDENTIAL_INVALID for a malformed key, before any upstream call', async () => {
    const { gate, ledger, planId } = setup()
    for (const key of ['nope', 'nvm:a.b', 'nvm:a.b.c', `nvm:x.${btoa('{"sub":"bob"}')}.y`]) {
      expect(await spend(gate, planId, key)).toMatchObject({ ok: false, code: 'CREDENTIAL_INVALID' })
    }
    expect(Object.entries(ledger.counters).filter(([, n]) => n > 0)).toEqual([])
  })

  it('a forged key naming someone else’s address cannot spend their cached credits', async () => {
    const { gate, ledger, alice, planId } = setup({ credits: 5 })
    await spend(gate, planId, alice.apiKey) // alice's balance is now cached
    const [, payload] = alice.apiKey.slice(4).split('.')
    const forged = `nvm:eyJhbGciOiJub25lIn0.${payload}.Zm9yZ2Vk`
    expect(await spend(gate, planId, forged)).toMatchObject({ ok: false, code: 'CREDENTIAL_INVALID' })
    await gate.close()
    expect(ledger.redeemed(planId)).toBe(1)
  })

  it('a forged key with an accepted key’s signature but another payload is refused, and the accepted key still works', async () => {
    const { gate, ledger, alice, planId } = setup({ credits: 5 })
    const bob = ledger.createAccount({ funds: 100 })
    await spend(gate, planId, alice.apiKey) // alice's key is accepted and remembered
    // The gate fingerprints a key by its signature: the rest must match too.
    const [, bobPayload] = bob.apiKey.slice(4).split('.')
    const [header, , aliceSignature] = alice.apiKey.slice(4).split('.')
    for (const forged of [`nvm:${header}.${bobPayload}.${aliceSignature}`, `live:${alice.apiKey.slice(4)}`]) {
      expect(await spend(gate, planId, forged)).toMatchObject({ ok: false, code: 'CREDENTIAL_INVALID' })
    }
    const before = { ...ledger.counters }
    expect(await spend(gate, planId, alice.apiKey)).toMatchObject({ ok: true, remaining: 3 })
    expect(ledger.counters.balance).toBe(before.balance) // still a cache hit: nothing was forgotten
    await gate.close()
    expect(ledger.redeemed(planId)).toBe(2)
  })

  it('a key the API refuses is 401 and is not remembered', async () => {
    const { gate, ledger, alice, planId } = setup()
    ledger.inject('balance', { status: 401 })
    expect(await spend(gate, planId, alice.apiKey)).toMatchObject({ ok: false, code: 'CREDENTIAL_INVALID' })
    expect(await spend(gate, planId, alice.apiKey)).toMatchObject({ ok: true })
  })
})

describe('upstream failures', () => {
  it('402 PAYMENT_REQUIRED when the order answers 402', async () => {
    const { gate, ledger, alice, planId } = setup()
    ledger.inject('order', { status: 402 })
    expect(await spend(gate, planId, alice.apiKey)).toMatchObject({ ok: false, code: 'PAYMENT_REQUIRED' })
  })

  it('500 PLAN_NOT_FOUND when the plan does not exist', async () => {
    const { gate, alice } = setup()
    const result = await spend(gate, '999', alice.apiKey)
    expect(result).toMatchObject({ ok: false, code: 'PLAN_NOT_FOUND' })
    expect(result.ok || (result.error as { status: number }).status).toBe(500)
  })

  it.each([
    ['a time-out', { delayMs: 1_000 }],
    ['a 500', { status: 500 }],
    ['a 502 HTML page', { status: 502, body: '<html>Bad gateway</html>', contentType: 'text/html' }],
    ['truncated JSON', { body: '{"isSubscriber":tr' }],
    ['negative credits', { body: '{"isSubscriber":true,"remaining":-1}' }],
    ['non-integer credits', { body: '{"isSubscriber":true,"remaining":1.5}' }],
    ['credits past MAX_SAFE_INTEGER', { body: '{"isSubscriber":true,"remaining":9007199254740993}' }],
    ['a missing field', { body: '{"isSubscriber":true}' }],
    ['a refused connection', { network: true }],
  ])('503 UPSTREAM_UNAVAILABLE with Retry-After on %s', async (_name, fault) => {
    const { gate, ledger, alice, planId, logger } = setup({}, { timeoutMs: 100 })
    ledger.inject('balance', fault)
    const started = Date.now()
    const result = await spend(gate, planId, alice.apiKey)
    expect(result).toMatchObject({ ok: false, code: 'UPSTREAM_UNAVAILABLE' })
    expect(Date.now() - started).toBeLessThan(1_000)
    const error = (result as { error: { status: number; headers: Record<string, string> } }).error
    expect(error.status).toBe(503)
    expect(Number(error.headers['Retry-After'])).toBeGreaterThan(0)
    expect(logger.lines.join('\n')).not.toContain(alice.apiKey)
    // …and the gate keeps serving once the upstream recovers.
    expect(await spend(gate, planId, alice.apiKey)).toMatchObject({ ok: true })
  })
})

describe('settlement', () => {
  it('via redeem: retries a failing redemption with the same proof and never redeems twice', async () => {
    const proofs: string[] = []
    const ledger = createLocalLedger({ serveRedeem: true })
    const recording = async (input: Request | string | URL, init?: RequestInit) => {
      const request = new Request(input, init)
      if (request.url.endsWith('/redeem')) proofs.push((await request.clone().json()).proof)
      return ledger.fetch(request)
    }
    const { gate, alice, planId } = setup({ credits: 5 }, { fetch: recording, settle: { batchMs: 0, maxRetries: 3, via: 'redeem' } }, { ledger })
    ledger.inject('redeem', { status: 503 })
    ledger.inject('redeem', { status: 200, afterApply: true, network: true }) // applied upstream, answer lost
    await spend(gate, planId, alice.apiKey)
    await gate.close()
    expect(proofs).toHaveLength(3)
    expect(new Set(proofs).size).toBe(1)
    expect(ledger.redeemed(planId)).toBe(1)
  })

  it('a settle whose answer was lost is reconciled from the balance and never sent twice once it burned', async () => {
    const { gate, ledger, alice, planId } = setup({ credits: 5 }, { settle: { batchMs: 0, maxRetries: 3 } })
    ledger.inject('settle', { status: 503 }) // not applied: the balance shows it, so it is sent again
    ledger.inject('settle', { status: 200, afterApply: true, network: true }) // applied upstream, answer lost
    await spend(gate, planId, alice.apiKey)
    await gate.close()
    expect(ledger.counters.settle).toBe(2)
    expect(ledger.redeemed(planId)).toBe(1)
    expect(ledger.balance(planId, alice.address).remaining).toBe(4)
  })

  it('via redeem: the live API answers the redeem call 404, and the gate reports what it could not burn', async () => {
    const errors: Array<{ during: string; amount?: number }> = []
    const { gate, ledger, alice, planId } = setup({ credits: 5 }, { settle: { via: 'redeem' }, hooks: { onError: (_e, c) => void errors.push(c) } })
    await spend(gate, planId, alice.apiKey)
    await gate.close()
    expect(ledger.counters.redeem).toBe(1)
    expect(errors).toEqual([expect.objectContaining({ during: 'redeem', amount: 1, planId })])
    expect(ledger.redeemed(planId)).toBe(0)
  })

  it('reports a settle that fails after every retry to onError with the amount', async () => {
    const errors: Array<{ during: string; amount?: number }> = []
    const { gate, ledger, alice, planId } = setup({ credits: 5 }, { settle: { maxRetries: 1 }, hooks: { onError: (_e, c) => void errors.push(c) } })
    ledger.inject('settle', { status: 500, times: 2 })
    const lease = await gate.reserve(planId, alice.apiKey, 2)
    lease.commit()
    await gate.close()
    expect(errors).toEqual([expect.objectContaining({ during: 'redeem', amount: 2, planId })])
    expect(ledger.redeemed(planId)).toBe(0)
  })

  it('batches redemptions per holder and plan, and close() flushes them', async () => {
    const redeemed: number[] = []
    const { gate, ledger, alice, planId } = setup({ credits: 10 }, { settle: { batchMs: 60_000 }, hooks: { onRedeem: (e) => void redeemed.push(e.amount) } })
    for (let i = 0; i < 4; i++) await spend(gate, planId, alice.apiKey)
    expect(ledger.counters.settle).toBe(0)
    await gate.close()
    expect(ledger.counters.settle).toBe(1)
    expect(redeemed).toEqual([4])
    expect(ledger.redeemed(planId)).toBe(4)
  })

  it('a batch timer flushes on its own', async () => {
    const { gate, ledger, alice, planId } = setup({ credits: 10 }, { settle: { batchMs: 30 } })
    await spend(gate, planId, alice.apiKey)
    await spend(gate, planId, alice.apiKey)
    await vi.waitFor(() => expect(ledger.redeemed(planId)).toBe(2), { timeout: 2_000 })
    expect(ledger.counters.settle).toBe(1)
  })

  it('settle.maxCredits burns a batch once it holds that many credits, without waiting for its window', async () => {
    const redeemed: number[] = []
    const { gate, ledger, alice, planId } = setup({ credits: 20 }, { settle: { batchMs: 60_000, maxCredits: 3 }, hooks: { onRedeem: (e) => void redeemed.push(e.amount) } })
    for (let i = 0; i < 7; i++) await spend(gate, planId, alice.apiKey)
    // Two batches of 3 went while the window was open; the seventh credit waits for it.
    await vi.waitFor(() => expect(redeemed).toEqual([3, 3]), { timeout: 2_000 })
    expect(ledger.redeemed(planId)).toBe(6)
    await gate.close()
    expect(redeemed).toEqual([3, 3, 1])
    expect(ledger.redeemed(planId)).toBe(7)
  })

  // Workers stop a request's work when its response is sent: the adapter hands this promise to
  // waitUntil, so it must cover the redemption itself, not just its start.
  it.each([0, 30])('commit() and release() resolve once settled, without close() (batchMs %i)', async (batchMs) => {
    const { gate, ledger, alice, planId } = setup({ credits: 10 }, { settle: { batchMs } })
    const [first, second, failed] = [await gate.reserve(planId, alice.apiKey, 2), await gate.reserve(planId, alice.apiKey, 1), await gate.reserve(planId, alice.apiKey, 4)]
    const settled = [first.commit(), second.commit(), failed.release()]
    expect(ledger.redeemed(planId)).toBe(0)
    await Promise.all(settled)
    expect(ledger.redeemed(planId)).toBe(3)
    await expect(first.commit()).resolves.toBeUndefined() // a second call: already settled, nothing more
    expect(ledger.redeemed(planId)).toBe(3)
  })
})

describe('creation', () => {
  it('does no I/O and starts no timer', () => {
    const ledger = createLocalLedger()
    const owner = ledger.createAccount()
    const fetch = vi.fn(ledger.fetch)
    const timeout = vi.spyOn(globalThis, 'setTimeout')
    const interval = vi.spyOn(globalThis, 'setInterval')
    createPlanGate({ apiKey: owner.apiKey, environment: ledger.baseUrl, fetch, settle: { batchMs: 100 } })
    expect(fetch).not.toHaveBeenCalled()
    expect(timeout).not.toHaveBeenCalled()
    expect(interval).not.toHaveBeenCalled()
  })

  it.each([
    [{ timeoutMs: -1 }, /"timeoutMs"/],
    [{ timeoutMs: 1.5 }, /"timeoutMs"/],
    [{ cache: { ttlMs: 'x' } }, /"cache\.ttlMs"/],
    [{ cahce: {} }, /"cahce".*unknown option/],
    [{ autoOrder: { maxOrders: 0 } }, /"autoOrder\.maxOrders"/],
    [{ settle: { batchMs: -5 } }, /"settle\.batchMs"/],
    [{ settle: { batchMs: 100, maxCredits: 0 } }, /"settle\.maxCredits"/],
    [{ fetch: 'nope' }, /"fetch"/],
    [{ environment: 'staging' }, /"environment"/],
    [{ hooks: { onOrder: 1 } }, /"hooks\.onOrder"/],
  ])('a wrong option throws a TypeError naming it: %j', (bad, message) => {
    const ledger = createLocalLedger()
    const owner = ledger.createAccount()
    expect(() => createPlanGate({ apiKey: owner.apiKey, ...(bad as object) })).toThrow(TypeError)
    expect(() => createPlanGate({ apiKey: owner.apiKey, ...(bad as object) })).toThrow(message)
  })

  it('a missing or malformed agent key is a clear error that does not echo the key', () => {
    expect(() => createPlanGate({ env: {} })).toThrow(/NVM_API_KEY/)
    const secret = 'nvm:not-a-jwt-but-secret'
    try {
      createPlanGate({ apiKey: secret })
      expect.unreachable()
    } catch (error) {
      expect(String((error as Error).message)).not.toContain('not-a-jwt-but-secret')
    }
  })

  it('reads NVM_API_KEY and NVM_ENVIRONMENT from env, and the environment from the key prefix', async () => {
    const ledger = createLocalLedger()
    const owner = ledger.createAccount()
    const alice = ledger.createAccount({ funds: 100 })
    const planId = ledger.createPlan({ credits: 2, price: 1, owner: owner.address })
    const gate = createPlanGate({ env: { NVM_API_KEY: owner.apiKey, NVM_ENVIRONMENT: ledger.baseUrl }, fetch: ledger.fetch })
    expect(await spend(gate, planId, alice.apiKey)).toMatchObject({ ok: true })
    const urls: string[] = []
    const live = createPlanGate({ apiKey: `live:${owner.apiKey.slice(4)}`, env: {}, fetch: async (input) => (urls.push(String(input)), new Response('{}', { status: 500 })), settle: { maxRetries: 0 } })
    await spend(live, '7', alice.apiKey)
    expect(urls[0]).toMatch(/^https:\/\/api\.live\.nevermined\.app\/api\/v1\/protocol\/plans\/7\/balance\//)
  })

  it('reserve rejects bad plan ids and costs', async () => {
    const { gate, alice } = setup()
    for (const id of ['7/../x', -1, 1.5, 2 ** 60, '']) await expect(gate.reserve(id as never, alice.apiKey)).rejects.toThrow(TypeError)
    for (const cost of [-1, 1.5, Number.NaN]) await expect(gate.reserve('1', alice.apiKey, cost)).rejects.toMatchObject({ code: 'COST_INVALID' })
  })
})

describe('plan ids on every call', () => {
  it('refuses a bad plan id whether or not a good one came before (the gate remembers the last one it normalised)', async () => {
    const { gate, alice, planId } = setup({ credits: 5 })
    for (const bad of [undefined, null, '', '7/../8', -1]) await expect(gate.reserve(bad as never, alice.apiKey)).rejects.toThrow(TypeError)
    expect(await spend(gate, planId, alice.apiKey)).toMatchObject({ ok: true })
    const numeric = await gate.reserve(Number(planId), alice.apiKey) // 7 and '7': one plan
    expect(numeric.balance).toMatchObject({ planId, remaining: 3 })
    numeric.commit()
    for (const bad of [undefined, null, '', '7/../8', -1]) await expect(gate.reserve(bad as never, alice.apiKey)).rejects.toThrow(TypeError)
    await gate.close()
  })
})
