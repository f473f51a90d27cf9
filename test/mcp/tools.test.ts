/**
 * Paid MCP tools with the official SDK end to end: an `McpServer` behind Express 5's Streamable
 * HTTP transport on a real port (a fresh server and transport per request, the SDK's stateless
 * pattern), the official `Client` with `StreamableHTTPClientTransport`, and the local ledger
 * served over loopback HTTP (the gate reaches it as it reaches Nevermined's API).
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js'
import { createPlanGate, type PlanGate } from '@plangate/core'
import type { LocalAccount, LocalLedger } from '@plangate/core/local'
import { priceMeta, requirePlan } from '@plangate/mcp'
import express from 'express'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { startLedger, type Ledger } from './paid-server'

let world: Ledger
let ledger: LocalLedger
let alice: LocalAccount
let planId: string
let gate: PlanGate
let url: string
let server: http.Server
/** Tool handlers that ran. */
let ran: string[]

function mcpServer(): McpServer {
  const mcp = new McpServer({ name: 'paid-tools', version: '1.0.0' })
  mcp.registerTool('forecast', { inputSchema: { city: z.string() }, _meta: priceMeta(planId, 2) }, requirePlan(planId, { gate, cost: 2 }, async ({ city }, extra) => {
    ran.push('forecast')
    return { content: [{ type: 'text', text: `sunny in ${city}, ${extra.balance.remaining} left` }] }
  }))
  mcp.registerTool('ping', {}, requirePlan(planId, { gate, cost: 1 }, async () => (ran.push('ping'), { content: [{ type: 'text', text: 'pong' }] })))
  mcp.registerTool('broken', {}, requirePlan(planId, { gate, cost: 3 }, async () => (ran.push('broken'), { isError: true, content: [{ type: 'text', text: 'no' }] })))
  mcp.registerTool('throws', {}, requirePlan(planId, { gate, cost: 3 }, async () => {
    ran.push('throws')
    throw new Error('tool failed')
  }))
  mcp.registerTool('search', { inputSchema: { q: z.string() } }, requirePlan(planId, { gate, cost: { max: 10, usage: ({ result }) => (result.structuredContent as { hits: number }).hits } }, async () => {
    ran.push('search')
    return { content: [{ type: 'text', text: '4 hits' }], structuredContent: { hits: 4 } }
  }))
  mcp.registerTool('expensive', {}, requirePlan(planId, { gate, cost: 500 }, async () => (ran.push('expensive'), { content: [{ type: 'text', text: 'done' }] })))
  mcp.registerTool('free', {}, async () => (ran.push('free'), { content: [{ type: 'text', text: 'free' }] }))
  return mcp
}

