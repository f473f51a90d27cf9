/**
 * The stateless helpers with the official client over Streamable HTTP: `statelessFetchHandler` in
 * Hono (through the client transport's `fetch`, and as a Worker's `fetch(request, env, ctx)`),
 * `statelessHandler` in Express 5 on a real port; a local ledger behind the gate.
 */
import { statelessHandler } from '@plangate/mcp/node'
import { statelessFetchHandler } from '@plangate/mcp/web'
import express from 'express'
import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { connect, paidWorld, servedPerTest, type PaidWorld } from './transport-world'

let world: PaidWorld
const served = servedPerTest(() => world)

function honoApp(options?: Parameters<typeof statelessFetchHandler>[1]): Hono {
  const app = new Hono()
  app.all('/mcp', statelessFetchHandler(() => world.createServer(), options))
  return app
}

const viaHono = (app: Hono) => (url: string | URL, init?: RequestInit) => Promise.resolve(app.fetch(new Request(url, init)))

describe('statelessFetchHandler in Hono', () => {
  it('a paid call with an API key runs the tool and burns its price: one settle once the batch is flushed', async () => {
    world = paidWorld()
    await world.subscribe()
    const client = await connect('http://agent.test/mcp', { headers: { Authorization: `Bearer ${world.alice.apiKey}` }, fetch: viaHono(honoApp()) })
    const result = await client.callTool({ name: 'forecast', arguments: { city: 'Lisbon' } })
    expect(result.content).toEqual([{ type: 'text', text: 'sunny in Lisbon, 18 left' }])
    // A second call on a fresh server and transport: nothing is shared but the gate.
    expect((await client.callTool({ name: 'forecast', arguments: { city: 'Porto' } })).content).toEqual([{ type: 'text', text: 'sunny in Porto, 16 left' }])
    await client.close()
    await world.gate.close()
    expect(world.ledger.redeemed(world.planId)).toBe(4)
    expect(world.ledger.balance(world.planId, world.alice.address).remaining).toBe(16)
    expect(world.ledger.counters.settle).toBe(1)
    expect(world.ran).toEqual(['forecast', 'forecast'])
  })

  it('an unpaid call gets the in-band payment-required result, the tool never runs and nothing is settled', async () => {
    world = paidWorld()
    const client = await connect('http://agent.test/mcp', { fetch: viaHono(honoApp()) })
    const result = await client.callTool({ name: 'forecast', arguments: { city: 'Lisbon' } })
    expect(result.isError).toBe(true)
    expect(result.structuredContent).toMatchObject({ x402Version: 2, error: 'CREDENTIAL_MISSING' })
    expect((await client.callTool({ name: 'free', arguments: {} })).content).toEqual([{ type: 'text', text: 'free' }])
    await client.close()
    await world.gate.close()
    expect(world.ran).toEqual(['free'])
    expect(world.ledger.counters.settle).toBe(0)
  })

  it("as a Worker's fetch(request, env, ctx): the batched commit goes to ctx.waitUntil and lands through it alone", async () => {
    world = paidWorld({ batchMs: 30_000 }) // no timer fires within the test: only the flush does
    await world.subscribe()
    const handed: Promise<unknown>[] = []
    const ctx = { waitUntil: (work: Promise<unknown>) => void handed.push(work) }
    const worker = statelessFetchHandler(() => world.createServer())
    const env = { NVM_PLAN_ID: world.planId }
    const client = await connect('http://agent.test/mcp', {
      headers: { Authorization: `Bearer ${world.alice.apiKey}` },
      fetch: (url, init) => worker(new Request(url, init), env, ctx),
    })
    await client.callTool({ name: 'forecast', arguments: { city: 'Lisbon' } })
    await client.close()
    expect(handed.length).toBeGreaterThan(0)
    expect(world.ledger.redeemed(world.planId)).toBe(0) // batched: still pending
    const settled = Promise.all(handed)
    void world.gate.close() // the flush a batch timer would do; what waitUntil held must then resolve
    await settled
    expect(world.ledger.redeemed(world.planId)).toBe(2)
    expect(world.ledger.counters.settle).toBe(1)
  })

  it('hands work to options.waitUntil where the runtime gives no context, and passes env to createServer', async () => {
    world = paidWorld({ batchMs: 30_000 })
    await world.subscribe()
    const handed: Promise<unknown>[] = []
    const seen: unknown[] = []
    const app = new Hono<{ Bindings: { region: string } }>()
    app.all('/mcp', statelessFetchHandler<{ region: string }>(({ env }) => (seen.push(env?.region), world.createServer()), { waitUntil: (work) => void handed.push(work) }))
    const client = await connect('http://agent.test/mcp', {
      headers: { Authorization: `Bearer ${world.alice.apiKey}` },
      fetch: (url, init) => Promise.resolve(app.fetch(new Request(url, init), { region: 'eu' })),
    })
    await client.callTool({ name: 'forecast', arguments: { city: 'Lisbon' } })
    await client.close()
    expect(seen.length).toBeGreaterThan(0)
    expect(new Set(seen)).toEqual(new Set(['eu']))
    const settled = Promise.all(handed)
    void world.gate.close()
    await settled
    expect(handed.length).toBeGreaterThan(0)
    expect(world.ledger.redeemed(world.planId)).toBe(2)
  })

  it('GET and DELETE are answered 405 (no session to stream to); a failing createServer is a 500 without detail', async () => {
    world = paidWorld()
    const app = honoApp()
    for (const method of ['GET', 'DELETE']) {
      const response = await app.request('/mcp', { method, headers: { Accept: 'text/event-stream' } })
      expect(response.status).toBe(405)
      expect(response.headers.get('allow')).toBe('POST')
    }
    const failing = new Hono()
    failing.all('/mcp', statelessFetchHandler(() => {
      throw new Error('secret-detail')
    }))
    const response = await failing.request('/mcp', { method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' }, body: '{}' })
    expect(response.status).toBe(500)
    const text = await response.text()
    expect(JSON.parse(text)).toMatchObject({ jsonrpc: '2.0', error: { code: -32603 } })
    expect(text).not.toContain('secret-detail')
  })

  it('bad options throw when the handler is made', () => {
    world = paidWorld()
    expect(() => statelessFetchHandler(undefined as never)).toThrow(/createServer/)
    expect(() => statelessFetchHandler(() => world.createServer(), { waitUntil: 'no' as never })).toThrow(/waitUntil/)
    expect(() => statelessFetchHandler(() => world.createServer(), { transport: { sessionIdGenerator: () => 'x' } as never })).toThrow(/sessionIdGenerator/)
    expect(() => statelessHandler(undefined as never)).toThrow(/createServer/)
  })
})

describe('statelessHandler in Express 5', () => {
  it('after express.json(): a paid call burns its price, an unpaid one is refused in band; GET is 405', async () => {
    world = paidWorld()
    await world.subscribe()
    const app = express()
    app.all('/mcp', express.json(), statelessHandler(() => world.createServer()))
    const url = await served.listen(app)
    const paid = await connect(url, { headers: { Authorization: `Bearer ${world.alice.apiKey}` } })
    expect((await paid.callTool({ name: 'forecast', arguments: { city: 'Lisbon' } })).content).toEqual([{ type: 'text', text: 'sunny in Lisbon, 18 left' }])
    const unpaid = await connect(url)
    expect((await unpaid.callTool({ name: 'forecast', arguments: { city: 'Lisbon' } })).structuredContent).toMatchObject({ x402Version: 2, error: 'CREDENTIAL_MISSING' })
    expect((await fetch(url, { headers: { Accept: 'text/event-stream' } })).status).toBe(405)
    await Promise.all([paid.close(), unpaid.close()])
    await world.gate.close()
    expect(world.ledger.redeemed(world.planId)).toBe(2)
    expect(world.ledger.counters.settle).toBe(1)
    expect(world.ran).toEqual(['forecast'])
  })

  it('without a body parser: the transport reads the body itself', async () => {
    world = paidWorld()
    await world.subscribe()
    const handle = statelessHandler(() => world.createServer())
    const app = express()
    app.post('/mcp', (req, res) => void handle(req, res))
    const client = await connect(await served.listen(app), { headers: { Authorization: `Bearer ${world.alice.apiKey}` } })
    expect((await client.callTool({ name: 'forecast', arguments: { city: 'Oslo' } })).content).toEqual([{ type: 'text', text: 'sunny in Oslo, 18 left' }])
    await client.close()
    await world.gate.close()
    expect(world.ledger.redeemed(world.planId)).toBe(2)
  })
})
