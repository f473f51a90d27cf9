/**
 * `statelessHandler` through Koa 3's and Fastify 5's raw Node request and response, on real
 * ports, with the official client and the local ledger: a paid call burns its price once, an
 * unpaid one is refused in band.
 */
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { statelessHandler } from '@plangate/mcp/node'
import Fastify from 'fastify'
import Koa from 'koa'
import { afterEach, describe, expect, it } from 'vitest'
import { connect, paidWorld, type PaidWorld } from './transport-world'

let world: PaidWorld
const closers: Array<() => Promise<unknown>> = []
afterEach(async () => {
  while (closers.length) await closers.pop()!()
  await world.gate.close()
})

async function koa(): Promise<string> {
  const mcp = statelessHandler(() => world.createServer())
  const app = new Koa()
  app.use(async (ctx) => {
    if (ctx.path !== '/mcp') return
    ctx.respond = false // the transport writes the Node response itself
    await mcp(ctx.req, ctx.res) // no body parser: the transport reads the body
  })
  const server: Server = app.listen(0, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))
  closers.push(() => (server.closeAllConnections(), new Promise((resolve) => server.close(resolve))))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`
}

async function fastify(): Promise<string> {
  const mcp = statelessHandler(() => world.createServer())
  const app = Fastify()
  app.all('/mcp', async (request, reply) => {
    reply.hijack()
    await mcp(request.raw, reply.raw, request.body) // Fastify parsed the JSON already
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  closers.push(() => app.close())
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/mcp`
}

describe.each([
  ['Koa', koa],
  ['Fastify', fastify],
])('statelessHandler in %s', (_name, serve) => {
  it('a paid call burns its price once; an unpaid one gets the in-band result and the tool does not run', async () => {
    world = paidWorld()
    await world.subscribe()
    const url = await serve()
    const paid = await connect(url, { headers: { Authorization: `Bearer ${world.alice.apiKey}` } })
    expect((await paid.callTool({ name: 'forecast', arguments: { city: 'Lisbon' } })).content).toEqual([{ type: 'text', text: 'sunny in Lisbon, 18 left' }])
    const unpaid = await connect(url)
    expect((await unpaid.callTool({ name: 'forecast', arguments: { city: 'Rome' } })).structuredContent).toMatchObject({ x402Version: 2, error: 'CREDENTIAL_MISSING' })
    expect((await fetch(url, { headers: { Accept: 'text/event-stream' } })).status).toBe(405)
    await Promise.all([paid.close(), unpaid.close()])
    await world.gate.close()
    expect(world.ran).toEqual(['forecast'])
    expect(world.ledger.redeemed(world.planId)).toBe(2)
    expect(world.ledger.counters.settle).toBe(1)
  })
})
