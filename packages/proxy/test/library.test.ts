import { createPlanGate } from '@plangate/core'
import { createLocalLedger } from '@plangate/core/local'
import { createProxy, startProxy, type RunningProxy } from '@plangate/proxy'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventually } from '../../express/test/helpers'
import { startUpstream, type Upstream } from './upstream'

let upstream: Upstream
beforeAll(async () => {
  upstream = await startUpstream()
})
afterAll(async () => {
  await upstream.close()
})

function localGate() {
  const ledger = createLocalLedger()
  const owner = ledger.createAccount()
  const alice = ledger.createAccount({ funds: 100 })
  const planId = ledger.createPlan({ credits: 10, price: 10, owner: owner.address })
  const gate = createPlanGate({ apiKey: owner.apiKey, environment: ledger.baseUrl, fetch: ledger.fetch })
  return { ledger, alice, planId, gate }
}

describe('createProxy: bad options throw a TypeError naming them, at creation', () => {
  const { gate } = localGate()
  it.each([
    [{}, /^plangate-proxy: invalid option "plan": /],
    [{ plan: 7 }, /^plangate-proxy: invalid option "upstream": /],
    [{ plan: -1, upstream: 'http://127.0.0.1:9', gate }, /^plangate-proxy: invalid option "plan": planId -1 is not a safe non-negative integer/],
    [{ plan: 7, upstream: 'not a url', gate }, /^plangate-proxy: invalid option "upstream": expected the API's base URL/],
    [{ plan: 7, upstream: 'http://127.0.0.1:9/?a=1', gate }, /must not have a query or a fragment/],
    [{ plan: 7, upstream: 'http://127.0.0.1:9', gate, rout: {} }, /^plangate-proxy: unknown option "rout"; the options are plan, upstream, routes, /],
    [{ plan: 7, upstream: 'http://127.0.0.1:9', gate, routes: { 'GET x': 1 } }, /^plangate-proxy: invalid option "routes": the path of "GET x" must start with "\/"/],
    [{ plan: 7, upstream: 'http://127.0.0.1:9', gate, timeoutMs: 0 }, /^plangate-proxy: invalid option "timeoutMs": /],
    [{ plan: 7, upstream: 'http://127.0.0.1:9', gate, gateOptions: {} }, /pass either "gate" or "gateOptions", not both/],
    [{ plan: 7, upstream: 'http://127.0.0.1:9', gateOptions: { apiKey: 'nvm:x.y.z', settle: { batchMs: -5 } } }, /^plangate-proxy: invalid option "gateOptions": invalid option "settle\.batchMs"/],
    [{ plan: 7, upstream: 'http://127.0.0.1:9', gate, upstreamHeaders: { remaining: 'X-A', holder: 'x-a' } }, /two of the headers have the same name/],
    [{ plan: 7, upstream: 'http://127.0.0.1:9', gate, upstreamHeaders: { plan: 'Bad Name' } }, /invalid option "upstreamHeaders\.plan": expected a header name/],
    [{ plan: 7, upstream: 'http://127.0.0.1:9', gate, methodOverride: 'yes' }, /^plangate-proxy: invalid option "methodOverride": expected true \(forward the method-override headers, priced\) or false/],
  ])('%j', (options, message) => {
    expect(() => createProxy(options as never)).toThrow(TypeError)
    expect(() => createProxy(options as never)).toThrow(message)
  })
})

describe('createProxy as a fetch handler (no server of its own)', () => {
  it('forwards to the upstream base path, charges a 2xx and tells the upstream the balance', async () => {
    const { ledger, alice, planId, gate } = localGate()
    const proxy = createProxy({ plan: planId, upstream: `${upstream.url}/v1/status`, gate, routes: { 'GET /200': 2 }, upstreamHeaders: { remaining: 'X-Balance', holder: false, cost: false } })
    const response = await proxy.fetch(new Request('http://proxy.example/200?x=1', { headers: { Authorization: `Bearer ${alice.apiKey}` } }))
    expect(response.status).toBe(200)
    expect(response.headers.get('x-credits-remaining')).toBe('8')
    const seen = upstream.seen.at(-1)!
    expect(seen.url).toBe('/v1/status/200?x=1')
    expect(seen.headers['x-balance']).toBe('8')
    expect(seen.headers['x-plangate-remaining']).toBeUndefined()
    expect(seen.headers['x-plangate-plan']).toBe(planId)
    expect(seen.headers['x-plangate-holder']).toBeUndefined()
    expect(seen.headers['x-plangate-cost']).toBeUndefined()
    expect(seen.headers['x-forwarded-host']).toBe('proxy.example')
    await proxy.close()
    expect(ledger.redeemed(planId)).toBe(2)
  })

  it('a request whose path climbs out of the base path stays under it; an encoded climb is refused', async () => {
    const { alice, planId, gate } = localGate()
    const proxy = createProxy({ plan: planId, upstream: `${upstream.url}/v1/status`, gate })
    const headers = { Authorization: `Bearer ${alice.apiKey}` }
    const response = await proxy.fetch(new Request('http://proxy.example/../../health', { headers }))
    expect(upstream.seen.at(-1)!.url).toBe('/v1/status/health')
    expect(response.status).toBe(404)
    const seen = upstream.seen.length
    const encoded = await proxy.fetch(new Request('http://proxy.example/200/..%2f..%2fhealth', { headers }))
    expect(encoded.status).toBe(400)
    expect(encoded.headers.get('content-type')).toBe('application/problem+json')
    expect(await encoded.json()).toMatchObject({ code: 'PATH_AMBIGUOUS', status: 400 })
    expect(upstream.seen.length).toBe(seen)
    await proxy.close()
  })
})

describe("the README's routes: a path that encodes a climb is refused, with or without a key", () => {
  it.each(['/v1/files/report.pdf%2f..%2f..%2f..%2fhealth', '/v1/premium/report-42%2f..%2f..%2fmodels%2fx', '/v1/files/a%5C..%5C..%5Chealth', '/v1/files/x%2E%2E'])('%s', async (path) => {
    const { alice, planId, gate } = localGate()
    const routes = { 'POST /v1/chat': 5, 'GET /v1/models/:id': 1, '/v1/files/*': 2, 'GET /health': 0 }
    const proxy = createProxy({ plan: planId, upstream: upstream.url, gate, routes })
    const seen = upstream.seen.length
    for (const headers of [{}, { Authorization: `Bearer ${alice.apiKey}` }] as Array<Record<string, string>>) {
      const response = await proxy.fetch(new Request(`http://proxy.example${path}`, { headers }))
      expect(response.status).toBe(400)
      expect(await response.json()).toMatchObject({ code: 'PATH_AMBIGUOUS' })
    }
    expect(upstream.seen.length).toBe(seen)
    await proxy.close()
  })

  it('a whole %2e%2e segment reaches a fetch handler resolved by the URL parser: that path is priced and sent', async () => {
    const { alice, planId, gate } = localGate()
    const proxy = createProxy({ plan: planId, upstream: upstream.url, gate, routes: { 'GET /health': 0, 'GET /v1/status/:code': 3 } })
    const response = await proxy.fetch(new Request('http://proxy.example/health/%2E%2E/v1/status/200', { headers: { Authorization: `Bearer ${alice.apiKey}` } }))
    expect(response.status).toBe(200)
    expect(response.headers.get('x-credits-remaining')).toBe('7')
    expect(upstream.seen.at(-1)!.url).toBe('/v1/status/200')
    await proxy.close()
  })
})

describe('startProxy', () => {
  let running: RunningProxy | undefined
  afterAll(async () => {
    await running?.close()
  })

  it('listens, cancels the upstream stream when the caller goes away, and closes once (flushing the gate)', async () => {
    const { ledger, alice, planId, gate } = localGate()
    running = await startProxy({ plan: planId, upstream: upstream.url, gate, port: 0, routes: { 'GET /v1/sse': 1 } })
    expect(running.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)

    const controller = new AbortController()
    const cutBefore = upstream.streamsCut()
    const response = await fetch(`${running.url}/v1/sse`, { headers: { Authorization: `Bearer ${alice.apiKey}` }, signal: controller.signal })
    const reader = response.body!.getReader()
    expect(new TextDecoder().decode((await reader.read()).value)).toBe('data: first\n\n')
    controller.abort()
    // The upstream is not left streaming to nobody.
    await eventually(() => expect(upstream.streamsCut()).toBe(cutBefore + 1), 10_000)

    const url = running.url
    await Promise.all([running.close(), running.close()])
    // The answer had begun (200) when the caller left: that request is charged.
    expect(ledger.redeemed(planId)).toBe(1)
    await expect(fetch(`${url}/health`)).rejects.toThrow()
  })

  it('rejects when the port is taken, and checks its own options', async () => {
    const { planId, gate } = localGate()
    const first = await startProxy({ plan: planId, upstream: upstream.url, gate, port: 0 })
    try {
      await expect(startProxy({ plan: planId, upstream: upstream.url, gate, port: first.port })).rejects.toMatchObject({ code: 'EADDRINUSE' })
      await expect(startProxy({ plan: planId, upstream: upstream.url, gate, port: 70_000 })).rejects.toThrow(/invalid option "port"/)
    } finally {
      await first.close()
    }
  })
})
