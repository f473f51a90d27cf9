/**
 * Paid resources and prompts on the official SDK end to end: `requirePlanForResource` and
 * `requirePlanForPrompt` on an `McpServer` behind Express 5's Streamable HTTP transport on a real
 * port, the official `Client`, the local ledger over HTTP. A read or a prompt that is not paid
 * for is a JSON-RPC error 402 carrying the PaymentRequired; a paid one burns its cost.
 */
import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js'
import { McpError } from '@modelcontextprotocol/sdk/types.js'
import { createPlanGate, type PlanGate } from '@plangate/core'
import type { LocalAccount } from '@plangate/core/local'
import { balanceOf, requirePlan, requirePlanForPrompt, requirePlanForResource } from '@plangate/mcp'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { serveMcp, startLedger, type Ledger, type McpApp } from './paid-server'

let world: Ledger
let alice: LocalAccount
let planId: string
let gate: PlanGate
let app: McpApp
/** Handlers that ran. */
let ran: string[]

function mcpServer(): McpServer {
  const mcp = new McpServer({ name: 'paid-resources', version: '1.0.0' })
  mcp.registerResource('report', 'reports://daily', { mimeType: 'text/plain' }, requirePlanForResource(planId, { gate, cost: 2 }, async (uri, extra) => {
    ran.push('report')
    return { contents: [{ uri: uri.href, text: `daily report, ${balanceOf(extra).remaining} left` }] }
  }))
  mcp.registerResource(
    'city',
    new ResourceTemplate('cities://{name}', { list: undefined }),
    {},
    requirePlanForResource(planId, { gate, cost: ({ args }) => ((args as { variables: { name: string } }).variables.name.length > 5 ? 3 : 1) }, async (uri, { name }) => {
      ran.push(`city:${String(name)}`)
      return { contents: [{ uri: uri.href, text: `about ${String(name)}` }] }
    }),
  )
  mcp.registerResource('atlas', 'reports://atlas', {}, requirePlanForResource(planId, { gate, cost: 500 }, async (uri) => (ran.push('atlas'), { contents: [{ uri: uri.href, text: 'atlas' }] })))
  mcp.registerResource('flaky', 'reports://flaky', {}, requirePlanForResource(planId, { gate, cost: 2 }, async () => {
    ran.push('flaky')
    throw new Error('disk on fire')
  }))
  mcp.registerPrompt('review', { argsSchema: { code: z.string() } }, requirePlanForPrompt(planId, { gate, cost: 3 }, async ({ code }) => {
    ran.push('review')
    return { messages: [{ role: 'user' as const, content: { type: 'text' as const, text: `Review: ${code}` } }] }
  }))
  mcp.registerPrompt('greet', {}, requirePlanForPrompt(planId, { gate, cost: 1 }, async (extra) => {
    ran.push('greet')
    return { messages: [{ role: 'user' as const, content: { type: 'text' as const, text: `hello, ${balanceOf(extra).remaining} left` } }] }
  }))
  // The types refuse a tool wrapper as a read callback; the cast is the mistake made anyway.
  mcp.registerResource('misused', 'reports://misused', {}, requirePlan(planId, { gate, cost: 1 }, async () => ({ content: [] })) as never)
  return mcp
}

beforeAll(async () => {
  world = await startLedger()
})
afterAll(() => world.close())
beforeEach(async () => {
  const owner = world.ledger.createAccount()
  alice = world.ledger.createAccount({ funds: 100 })
  planId = world.ledger.createPlan({ credits: 20, price: 10, owner: owner.address })
  gate = createPlanGate({ apiKey: owner.apiKey, environment: world.url, autoOrder: false, settle: { batchMs: 50 } })
  ran = []
  app = await serveMcp(mcpServer)
})
afterEach(async () => {
  await app.close()
  await gate.close()
})

/** What a call that must fail threw: an McpError, from the client. */
async function rejection(call: Promise<unknown>): Promise<McpError> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(McpError)
  return error as McpError
}

