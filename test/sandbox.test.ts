/**
 * Against the real Nevermined sandbox. Runs only when NVM_API_KEY (the agent's key), NVM_PLAN_ID,
 * NVM_AGENT_ID and NVM_SUBSCRIBER_KEY are set: it orders the plan for the subscriber if its
 * credits cannot cover one request, serves one paid request, burns its credit through x402
 * settle, and checks that the balance fell. It spends one credit (and at most one order) of that plan.
 */
import { describe, expect, it } from 'vitest'
import { createPlanGate, ENVIRONMENTS, NeverminedClient } from '@plangate/core'
import { parseApiKey } from '@plangate/core/adapter'
import { createNodeFetch } from '@plangate/node'

const { NVM_API_KEY, NVM_PLAN_ID, NVM_AGENT_ID, NVM_SUBSCRIBER_KEY, NVM_ENVIRONMENT } = process.env
const configured = Boolean(NVM_API_KEY && NVM_PLAN_ID && NVM_AGENT_ID && NVM_SUBSCRIBER_KEY)
const environment = NVM_ENVIRONMENT ?? 'sandbox'
const baseUrl = environment === 'live' ? ENVIRONMENTS.live : environment === 'sandbox' ? ENVIRONMENTS.sandbox : environment

describe.skipIf(!configured)('the real Nevermined sandbox', () => {
  it.each([
    ['fetch', undefined],
    ['createNodeFetch', createNodeFetch()],
  ])('reads the subscriber balance in a shape the client accepts (through %s)', async (_name, fetch) => {
    const client = new NeverminedClient({ baseUrl, timeoutMs: 15_000, fetch })
    const holder = parseApiKey(NVM_SUBSCRIBER_KEY!).address
    const balance = await client.balance(NVM_PLAN_ID!, holder, NVM_SUBSCRIBER_KEY!)
    expect(Number.isSafeInteger(balance.remaining)).toBe(true)
  })

  it('orders if needed, serves, settles through x402, and the balance falls', async () => {
    const errors: unknown[] = []
    const client = new NeverminedClient({ baseUrl, timeoutMs: 15_000 })
    const holder = parseApiKey(NVM_SUBSCRIBER_KEY!).address
    const gate = createPlanGate({
      apiKey: NVM_API_KEY,
      environment,
      agentId: NVM_AGENT_ID,
      timeoutMs: 15_000,
      autoOrder: { maxOrders: 1 },
      hooks: { onError: (error) => void errors.push(error) },
    })
    const lease = await gate.reserve(NVM_PLAN_ID!, NVM_SUBSCRIBER_KEY, 1, { url: '/sandbox-test', method: 'POST' })
    const before = (await client.balance(NVM_PLAN_ID!, holder, NVM_SUBSCRIBER_KEY!)).remaining
    await lease.commit()
    await gate.close()
    expect(errors).toEqual([])
    const after = (await client.balance(NVM_PLAN_ID!, holder, NVM_SUBSCRIBER_KEY!)).remaining
    expect(after).toBeLessThan(before)
  }, 120_000)
})
