/**
 * A cancelled call is charged nothing, and concurrent calls are each charged once: the official
 * `Client` over Streamable HTTP (Express 5 on a real port), the local ledger over HTTP. The
 * cancellation runs on a server with sessions, where the client's `notifications/cancelled`
 * reaches the handler's `extra.signal`.
 */
import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js'
import { createPlanGate, type PlanGate } from '@plangate/core'
import type { LocalAccount } from '@plangate/core/local'
import { requirePlan, requirePlanForPrompt, requirePlanForResource } from '@plangate/mcp'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { serveMcp, signal, startLedger, type Ledger, type McpApp } from './paid-server'

let world: Ledger
let alice: LocalAccount
let planId: string
let gate: PlanGate
let app: McpApp | undefined
/** Handlers that ran, and those that finished after their call was cancelled. */
let ran: string[]
let started: ReturnType<typeof signal<string>>
let finished: ReturnType<typeof signal<string>>

/** Waits for its call to be cancelled, then answers all the same: the wrapper must not charge it. */
function afterCancel(name: string, extra: { signal: AbortSignal }): Promise<void> {
  ran.push(name)
  started.resolve(name)
  return new Promise<void>((resolve) => extra.signal.addEventListener('abort', () => resolve(), { once: true })).then(() => finished.resolve(name))
}

function mcpServer(): McpServer {
  const mcp = new McpServer({ name: 'paid', version: '1.0.0' })
  mcp.registerTool('forecast', { inputSchema: { city: z.string() } }, requirePlan(planId, { gate, cost: 2 }, async ({ city }) => {
    ran.push(`forecast:${city}`)
    return { content: [{ type: 'text', text: `sunny in ${city}` }] }
  }))
  mcp.registerResource('city', new ResourceTemplate('cities://{name}', { list: undefined }), {}, requirePlanForResource(planId, { gate, cost: 1 }, async (uri, { name }) => {
    ran.push(`city:${String(name)}`)
    return { contents: [{ uri: uri.href, text: `about ${String(name)}` }] }
  }))
  mcp.registerPrompt('review', { argsSchema: { code: z.string() } }, requirePlanForPrompt(planId, { gate, cost: 1 }, async ({ code }) => {
    ran.push(`review:${code}`)
    return { messages: [{ role: 'user' as const, content: { type: 'text' as const, text: `Review: ${code}` } }] }
  }))
  mcp.registerTool('slow', {}, requirePlan(planId, { gate, cost: 3 }, async (extra) => {
    await afterCancel('slow', extra)
    return { content: [{ type: 'text', text: 'late' }] }
  }))
  mcp.registerResource('slow-report', 'reports://slow', {}, requirePlanForResource(planId, { gate, cost: 3 }, async (uri, extra) => {
    await afterCancel('slow-report', extra)
    return { contents: [{ uri: uri.href, text: 'late' }] }
  }))
  mcp.registerPrompt('slow-prompt', {}, requirePlanForPrompt(planId, { gate, cost: 3 }, async (extra) => {
    // Called (extra) without an argsSchema; the SDK's types infer (args, extra) for a config of {}.
    await afterCancel('slow-prompt', extra as unknown as { signal: AbortSignal })
    return { messages: [{ role: 'user' as const, content: { type: 'text' as const, text: 'late' } }] }
  }))
  return mcp
}

beforeAll(async () => {
  world = await startLedger()
})
afterAll(() => world.close())
beforeEach(() => {
  const owner = world.ledger.createAccount()
  alice = world.ledger.createAccount({ funds: 100 })
  planId = world.ledger.createPlan({ credits: 20, price: 10, owner: owner.address })
  gate = createPlanGate({ apiKey: owner.apiKey, environment: world.url, autoOrder: false, settle: { batchMs: 50 } })
  ran = []
  started = signal<string>()
  finished = signal<string>()
})
afterEach(async () => {
  await app?.close()
  app = undefined
  await gate.close()
})

