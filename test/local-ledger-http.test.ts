import type { AddressInfo } from 'node:net'
import { serve, type ServerType } from '@hono/node-server'
import { createLocalLedger, type LocalLedger } from '@plangate/core/local'
import { afterEach, describe, expect, it } from 'vitest'

// The ledger served over real HTTP, as the demo and the end-to-end tests run it: the same
// handler must answer when it sits behind @hono/node-server on another host and port.
let server: ServerType | undefined

afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()))
  server = undefined
})

async function listen(ledger: LocalLedger): Promise<string> {
  const port = await new Promise<number>((resolve) => {
    server = serve({ fetch: ledger.fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) => resolve(info.port))
  })
  return `http://127.0.0.1:${port}/api/v1`
}

describe('the local ledger over real HTTP', () => {
  it('orders, reads balances and redeems with the host and port of the server', async () => {
    const ledger = createLocalLedger({ serveRedeem: true })
    const owner = ledger.createAccount()
    const alice = ledger.createAccount({ funds: 25 })
    const planId = ledger.createPlan({ credits: 2, price: 10, owner: owner.address })
    const base = await listen(ledger)
    const auth = (key: string) => ({ Authorization: `Bearer ${key}`, Accept: 'application/json' })

    const ordered = await fetch(`${base}/protocol/plans/${planId}/order`, { method: 'POST', headers: auth(alice.apiKey) })
    expect(ordered.status).toBe(200)
    expect(ordered.headers.get('content-type')).toBe('application/json')
    expect((await ordered.json()).balance).toEqual({ isSubscriber: true, total: 2, used: 0, remaining: 2, expiresAt: null })

    const redeemed = await fetch(`${base}/protocol/plans/redeem`, {
      method: 'POST',
      headers: { ...auth(owner.apiKey), 'Content-Type': 'application/json' },
      body: JSON.stringify({ planId, holderAddress: alice.address, amount: 1, proof: 'lease-1' }),
    })
    expect(await redeemed.json()).toEqual({ success: true, creditsRedeemed: 1, remainingBalance: 1 })

    const balance = await fetch(`${base}/protocol/plans/${planId}/balance/${alice.address}`, { headers: auth(alice.apiKey) })
    expect(await balance.json()).toEqual({ isSubscriber: true, total: 2, used: 1, remaining: 1, expiresAt: null })

    expect(ledger.wallet(alice.address)).toBe(15)
    expect(ledger.counters).toEqual({ order: 1, balance: 1, redeem: 1, plan: 0, verify: 0, settle: 0, delegation: 0, permission: 0 })
  })

  it('answers 401, 404 and 405 over HTTP too', async () => {
    const ledger = createLocalLedger()
    const alice = ledger.createAccount({ funds: 25 })
    const planId = ledger.createPlan({ credits: 2, price: 10, owner: alice.address })
    const base = await listen(ledger)

    expect((await fetch(`${base}/protocol/plans/${planId}/order`, { method: 'POST' })).status).toBe(401)
    const headers = { Authorization: `Bearer ${alice.apiKey}` }
    expect((await fetch(`${base}/protocol/plans/9/order`, { method: 'POST', headers })).status).toBe(404)
    expect((await fetch(`${base}/nothing/here`, { headers })).status).toBe(404)
    const wrong = await fetch(`${base}/protocol/plans/${planId}/order`, { headers })
    expect(wrong.status).toBe(405)
    expect(wrong.headers.get('allow')).toBe('POST')
  })

  it('serves injected faults: status with headers, and a delay the client gives up on', async () => {
    const ledger = createLocalLedger()
    const alice = ledger.createAccount({ funds: 25 })
    const planId = ledger.createPlan({ credits: 2, price: 10, owner: alice.address })
    const base = await listen(ledger)
    const init = { method: 'POST', headers: { Authorization: `Bearer ${alice.apiKey}` } }

    ledger.inject('order', { status: 503, headers: { 'Retry-After': '3' } })
    const faulty = await fetch(`${base}/protocol/plans/${planId}/order`, init)
    expect(faulty.status).toBe(503)
    expect(faulty.headers.get('retry-after')).toBe('3')

    ledger.inject('order', { delayMs: 10_000 })
    const started = performance.now()
    await expect(fetch(`${base}/protocol/plans/${planId}/order`, { ...init, signal: AbortSignal.timeout(100) })).rejects.toMatchObject({
      name: 'TimeoutError',
    })
    expect(performance.now() - started).toBeLessThan(5_000)
    expect(ledger.wallet(alice.address)).toBe(25)
  })
})