beforeEach(async () => {
  world = await startLedger()
  ledger = world.ledger
  const owner = ledger.createAccount()
  alice = ledger.createAccount({ funds: 100 })
  planId = ledger.createPlan({ credits: 20, price: 10, owner: owner.address })
  gate = createPlanGate({ apiKey: owner.apiKey, environment: world.url, autoOrder: false, settle: { batchMs: 50 } })
  ran = []
  const app = express()
  app.post('/mcp', express.json(), async (req, res) => {
    const mcp = mcpServer()
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined })
    res.on('close', () => void transport.close().then(() => mcp.close()))
    await mcp.connect(transport)
    await transport.handleRequest(req, res, req.body)
  })
  server = http.createServer(app)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`
})
afterEach(async () => {
  await gate.close()
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
  await world.close()
})

async function client(headers: Record<string, string> = {}): Promise<Client> {
  const c = new Client({ name: 'test-client', version: '1.0.0' })
  await c.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }))
  return c
}

async function subscribed(): Promise<Client> {
  await world.order(planId, alice)
  return client({ Authorization: `Bearer ${alice.apiKey}` })
}

describe('@plangate/mcp requirePlan on McpServer tools', () => {
  it('a paid call with an API key runs the tool, hands it extra.balance, and burns its price in one settle over HTTP', async () => {
    const c = await subscribed()
    const result = await c.callTool({ name: 'forecast', arguments: { city: 'Lisbon' } })
    expect(result.isError).toBeFalsy()
    expect(result.content).toEqual([{ type: 'text', text: 'sunny in Lisbon, 18 left' }])
    await c.close()
    await gate.close() // flushes the batched commit
    expect(ledger.balance(planId, alice.address).remaining).toBe(18)
    expect(ledger.redeemed(planId)).toBe(2)
    expect(ledger.counters.settle).toBe(1)
    expect(ran).toEqual(['forecast'])
  })

  it('initialize and tools/list cost nothing; an unpaid call gets the in-band payment-required result and the tool never runs', async () => {
    const c = await client()
    const { tools } = await c.listTools()
    expect(tools.find((t) => t.name === 'forecast')?._meta).toEqual({ 'plangate/price': { planId, credits: 2 } })
    const result = await c.callTool({ name: 'forecast', arguments: { city: 'Lisbon' } })
    expect(result.isError).toBe(true)
    const offer = result.structuredContent as Record<string, unknown>
    expect(offer).toMatchObject({ x402Version: 2, error: 'CREDENTIAL_MISSING' })
    expect(JSON.parse((result.content as Array<{ text: string }>)[0]!.text)).toEqual(offer)
    expect(JSON.stringify(result)).not.toMatch(/\bat .*:\d+:\d+/)
    await c.close()
    expect(ran).toEqual([])
    expect(ledger.counters.settle).toBe(0)
  })

  it('a holder without credits is refused with PAYMENT_REQUIRED and an offer naming the plan', async () => {
    const c = await client({ Authorization: `Bearer ${alice.apiKey}` })
    const result = await c.callTool({ name: 'ping', arguments: {} })
    expect(result.isError).toBe(true)
    expect(result.structuredContent).toMatchObject({ x402Version: 2, error: 'PAYMENT_REQUIRED' })
    expect(JSON.stringify((result.structuredContent as { accepts: unknown[] }).accepts)).toContain(planId)
    await c.close()
    expect(ran).toEqual([])
  })

  it('an isError result and a thrown handler are charged nothing; a price above the balance never runs the tool', async () => {
    const c = await subscribed()
    expect((await c.callTool({ name: 'broken', arguments: {} })).isError).toBe(true)
    expect((await c.callTool({ name: 'throws', arguments: {} })).isError).toBe(true)
    const expensive = await c.callTool({ name: 'expensive', arguments: {} })
    expect(expensive.structuredContent).toMatchObject({ error: 'PAYMENT_REQUIRED' })
    await c.close()
    await gate.close()
    expect(ran).toEqual(['broken', 'throws'])
    expect(ledger.redeemed(planId)).toBe(0)
    expect(ledger.balance(planId, alice.address).remaining).toBe(20)
  })

  it('priced by usage: the usage function of the result decides the charge', async () => {
    const c = await subscribed()
    const result = await c.callTool({ name: 'search', arguments: { q: 'x' } })
    expect(result.structuredContent).toEqual({ hits: 4 })
    await c.close()
    await gate.close()
    expect(ledger.redeemed(planId)).toBe(4)
  })

  it('20 concurrent calls over two clients are all answered, and the charges add up exactly', async () => {
    const clients = [await subscribed(), await client({ Authorization: `Bearer ${alice.apiKey}` })]
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => clients[i % 2]!.callTool({ name: i % 4 === 0 ? 'forecast' : 'ping', arguments: i % 4 === 0 ? { city: 'Porto' } : {} })))
    const served = results.filter((r) => !r.isError).length
    for (const r of results.filter((r) => r.isError)) expect(r.structuredContent).toMatchObject({ error: 'PAYMENT_REQUIRED' })
    await Promise.all(clients.map((c) => c.close()))
    await gate.close()
    // 5 forecasts (2 each) and 15 pings (1 each) ask 25 of the 20 credits: what was served was burned, never more than there was.
    const cost = results.reduce((sum, r, i) => sum + (r.isError ? 0 : i % 4 === 0 ? 2 : 1), 0)
    expect(served).toBeGreaterThan(0)
    expect(ledger.redeemed(planId)).toBe(cost)
    expect(cost).toBeLessThanOrEqual(20)
  })

  it('bad arguments throw when the wrapper is made', () => {
    expect(() => requirePlan(-1, { gate }, async () => ({ content: [] }))).toThrow(TypeError)
    expect(() => requirePlan(planId, { gate, cost: -2 }, async () => ({ content: [] }))).toThrow(/cost/)
    expect(() => requirePlan(planId, { gate }, undefined as never)).toThrow(/handler/)
  })
})
