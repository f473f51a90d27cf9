import { describe, expect, it, vi } from 'vitest'
import type { FetchLike } from '../../src/client'
import { createLocalLedger } from '../../src/local'
import { setup } from './helpers'

describe('ledger.fetch', () => {
  it('accepts a Request', async () => {
    const { ledger, alice, planId } = setup()
    const res = await ledger.fetch(
      new Request(`${ledger.baseUrl}/protocol/plans/${planId}/order`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${alice.apiKey}` },
      }),
    )
    expect(res.status).toBe(200)
    expect(ledger.wallet(alice.address)).toBe(15)
  })

  it('accepts a URL string or URL object with init, and is bound', async () => {
    const { ledger, alice, planId } = setup()
    const f = ledger.fetch
    const headers = { Authorization: `Bearer ${alice.apiKey}` }
    expect((await f(`${ledger.baseUrl}/protocol/plans/${planId}/order`, { method: 'POST', headers })).status).toBe(200)
    expect((await f(new URL(`${ledger.baseUrl}/protocol/plans/${planId}/balance/${alice.address}`), { headers })).status).toBe(200)
    expect(ledger.orders(planId)).toBe(1)
  })

  it('accepts a Request with an init that overrides it', async () => {
    const { ledger, alice, planId } = setup()
    const request = new Request(`${ledger.baseUrl}/protocol/plans/${planId}/order`, { method: 'GET' })
    const res = await ledger.fetch(request, { method: 'POST', headers: { Authorization: `Bearer ${alice.apiKey}` } })
    expect(res.status).toBe(200)
  })

  it('type-checks where a fetch-like function or a server handler is expected', async () => {
    // These assignments are the test (`pnpm typecheck` fails without the server overload, or with
    // the overloads in the other order, which vi.fn would pick up); the calls prove they run.
    const { ledger, alice, planId } = setup()
    const asClientFetch: FetchLike = ledger.fetch
    const asMock: FetchLike = vi.fn(ledger.fetch)
    const asNodeServer: (request: Request, env: { incoming: object; outgoing: object }) => unknown = ledger.fetch
    const asWorker: (request: Request, env: { DB: string }, ctx: { waitUntil(p: Promise<unknown>): void }) => Promise<Response> =
      ledger.fetch
    const url = `${ledger.baseUrl}/protocol/plans/${planId}/balance/${alice.address}`
    const headers = { Authorization: `Bearer ${alice.apiKey}` }
    expect((await asClientFetch(url, { headers })).status).toBe(200)
    expect((await asMock(url, { headers })).status).toBe(200)
    expect(((await asNodeServer(new Request(url, { headers }), { incoming: {}, outgoing: {} })) as Response).status).toBe(200)
    expect((await asWorker(new Request(url, { headers }), { DB: 'x' }, { waitUntil: () => {} })).status).toBe(200)
  })

  it("accepts a Request of another class or realm (duck-typed, as server adapters' own Requests are)", async () => {
    const { ledger, owner, alice, planId, order } = setup()
    await order(alice.apiKey)
    const real = new Request(`${ledger.baseUrl}/protocol/plans/redeem`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${owner.apiKey}` },
      body: JSON.stringify({ planId, holderAddress: alice.address, amount: 1, proof: 'p' }),
    })
    const foreign = { url: real.url, method: real.method, headers: real.headers, signal: real.signal, text: () => real.text() }
    expect(foreign).not.toBeInstanceOf(Request)
    const res = await ledger.fetch(foreign as unknown as Request)
    expect(await res.json()).toEqual({ success: true, creditsRedeemed: 1, remainingBalance: 1 })
  })

  it("ignores a second argument that is a server's env, not a RequestInit (fetch(request, env))", async () => {
    const { ledger, alice, planId } = setup()
    const request = new Request(`${ledger.baseUrl}/protocol/plans/${planId}/order`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${alice.apiKey}` },
    })
    const env = { incoming: {}, outgoing: {}, NVM_API_KEY: 'x' } as unknown as RequestInit
    expect((await ledger.fetch(request, env)).status).toBe(200)
  })

  it('resolves a relative URL against the base URL', async () => {
    const { ledger, alice, planId } = setup()
    const res = await ledger.fetch(`protocol/plans/${planId}/balance/${alice.address}`, {
      headers: { Authorization: `Bearer ${alice.apiKey}` },
    })
    expect(res.status).toBe(200)
  })

  it('ignores the host: only the path after the base path counts', async () => {
    const { ledger, alice, planId } = setup()
    const res = await ledger.fetch(`http://127.0.0.1:9/api/v1/protocol/plans/${planId}/order`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${alice.apiKey}` },
    })
    expect(res.status).toBe(200)
  })

  it('serves under the path of a custom base URL, and only there', async () => {
    const ledger = createLocalLedger({ baseUrl: 'https://example.test/nvm/api/v1/' })
    const alice = ledger.createAccount()
    const planId = ledger.createPlan({ credits: 1, price: 0, owner: alice.address })
    const headers = { Authorization: `Bearer ${alice.apiKey}` }
    expect(ledger.baseUrl).toBe('https://example.test/nvm/api/v1')
    expect((await ledger.fetch(`https://x/nvm/api/v1/protocol/plans/${planId}/order`, { method: 'POST', headers })).status).toBe(200)
    expect((await ledger.fetch(`https://x/api/v1/protocol/plans/${planId}/order`, { method: 'POST', headers })).status).toBe(404)
  })

  it.each([
    ['GET', 'order'],
    ['PUT', 'order'],
    ['POST', 'balance'],
    ['DELETE', 'balance'],
    ['GET', 'redeem'],
  ])('answers 405 with Allow to %s on %s, and counts nothing', async (method, endpoint) => {
    const { ledger, alice, planId } = setup()
    const path = { order: `${planId}/order`, balance: `${planId}/balance/${alice.address}`, redeem: 'redeem' }[endpoint]
    const res = await ledger.fetch(`${ledger.baseUrl}/protocol/plans/${path}`, {
      method,
      headers: { Authorization: `Bearer ${alice.apiKey}` },
    })
    expect(res.status).toBe(405)
    expect(res.headers.get('allow')).toBe(endpoint === 'balance' ? 'GET' : 'POST')
    expect(res.headers.get('content-type')).toBe('application/json')
    expect(await res.json()).toEqual({ message: expect.any(String) })
    expect(Object.entries(ledger.counters).filter(([, n]) => n > 0)).toEqual([])
    expect(ledger.orders()).toBe(0)
  })

  it.each([
    '/protocol/plans/1/order/extra',
    '/protocol/plans/1/balance',
    '/protocol/agents',
    '/',
    '/../v2/protocol/plans/1/order',
  ])('answers 404 JSON to the unknown path %s', async (path) => {
    const { ledger, alice } = setup()
    const res = await ledger.fetch(`${ledger.baseUrl}${path}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${alice.apiKey}` },
    })
    expect(res.status).toBe(404)
    expect(res.headers.get('content-type')).toBe('application/json')
    expect(Object.entries(ledger.counters).filter(([, n]) => n > 0)).toEqual([])
  })

  it('rejects at once when the signal is already aborted', async () => {
    const { ledger, alice, planId, order } = setup()
    await expect(order(alice.apiKey, planId, { signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' })
    expect(ledger.wallet(alice.address)).toBe(25)
  })

  it('rejects (never throws) on a URL fetch could not use', async () => {
    const { ledger } = setup()
    const pending = ledger.fetch('http://[bad')
    expect(pending).toBeInstanceOf(Promise)
    await expect(pending).rejects.toBeInstanceOf(TypeError)
  })
})

describe('counters', () => {
  it('count every call that reached an endpoint, refused and faulted ones included', async () => {
    const { ledger, owner, alice, planId, order, balance, redeem } = setup()
    await order(alice.apiKey)
    await order('nvm:unknown')
    ledger.inject('order', { status: 503 })
    await order(alice.apiKey)
    ledger.inject('balance', { network: true })
    await balance(alice.apiKey, alice.address).catch(() => {})
    await balance(alice.apiKey, alice.address)
    await redeem(owner.apiKey, { planId, holderAddress: alice.address, amount: 1, proof: 'p' })

    expect(ledger.counters).toEqual({ order: 3, balance: 2, redeem: 1, plan: 0, verify: 0, settle: 0, delegation: 0, permission: 0 })
  })

  it('are a frozen snapshot', async () => {
    const { ledger, alice, order } = setup()
    const before = ledger.counters
    await order(alice.apiKey)
    expect(before.order).toBe(0)
    expect(ledger.counters.order).toBe(1)
    expect(Object.isFrozen(before)).toBe(true)
  })

  it('resetCounters sets them back to 0', async () => {
    const { ledger, alice, order } = setup()
    await order(alice.apiKey)
    ledger.resetCounters()
    expect(Object.entries(ledger.counters).filter(([, n]) => n > 0)).toEqual([])
    await order(alice.apiKey)
    expect(ledger.counters.order).toBe(1)
  })
})
