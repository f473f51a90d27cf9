/**
 * What the gate decides, as an MCP tool call sees it: the ledger down or failing
 * (UPSTREAM_UNAVAILABLE, in band), the spend guard of auto-order (`autoOrder.maxOrders`), and a
 * custom `credential`. In every refusal the tool never runs. The official client over Streamable
 * HTTP, Express on a real port, the local ledger over HTTP with faults injected.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { createPlanGate, type PlanGate } from '@plangate/core'
import type { LocalAccount } from '@plangate/core/local'
import { requirePlan, type McpRequirePlanOptions } from '@plangate/mcp'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { serveMcp, startLedger, type Ledger, type McpApp } from './paid-server'

// A stack frame, as a leaked one would read.
const STACK_FRAME = /\bat .*:\d+:\d+/

let world: Ledger
let owner: LocalAccount
let alice: LocalAccount
let gate: PlanGate | undefined
let app: McpApp | undefined
let ran: number

beforeEach(async () => {
  world = await startLedger()
  owner = world.ledger.createAccount()
  alice = world.ledger.createAccount({ funds: 100 })
  ran = 0
})
afterEach(async () => {
  await gate?.close()
  await app?.close()
  await world.close()
  gate = app = undefined
})

/** Serves one paid tool, `ping`, of `planId` at `options` (the gate's own given here). */
async function serve(planId: string, options: McpRequirePlanOptions): Promise<McpApp> {
  app = await serveMcp(() => {
    const mcp = new McpServer({ name: 'paid', version: '1.0.0' })
    mcp.registerTool('ping', {}, requirePlan(planId, options, async () => (ran++, { content: [{ type: 'text', text: 'pong' }] })))
    return mcp
  })
  return app
}

async function callPing(headers: Record<string, string>) {
  const client = await app!.client(headers)
  const result = await client.callTool({ name: 'ping', arguments: {} })
  await client.close()
  return result
}

describe('@plangate/mcp: the ledger down or failing', () => {
  it('a balance read that keeps failing answers UPSTREAM_UNAVAILABLE in band; the tool never runs, and no key or stack is in the answer', async () => {
    const planId = world.ledger.createPlan({ credits: 20, price: 10, owner: owner.address })
    await world.order(planId, alice)
    gate = createPlanGate({ apiKey: owner.apiKey, environment: world.url, autoOrder: false })
    await serve(planId, { gate, cost: 2 })
    // The body a failing server might send: a stack, which must not be passed on.
    world.ledger.inject('balance', { status: 503, body: JSON.stringify({ message: 'Error: pool exhausted\n    at Pool.acquire (/srv/db.js:42:7)' }), times: 50 })

    const result = await callPing({ Authorization: `Bearer ${alice.apiKey}` })
    expect(result.isError).toBe(true)
    expect(result.structuredContent).toMatchObject({ x402Version: 2, error: 'UPSTREAM_UNAVAILABLE' })
    const text = JSON.stringify(result)
    expect(text).not.toContain(alice.apiKey)
    expect(text).not.toContain(owner.apiKey)
    expect(text).not.toMatch(STACK_FRAME)
    expect(ran).toBe(0)
  })

  it('a ledger that refuses connections answers the same', async () => {
    const planId = world.ledger.createPlan({ credits: 20, price: 10, owner: owner.address })
    await world.order(planId, alice)
    gate = createPlanGate({ apiKey: owner.apiKey, environment: world.url, autoOrder: false })
    await serve(planId, { gate, cost: 2 })
    await world.close()

    const result = await callPing({ Authorization: `Bearer ${alice.apiKey}` })
    expect(result.structuredContent).toMatchObject({ x402Version: 2, error: 'UPSTREAM_UNAVAILABLE' })
    expect(JSON.stringify(result)).not.toContain(alice.apiKey)
    expect(ran).toBe(0)
  })
})

describe('@plangate/mcp: the spend guard (autoOrder.maxOrders)', () => {
  it('orders the plan once for a holder with no credits, then refuses a second order; the tool does not run', async () => {
    // 2 credits a plan, 2 a call: each call after the first needs a new order.
    const planId = world.ledger.createPlan({ credits: 2, price: 1, owner: owner.address })
    gate = createPlanGate({ apiKey: owner.apiKey, environment: world.url, autoOrder: { maxOrders: 1 } })
    await serve(planId, { gate, cost: 2 })

    const first = await callPing({ Authorization: `Bearer ${alice.apiKey}` })
    expect(first.isError).toBeFalsy()
    expect(ran).toBe(1)
    const second = await callPing({ Authorization: `Bearer ${alice.apiKey}` })
    expect(second.isError).toBe(true)
    expect(second.structuredContent).toMatchObject({ x402Version: 2, error: 'PAYMENT_REQUIRED' })
    expect((second.structuredContent as { detail: string }).detail).toMatch(/spend guard/)
    expect(ran).toBe(1)
    expect(world.ledger.counters.order).toBe(1)
  })
})

describe('@plangate/mcp: a custom credential', () => {
  it('pays with what the credential function returns, and reads no other credential', async () => {
    const bob = world.ledger.createAccount({ funds: 100 })
    const planId = world.ledger.createPlan({ credits: 20, price: 10, owner: owner.address })
    await world.order(planId, alice)
    await world.order(planId, bob)
    gate = createPlanGate({ apiKey: owner.apiKey, environment: world.url, autoOrder: false })
    const fromApiKeyHeader: McpRequirePlanOptions['credential'] = ({ extra }) => {
      const value = extra.requestInfo?.headers?.['x-api-key']
      return typeof value === 'string' ? value : undefined
    }
    await serve(planId, { gate, cost: 2, credential: fromApiKeyHeader })

    // Bob's bearer would pay by default; the credential function says Alice's header pays.
    const paid = await callPing({ 'X-Api-Key': alice.apiKey, Authorization: `Bearer ${bob.apiKey}` })
    expect(paid.isError).toBeFalsy()
    const refused = await callPing({ Authorization: `Bearer ${bob.apiKey}` })
    expect(refused.structuredContent).toMatchObject({ x402Version: 2, error: 'CREDENTIAL_MISSING' })
    await gate.close()
    expect(world.ledger.balance(planId, alice.address).remaining).toBe(18)
    expect(world.ledger.balance(planId, bob.address).remaining).toBe(20)
    expect(ran).toBe(1)
  })

  it('a credential function that throws refuses the call in band (INTERNAL_ERROR), without its message', async () => {
    const planId = world.ledger.createPlan({ credits: 20, price: 10, owner: owner.address })
    gate = createPlanGate({ apiKey: owner.apiKey, environment: world.url, autoOrder: false })
    await serve(planId, {
      gate,
      credential: () => {
        throw new Error(`lookup failed for ${alice.apiKey}`)
      },
    })
    const result = await callPing({ Authorization: `Bearer ${alice.apiKey}` })
    expect(result.isError).toBe(true)
    expect(result.structuredContent).toMatchObject({ x402Version: 2, error: 'INTERNAL_ERROR' })
    expect(JSON.stringify(result)).not.toContain(alice.apiKey)
    expect(JSON.stringify(result)).not.toMatch(STACK_FRAME)
    expect(ran).toBe(0)
  })
})