describe('a cancelled call', () => {
  const calls = {
    tool: (c: Awaited<ReturnType<McpApp['client']>>, s: AbortSignal) => c.callTool({ name: 'slow', arguments: {} }, undefined, { signal: s }),
    resource: (c: Awaited<ReturnType<McpApp['client']>>, s: AbortSignal) => c.readResource({ uri: 'reports://slow' }, { signal: s }),
    prompt: (c: Awaited<ReturnType<McpApp['client']>>, s: AbortSignal) => c.getPrompt({ name: 'slow-prompt' }, { signal: s }),
  }
  for (const [kind, call] of Object.entries(calls)) {
    it(`(${kind}) cancelled with the client's AbortSignal is charged nothing, even if its handler answers`, async () => {
      await world.order(planId, alice)
      app = await serveMcp(mcpServer, 'sessions')
      const c = await app.client({ Authorization: `Bearer ${alice.apiKey}` })
      const cancel = new AbortController()
      const answered = call(c, cancel.signal).then(
        () => 'answered',
        () => 'rejected',
      )
      await started.promise
      cancel.abort(new Error('the user changed their mind'))
      expect(await answered).toBe('rejected')
      // The handler saw the cancellation through extra.signal, and answered after it.
      expect(await finished.promise).toBe(await started.promise)
      await app.close()
      app = undefined
      await gate.close()
      expect(world.ledger.redeemed(planId)).toBe(0)
      expect(world.ledger.balance(planId, alice.address).remaining).toBe(20)
    })
  }
})

describe('a client that goes away', () => {
  it('closing its transport mid-call (the stateless pattern) aborts the handler, which is charged nothing', async () => {
    await world.order(planId, alice)
    app = await serveMcp(mcpServer)
    const c = await app.client({ Authorization: `Bearer ${alice.apiKey}` })
    const answered = c.callTool({ name: 'slow', arguments: {} }).then(
      () => 'answered',
      () => 'rejected',
    )
    expect(await started.promise).toBe('slow')
    await c.close()
    expect(await answered).toBe('rejected')
    expect(await finished.promise).toBe('slow')
    await app.close()
    app = undefined
    await gate.close()
    expect(world.ledger.redeemed(planId)).toBe(0)
    expect(world.ledger.balance(planId, alice.address).remaining).toBe(20)
  })
})

describe('concurrent calls', () => {
  it('20 calls at once over two clients (tools, resources, prompts) are all answered right, and the balance falls by exactly their costs', async () => {
    await world.order(planId, alice)
    await world.order(planId, alice)
    const before = world.ledger.balance(planId, alice.address).remaining
    expect(before).toBe(40)
    app = await serveMcp(mcpServer)
    const clients = [await app.client({ Authorization: `Bearer ${alice.apiKey}` }), await app.client({ Authorization: `Bearer ${alice.apiKey}` })]
    const texts = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const c = clients[i % 2]!
        if (i % 3 === 0) return ((await c.callTool({ name: 'forecast', arguments: { city: `c${i}` } })).content as Array<{ text: string }>)[0]!.text
        if (i % 3 === 1) return ((await c.readResource({ uri: `cities://n${i}` })).contents[0] as { text: string }).text
        return ((await c.getPrompt({ name: 'review', arguments: { code: `k${i}` } })).messages[0]!.content as { text: string }).text
      }),
    )
    expect(texts).toEqual(Array.from({ length: 20 }, (_, i) => (i % 3 === 0 ? `sunny in c${i}` : i % 3 === 1 ? `about n${i}` : `Review: k${i}`)))
    await app.close()
    app = undefined
    await gate.close()
    // 7 forecasts at 2, 7 resource reads and 6 prompts at 1.
    const cost = 7 * 2 + 7 + 6
    expect(ran).toHaveLength(20)
    expect(world.ledger.redeemed(planId)).toBe(cost)
    expect(world.ledger.balance(planId, alice.address).remaining).toBe(before - cost)
  })
})
