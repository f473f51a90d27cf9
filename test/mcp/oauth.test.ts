/**
 * The optional OAuth 401 of the stateless helpers: MCP authorization's discovery pointers
 * (RFC 9728 `resource_metadata`), read back by the official SDK's own client-side discovery.
 * Off by default: clients that pay in `_meta` must get through `initialize`.
 */
import { discoverOAuthProtectedResourceMetadata, extractWWWAuthenticateParams } from '@modelcontextprotocol/sdk/client/auth.js'
import { statelessHandler } from '@plangate/mcp/node'
import { protectedResource, statelessFetchHandler, type ProtectedResource } from '@plangate/mcp/web'
import express from 'express'
import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { connect, paidWorld, servedPerTest, type PaidWorld } from './transport-world'

const INITIALIZE = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'curl', version: '1' } } }
const POST_HEADERS = { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' }

let world: PaidWorld
const served = servedPerTest(() => world)

function honoApp(oauth?: ProtectedResource): (url: string | URL, init?: RequestInit) => Promise<Response> {
  const app = new Hono()
  if (oauth) app.get(oauth.metadataPath, () => oauth.metadataResponse())
  app.all('/mcp', statelessFetchHandler(() => world.createServer(), { oauth }))
  return (url, init) => Promise.resolve(app.fetch(new Request(url, init)))
}

const oauth = () => protectedResource({ resource: 'http://agent.test/mcp', authorizationServers: ['https://auth.example'], scopesSupported: ['tools'], resourceName: 'Paid tools' })

describe('protectedResource() with statelessFetchHandler', () => {
  it('off by default: initialize works without a token, and the unpaid call is refused in band', async () => {
    world = paidWorld()
    const client = await connect('http://agent.test/mcp', { fetch: honoApp() })
    expect((await client.listTools()).tools.map((t) => t.name)).toContain('forecast')
    expect((await client.callTool({ name: 'forecast', arguments: { city: 'Lisbon' } })).structuredContent).toMatchObject({ x402Version: 2, error: 'CREDENTIAL_MISSING' })
    await client.close()
  })

  it('on: a request without a token is 401 with resource_metadata, which the SDK client discovers; a bearer key then pays', async () => {
    world = paidWorld()
    await world.subscribe()
    const pointers = oauth()
    const fetchApp = honoApp(pointers)
    const denied = await fetchApp('http://agent.test/mcp', { method: 'POST', headers: POST_HEADERS, body: JSON.stringify(INITIALIZE) })
    expect(denied.status).toBe(401)
    const params = extractWWWAuthenticateParams(denied)
    expect(params.resourceMetadataUrl?.href).toBe('http://agent.test/.well-known/oauth-protected-resource/mcp')
    expect(params.scope).toBe('tools')
    const metadata = await discoverOAuthProtectedResourceMetadata(new URL('http://agent.test/mcp'), { resourceMetadataUrl: params.resourceMetadataUrl }, fetchApp)
    expect(metadata).toMatchObject({ resource: 'http://agent.test/mcp', authorization_servers: ['https://auth.example/'], scopes_supported: ['tools'], resource_name: 'Paid tools' })

    await expect(connect('http://agent.test/mcp', { fetch: fetchApp })).rejects.toMatchObject({ code: 401 })
    expect(world.ran).toEqual([])

    const client = await connect('http://agent.test/mcp', { headers: { Authorization: `Bearer ${world.alice.apiKey}` }, fetch: fetchApp })
    expect((await client.callTool({ name: 'forecast', arguments: { city: 'Lisbon' } })).content).toEqual([{ type: 'text', text: 'sunny in Lisbon, 18 left' }])
    await client.close()
    await world.gate.close()
    expect(world.ledger.redeemed(world.planId)).toBe(2)
  })

  it('on: an x402 payment-signature header also gets through (the gate judges it, in band)', async () => {
    world = paidWorld()
    const client = await connect('http://agent.test/mcp', { headers: { 'payment-signature': 'not-a-token' }, fetch: honoApp(oauth()) })
    const result = await client.callTool({ name: 'forecast', arguments: { city: 'Lisbon' } })
    expect(result.structuredContent).toMatchObject({ x402Version: 2, error: 'CREDENTIAL_INVALID' })
    await client.close()
    expect(world.ran).toEqual([])
  })

  it('bad options throw at creation', () => {
    world = paidWorld()
    expect(() => protectedResource({ resource: '/mcp', authorizationServers: ['https://auth.example'] })).toThrow(/resource/)
    expect(() => protectedResource({ resource: 'https://a.example/mcp', authorizationServers: [] })).toThrow(/authorization server/)
    expect(() => protectedResource({ resource: 'https://a.example/mcp', authorizationServers: ['ftp://x'] })).toThrow(/authorizationServers\[0\]/)
    expect(() => protectedResource({ resource: 'https://a.example/mcp', authorizationServers: ['https://auth.example'], scopesSupported: ['a b'] })).toThrow(/scopesSupported/)
  })
})

describe('protectedResource() with statelessHandler (Express)', () => {
  it('on: 401 with the pointer without a token; the metadata is served; a bearer key pays', async () => {
    world = paidWorld()
    await world.subscribe()
    const app = express()
    const url = await served.listen(app)
    const pointers = protectedResource({ resource: url, authorizationServers: ['https://auth.example'] })
    app.get(pointers.metadataPath, (_req, res) => void res.json(pointers.metadata))
    app.all('/mcp', express.json(), statelessHandler(() => world.createServer(), { oauth: pointers }))

    const denied = await fetch(url, { method: 'POST', headers: POST_HEADERS, body: JSON.stringify(INITIALIZE) })
    expect(denied.status).toBe(401)
    expect(denied.headers.get('www-authenticate')).toBe(`Bearer resource_metadata="${pointers.metadataUrl}"`)
    expect(await discoverOAuthProtectedResourceMetadata(new URL(url), { resourceMetadataUrl: new URL(pointers.metadataUrl) })).toMatchObject({ resource: url, authorization_servers: ['https://auth.example/'] })

    const client = await connect(url, { headers: { Authorization: `Bearer ${world.alice.apiKey}` } })
    expect((await client.callTool({ name: 'forecast', arguments: { city: 'Oslo' } })).content).toEqual([{ type: 'text', text: 'sunny in Oslo, 18 left' }])
    await client.close()
    await world.gate.close()
    expect(world.ledger.redeemed(world.planId)).toBe(2)
  })
})
