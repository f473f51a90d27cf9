/**
 * Against the real Nevermined sandbox. Runs only when NVM_API_KEY (the agent's key),
 * NVM_PLAN_ID and NVM_SUBSCRIBER_KEY are set; it spends one credit of that plan.
 */
import { describe, expect, it } from 'vitest'
import { createPlanGate, NeverminedClient, parseApiKey, ENVIRONMENTS } from '@plangate/core'
import { createNodeFetch } from '@plangate/node'

const { NVM_API_KEY, NVM_PLAN_ID, NVM_SUBSCRIBER_KEY, NVM_ENVIRONMENT } = process.env
const configured = Boolean(NVM_API_KEY && NVM_PLAN_ID && NVM_SUBSCRIBER_KEY)

describe.skipIf(!configured)('the real Nevermined sandbox', () => {
  it.each([
    ['fetch', undefined],
    ['createNodeFetch', createNodeFetch()],
  ])('reads the subscriber balance in a shape the client accepts (through %s)', async (_name, fetch) => {
    const client = new NeverminedClient({ baseUrl: ENVIRONMENTS.sandbox, timeoutMs: 15_000, fetch })
    const holder = parseApiKey(NVM_SUBSCRIBER_KEY!).address
    const balance = await client.balance(NVM_PLAN_ID!, holder, NVM_SUBSCRIBER_KEY!)
    expect(Number.isSafeInteger(balance.remaining)).toBe(true)
  })

  it('spends and redeems one credit through the gate', async () => {
    const gate = createPlanGate({ apiKey: NVM_API_KEY, environment: NVM_ENVIRONMENT ?? 'sandbox', timeoutMs: 15_000 })
    const lease = await gate.reserve(NVM_PLAN_ID!, NVM_SUBSCRIBER_KEY, 1)
    expect(lease.balance.remaining).toBeGreaterThanOrEqual(0)
    lease.commit()
    await gate.close()
  }, 60_000)
})
