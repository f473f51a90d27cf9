import { afterEach, describe, expect, it } from 'vitest'
import { createPlanGate, type PlanGate } from '@plangate/core'
import { createLocalLedger } from '@plangate/core/local'
import { createExpressAgent } from '../../examples/express-agent'
import { createHonoAgent } from '../../examples/hono-agent'
import { listen, serveFetch } from '../helpers/serve'

const closers: Array<() => Promise<void>> = []
afterEach(async () => {
  while (closers.length) await closers.pop()!()
})

describe.each([
  ['Express example', (gate: PlanGate, planId: string) => listen(createExpressAgent({ gate, planId }))],
  ['Hono example on @hono/node-server', (gate: PlanGate, planId: string) => serveFetch(createHonoAgent({ gate, planId }).fetch)],
])('%s over real HTTP, with the local ledger over real HTTP', (_name, start) => {
  it('spends credits, orders once when they run out, answers 402 when the wallet is empty and 401 without a key', async () => {
    const ledger = createLocalLedger()
    const upstream = await serveFetch(ledger.fetch)
    closers.push(upstream.close)
    const agentAccount = ledger.createAccount({ funds: 0 })
    const subscriber = ledger.createAccount({ funds: 15 })
    const planId = ledger.createPlan({ credits: 2, price: 10, owner: agentAccount.address })
    // No custom fetch: the gate talks to the ledger over the network, as it would to Nevermined.
    const gate = createPlanGate({ apiKey: agentAccount.apiKey, environment: `${upstream.url}/api/v1` })
    const agent = await start(gate, planId)
    closers.push(agent.close)

    const ask = (key?: string) =>
      fetch(`${agent.url}/ask`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...(key ? { Authorization: `Bearer ${key}` } : {}) },
        body: JSON.stringify({ question: 'hello' }),
      })

    const noKey = await ask()
    expect(noKey.status).toBe(401)
    expect(noKey.headers.get('content-type')).toMatch(/^application\/problem\+json/)
    expect(noKey.headers.get('www-authenticate')).toMatch(/^Bearer/)

    const statuses: number[] = []
    const remaining: Array<string | null> = []
    for (let i = 0; i < 3; i++) {
      const response = await ask(subscriber.apiKey)
      statuses.push(response.status)
      remaining.push(response.headers.get('x-credits-remaining'))
      const body = (await response.json()) as { balance?: { remaining: number }; code?: string }
      if (response.status === 200) expect(body.balance?.remaining).toBe(Number(response.headers.get('x-credits-remaining')))
      else expect(body.code).toBe('PAYMENT_REQUIRED')
    }
    expect(statuses).toEqual([200, 200, 402])
    expect(remaining).toEqual(['1', '0', null])
    expect(ledger.orders(planId)).toBe(1)
    expect(ledger.wallet(subscriber.address)).toBe(5)

    await gate.close()
    expect(ledger.redeemed(planId)).toBe(2)
    expect(ledger.wallet(agentAccount.address)).toBe(10)
  })
})

describe('the Express example answers what express.json() refuses in problem+json, never with a stack', () => {
  it.each([
    ['malformed JSON', '{"question": ', 400],
    ['a body over its 16 kB limit', JSON.stringify({ question: 'x'.repeat(20_000) }), 413],
  ])('%s: %i', async (_what, body, status) => {
    const ledger = createLocalLedger()
    const owner = ledger.createAccount()
    const subscriber = ledger.createAccount({ funds: 10 })
    const planId = ledger.createPlan({ credits: 2, price: 10, owner: owner.address })
    const gate = createPlanGate({ apiKey: owner.apiKey, environment: ledger.baseUrl, fetch: ledger.fetch })
    const agent = await listen(createExpressAgent({ gate, planId }))
    closers.push(agent.close)
    const response = await fetch(`${agent.url}/ask`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${subscriber.apiKey}` },
      body,
    })
    expect(response.status).toBe(status)
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/)
    const text = await response.text()
    expect(text).not.toMatch(/\bat .*:\d+:\d+|<html|<pre/i)
    expect(JSON.parse(text)).toEqual({ type: 'about:blank', title: expect.any(String), status, detail: expect.any(String) })
    await gate.close()
    expect(ledger.redeemed(planId)).toBe(0)
  })

  it('an unknown route: 404 problem+json', async () => {
    const ledger = createLocalLedger()
    const owner = ledger.createAccount()
    const gate = createPlanGate({ apiKey: owner.apiKey, environment: ledger.baseUrl, fetch: ledger.fetch })
    const agent = await listen(createExpressAgent({ gate, planId: ledger.createPlan({ credits: 1, price: 1, owner: owner.address }) }))
    closers.push(agent.close)
    const response = await fetch(`${agent.url}/nowhere`)
    expect(response.status).toBe(404)
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/)
    expect(await response.json()).toMatchObject({ status: 404 })
    await gate.close()
  })
})
