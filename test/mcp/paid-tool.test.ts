/**
 * `paidTool`: plan and cost written once, so the price `tools/list` shows is the price a call
 * is charged. The official client over Streamable HTTP, Express on a real port, the local ledger
 * over HTTP.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { createPlanGate, type PlanGate } from '@plangate/core'
import type { LocalAccount } from '@plangate/core/local'
import { paidTool, PRICE_META } from '@plangate/mcp'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { serveMcp, startLedger, type Ledger, type McpApp } from './paid-server'

let world: Ledger
let alice: LocalAccount
let planId: string
let gate: PlanGate
let app: McpApp
let ran: string[]

function mcpServer(): McpServer {
  const mcp = new McpServer({ name: 'paid', version: '1.0.0' })
  paidTool(mcp, 'forecast', { inputSchema: { city: z.string() }, _meta: { 'acme/tier': 'gold' } }, planId, { gate, cost: 3 }, async ({ city }, extra) => {
    ran.push('forecast')
    return { content: [{ type: 'text', text: `sunny in ${city}, ${extra.balance.remaining} left` }] }
  })
  paidTool(mcp, 'search', {}, planId, { gate, cost: { max: 5, usage: () => 1 } }, async () => (ran.push('search'), { content: [] }))
  paidTool(mcp, 'by-size', { inputSchema: { n: z.number() } }, planId, { gate, cost: ({ args }) => (args as { n: number }).n }, async () => (ran.push('by-size'), { content: [] }))
  paidTool(mcp, 'default', {}, planId, { gate }, async () => (ran.push('default'), { content: [] }))
  return mcp
}

beforeEach(async () => {
  world = await startLedger()
  const owner = world.ledger.createAccount()
  alice = world.ledger.createAccount({ funds: 100 })
  planId = world.ledger.createPlan({ credits: 20, price: 10, owner: owner.address })
  await world.order(planId, alice)
  gate = createPlanGate({ apiKey: owner.apiKey, environment: world.url, autoOrder: false })
  ran = []
  app = await serveMcp(mcpServer)
})
afterEach(async () => {
  await gate.close()
  await app.close()
  await world.close()
})

describe('paidTool', () => {
  it('publishes in tools/list the price requirePlan charges, beside the tool\'s own _meta', async () => {
    const client = await app.client()
    const { tools } = await client.listTools()
    const meta = (name: string) => tools.find((t) => t.name === name)?._meta
    expect(meta('forecast')).toEqual({ 'acme/tier': 'gold', [PRICE_META]: { planId, credits: 3 } })
    expect(meta('search')).toEqual({ [PRICE_META]: { planId, maxCredits: 5 } })
    // A cost worked out per call has no price ahead: the plan only.
    expect(meta('by-size')).toEqual({ [PRICE_META]: { planId } })
    expect(meta('default')).toEqual({ [PRICE_META]: { planId, credits: 1 } })
    expect(ran).toEqual([])
  })

  it('a call is charged the published price, and the handler sees extra.balance', async () => {
    const client = await app.client({ Authorization: `Bearer ${alice.apiKey}` })
    const { tools } = await client.listTools()
    const published = (tools.find((t) => t.name === 'forecast')?._meta?.[PRICE_META] as { credits: number }).credits
    const result = await client.callTool({ name: 'forecast', arguments: { city: 'Porto' } })
    expect(result.content).toEqual([{ type: 'text', text: `sunny in Porto, ${20 - published} left` }])
    await client.close()
    await gate.close()
    expect(world.ledger.balance(planId, alice.address).remaining).toBe(20 - published)
    expect(ran).toEqual(['forecast'])
  })

  it('a bad plan or option throws before anything is registered', async () => {
    const mcp = new McpServer({ name: 'bad', version: '1.0.0' })
    expect(() => paidTool(mcp, 'x', {}, -1, { gate }, async () => ({ content: [] }))).toThrow(TypeError)
    expect(() => paidTool(mcp, 'x', {}, planId, { gate, cost: -2 }, async () => ({ content: [] }))).toThrow(/cost/)
    // The name is still free: nothing was registered.
    expect(() => paidTool(mcp, 'x', {}, planId, { gate }, async () => ({ content: [] }))).not.toThrow()
  })
})