describe('requirePlanForResource and requirePlanForPrompt', () => {
  it('an unpaid resource read throws McpError 402 with the PaymentRequired as data; the handler never runs', async () => {
    const c = await app.client()
    const error = await rejection(c.readResource({ uri: 'reports://daily' }))
    expect(error.code).toBe(402)
    const data = error.data as { x402Version: number; error: string; accepts: unknown[] }
    expect(data).toMatchObject({ x402Version: 2, error: 'CREDENTIAL_MISSING' })
    expect(data.accepts.length).toBeGreaterThan(0)
    expect(JSON.stringify(data.accepts)).toContain(planId)
    expect(JSON.stringify(error)).not.toMatch(/\bat .*:\d+:\d+/)
    // A template read, and a prompt, are refused the same way.
    expect((await rejection(c.readResource({ uri: 'cities://Lisbon' }))).code).toBe(402)
    const prompt = await rejection(c.getPrompt({ name: 'review', arguments: { code: 'x' } }))
    expect(prompt.code).toBe(402)
    expect(prompt.data).toMatchObject({ x402Version: 2, error: 'CREDENTIAL_MISSING' })
    expect(ran).toEqual([])
    expect(world.ledger.counters.settle).toBe(0)
  })

  it('a holder without credits gets 402 PAYMENT_REQUIRED with an offer naming the plan, and no key in the error', async () => {
    const c = await app.client({ Authorization: `Bearer ${alice.apiKey}` })
    const error = await rejection(c.readResource({ uri: 'reports://daily' }))
    expect(error.code).toBe(402)
    expect(error.data).toMatchObject({ x402Version: 2, error: 'PAYMENT_REQUIRED' })
    expect(JSON.stringify((error.data as { accepts: unknown[] }).accepts)).toContain(planId)
    expect(`${error.message} ${JSON.stringify(error.data)}`).not.toContain(alice.apiKey)
    expect(ran).toEqual([])
  })

  it('a paid resource, a paid template and a paid prompt each burn their cost; the handler gets the balance', async () => {
    await world.order(planId, alice)
    const c = await app.client({ Authorization: `Bearer ${alice.apiKey}` })
    const report = await c.readResource({ uri: 'reports://daily' })
    expect(report.contents).toEqual([{ uri: 'reports://daily', text: 'daily report, 18 left' }])
    // The template's cost is a function of its variables: 3 for a long name.
    expect((await c.readResource({ uri: 'cities://Lisbon%20Old' })).contents[0]).toMatchObject({ text: 'about Lisbon%20Old' })
    const review = await c.getPrompt({ name: 'review', arguments: { code: 'let x = 1' } })
    expect(review.messages).toEqual([{ role: 'user', content: { type: 'text', text: 'Review: let x = 1' } }])
    const greet = await c.getPrompt({ name: 'greet' })
    expect(greet.messages[0]!.content).toEqual({ type: 'text', text: 'hello, 11 left' })
    await gate.close()
    expect(ran).toEqual(['report', 'city:Lisbon%20Old', 'review', 'greet'])
    expect(world.ledger.redeemed(planId)).toBe(2 + 3 + 3 + 1)
    expect(world.ledger.balance(planId, alice.address).remaining).toBe(20 - 9)
  })

  it('a throwing resource handler is charged nothing; a cost above the balance never runs the handler', async () => {
    await world.order(planId, alice)
    const c = await app.client({ Authorization: `Bearer ${alice.apiKey}` })
    const thrown = await rejection(c.readResource({ uri: 'reports://flaky' }))
    expect(thrown.code).not.toBe(402)
    const atlas = await rejection(c.readResource({ uri: 'reports://atlas' }))
    expect(atlas.code).toBe(402)
    expect(atlas.data).toMatchObject({ error: 'PAYMENT_REQUIRED' })
    await gate.close()
    expect(ran).toEqual(['flaky'])
    expect(world.ledger.redeemed(planId)).toBe(0)
    expect(world.ledger.balance(planId, alice.address).remaining).toBe(20)
  })

  it('requirePlan (for tools) on a resource says to use requirePlanForResource, and charges nothing', async () => {
    await world.order(planId, alice)
    const c = await app.client({ Authorization: `Bearer ${alice.apiKey}` })
    const error = await rejection(c.readResource({ uri: 'reports://misused' }))
    expect(error.message).toContain('requirePlanForResource')
    await gate.close()
    expect(world.ledger.redeemed(planId)).toBe(0)
  })

  it('bad arguments throw when the wrapper is made', () => {
    expect(() => requirePlanForResource(-1, { gate }, async () => ({ contents: [] }))).toThrow(TypeError)
    expect(() => requirePlanForPrompt(planId, { gate, cost: -2 }, async () => ({ messages: [] }))).toThrow(/cost/)
    expect(() => requirePlanForResource(planId, { gate }, undefined as never)).toThrow(/requirePlanForResource.*resource handler/)
    expect(() => requirePlanForPrompt(planId, { gate }, undefined as never)).toThrow(/prompt handler/)
  })
})
