/**
 * A caller that hangs up mid-call, on real ports: the stateless helpers close the request's
 * server, which aborts the tool's `extra.signal`, and the call is charged nothing. (In this
 * pattern the SDK client's cancellation notification is a new request, reaching a new server:
 * the disconnect is what the running call can see.) Express 5 with `statelessHandler`, Hono on
 * @hono/node-server with `statelessFetchHandler`.
 */
import { statelessHandler } from '@plangate/mcp/node'
import { statelessFetchHandler } from '@plangate/mcp/web'
import express from 'express'
import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { paidWorld, servedPerTest, type PaidWorld } from './transport-world'

let world: PaidWorld
const served = servedPerTest(() => world)

async function express5(): Promise<string> {
  const app = express()
  app.all('/mcp', express.json(), statelessHandler(() => world.createServer()))
  return served.listen(app)
}

async function honoOnNode(): Promise<string> {
  const app = new Hono()
  app.all('/mcp', statelessFetchHandler(() => world.createServer()))
  return served.serveFetch(app.fetch)
}

async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !done(); i++) await new Promise((resolve) => setTimeout(resolve, 25))
}

describe.each([
  ['Express 5, statelessHandler', express5],
  ['Hono on @hono/node-server, statelessFetchHandler', honoOnNode],
])('%s', (_name, start) => {
  it('a caller that hangs up mid-call aborts the tool and is charged nothing', async () => {
    world = paidWorld()
    await world.subscribe()
    const url = await start()
    const hangUp = new AbortController()
    const call = fetch(url, {
      method: 'POST',
      signal: hangUp.signal,
      headers: { Authorization: `Bearer ${world.alice.apiKey}`, 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'slow', arguments: {} } }),
    })
    await until(() => world.ran.includes('slow'))
    expect(world.ran).toEqual(['slow'])
    hangUp.abort()
    await call.then((response) => response.text()).catch(() => undefined)
    await until(() => world.ran.includes('aborted'))
    expect(world.ran).toEqual(['slow', 'aborted'])
    await world.gate.close()
    expect(world.ledger.redeemed(world.planId)).toBe(0)
    expect(world.ledger.balance(world.planId, world.alice.address).remaining).toBe(20)
  })
})
