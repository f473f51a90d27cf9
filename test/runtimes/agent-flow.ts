import { expect, vi } from 'vitest'
import type { Running } from './process'

/**
 * The auto-order flow, over real HTTP, against examples/hono-worker running in some runtime on its
 * in-process local ledger (plan: 3 credits for 10; a demo subscriber's wallet: 15, one order).
 * 401 without a key; then credits fall 2, 1, 0 on one automatic order; then 402 once the wallet
 * cannot pay for another; and every credit served is redeemed upstream.
 */
export async function checkAutoOrderFlow(agent: Running): Promise<void> {
  const ask = (key?: string) =>
    fetch(`${agent.url}/ask`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...(key ? { Authorization: `Bearer ${key}` } : {}) },
      body: JSON.stringify({ question: 'which runtime is this?' }),
    })

  const anonymous = await ask()
  await expectProblem(anonymous, 401, 'CREDENTIAL_MISSING')
  expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer/)

  const created = await fetch(`${agent.url}/demo/subscriber`, { method: 'POST' })
  expect(created.status).toBe(201)
  const subscriber = (await created.json()) as { apiKey: string; address: string; planId: string; funds: number }
  expect(subscriber).toMatchObject({ apiKey: expect.stringMatching(/^nvm:/), address: expect.stringMatching(/^0x[0-9a-f]{40}$/), funds: 15 })

  const remaining: number[] = []
  for (let i = 0; i < 3; i++) {
    const response = await ask(subscriber.apiKey)
    expect(response.status, agent.output()).toBe(200)
    const body = (await response.json()) as { answer: string; balance: { remaining: number; planId: string } }
    expect(body.answer).toContain('which runtime is this?')
    expect(body.balance.planId).toBe(subscriber.planId)
    expect(response.headers.get('x-credits-remaining')).toBe(String(body.balance.remaining))
    expect(response.headers.get('x-plan-id')).toBe(subscriber.planId)
    remaining.push(body.balance.remaining)
  }
  expect(remaining).toEqual([2, 1, 0])

  const broke = await ask(subscriber.apiKey)
  await expectProblem(broke, 402, 'PAYMENT_REQUIRED', agent)

  // Redemptions go out after each response: on Workers only if handed to waitUntil.
  await vi.waitFor(
    async () => {
      const ledger = await (await fetch(`${agent.url}/demo/ledger/${subscriber.address}`)).json()
      expect(ledger).toEqual({ planId: subscriber.planId, orders: 1, redeemed: 3, wallet: 5 })
    },
    { timeout: 10_000, interval: 100 },
  )
}

/**
 * Eight concurrent first requests of a new subscriber (run after `checkAutoOrderFlow`, on the same
 * agent): they share one automatic order, 3 are served and 5 refused with 402, 3 credits are
 * redeemed. On workerd this has requests wait on promises that other requests created.
 */
export async function checkConcurrentBurst(agent: Running): Promise<void> {
  const subscriber = (await (await fetch(`${agent.url}/demo/subscriber`, { method: 'POST' })).json()) as { apiKey: string; address: string; planId: string }
  const burst = await Promise.all(
    Array.from({ length: 8 }, () => fetch(`${agent.url}/ask`, { method: 'POST', headers: { Authorization: `Bearer ${subscriber.apiKey}` } })),
  )
  const codes = await Promise.all(burst.map(async (response) => (response.status === 200 ? 200 : ((await response.json()) as { code: string }).code)))
  expect(codes.filter((code) => code === 200), agent.output()).toHaveLength(3)
  expect(codes.filter((code) => code === 'PAYMENT_REQUIRED')).toHaveLength(5)
  // Counted per plan: the first subscriber's order and 3 credits, then this one's.
  await vi.waitFor(
    async () => {
      const ledger = await (await fetch(`${agent.url}/demo/ledger/${subscriber.address}`)).json()
      expect(ledger).toEqual({ planId: subscriber.planId, orders: 2, redeemed: 6, wallet: 5 })
    },
    { timeout: 10_000, interval: 100 },
  )
}

async function expectProblem(response: Response, status: number, code: string, agent?: Running): Promise<void> {
  expect(response.status, agent?.output()).toBe(status)
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/)
  expect(await response.json()).toMatchObject({ status, code, type: expect.any(String), title: expect.any(String) })
}
