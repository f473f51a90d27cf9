import { createHash } from 'node:crypto'
import { mkdtempSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createLocalLedger, type LocalAccount, type LocalLedger } from '@plangate/core/local'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventually, serveLedger } from '../../express/test/helpers'
import { localLedgerEnv } from '../../../test/runtimes/process'
import { spawnProxy, START_TIMEOUT_MS, stopAllProxies, type ProxyProcess } from './cli-process'
import { bearer, send, type Answer } from './http-client'
import { startUpstream, type Upstream } from './upstream'

const HOOK_TIMEOUT_MS = START_TIMEOUT_MS + 15_000
const MB = 1024 * 1024

const ROUTES = {
  'GET /health': 0,
  'GET /v1/free/*': 0,
  'POST /v1/echo': 3,
  'GET /v1/sse': 2,
  'POST /v1/upload': 4,
}

/** The problem+json shape every denial and upstream failure has, with nothing secret in it. */
function expectProblem(answer: Answer, status: number, code: string, secrets: string[]): void {
  expect(answer.status).toBe(status)
  expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/)
  const body = JSON.parse(answer.text) as Record<string, unknown>
  expect(Object.keys(body).sort()).toEqual(['code', 'detail', 'planId', 'status', 'title', 'type'])
  expect(body).toMatchObject({ status, code })
  expect(answer.text).not.toMatch(/\bat .*:\d+:\d+/)
  for (const secret of secrets) expect(answer.text + JSON.stringify(answer.headers)).not.toContain(secret)
}

let ledger: LocalLedger
let ledgerServer: { baseUrl: string; close: () => Promise<void> }
let upstream: Upstream
let agent: LocalAccount
let alice: LocalAccount
let broke: LocalAccount
let planId: string

beforeAll(async () => {
  ledger = createLocalLedger()
  ledgerServer = await serveLedger(ledger)
  agent = ledger.createAccount({ funds: 0 })
  alice = ledger.createAccount({ funds: 1_000 })
  broke = ledger.createAccount({ funds: 0 })
  planId = ledger.createPlan({ credits: 100, price: 10, owner: agent.address })
  upstream = await startUpstream()
}, HOOK_TIMEOUT_MS)

afterAll(async () => {
  await stopAllProxies()
  await upstream?.close()
  await ledgerServer?.close()
}, HOOK_TIMEOUT_MS)

/** The proxy as a user runs it: the CLI in its own process, the ledger over HTTP as Nevermined would be. */
function proxyArgs(upstreamUrl: string, extra: string[] = []): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'plangate-proxy-'))
  const config = join(dir, 'plangate.json')
  writeFileSync(config, JSON.stringify({ routes: ROUTES, defaultCost: 1 }))
  return ['--plan', planId, '--upstream', upstreamUrl, '--port', '0', '--environment', ledgerServer.baseUrl, '--config', config, ...extra]
}

const agentEnv = () => localLedgerEnv({ NVM_API_KEY: agent.apiKey })

describe('plangate-proxy in front of a node:http API, on the local ledger over HTTP, with batched settlement', () => {
  let proxy: ProxyProcess
  /** Credits of every 2xx answer on a charged route so far: what the ledger must have redeemed at the end. */
  let charged = 0

  beforeAll(async () => {
    // A long batch: nothing is redeemed before shutdown, so the shutdown flush is what is measured.
    proxy = await spawnProxy(proxyArgs(upstream.url, ['--batch-ms', '600000', '--timeout-ms', '3000']), agentEnv())
  }, HOOK_TIMEOUT_MS)

  it('forwards a free route without a key, reserving and reading nothing', async () => {
    const before = { ...ledger.counters }
    const health = await send(`${proxy.url}/health`)
    expect(health.status).toBe(200)
    expect(JSON.parse(health.text)).toEqual({ ok: true })
    // A key on a free route is not needed, and not forwarded either.
    const free = await send(`${proxy.url}/v1/free/a/b?q=1`, { headers: { ...bearer(alice.apiKey), 'Payment-Signature': 'x402-token-secret' } })
    expect(free.status).toBe(404) // the upstream's own answer, passed through
    expect(upstream.seen.at(-1)).toMatchObject({ method: 'GET', url: '/v1/free/a/b?q=1' })
    expect(upstream.seen.at(-1)!.headers.authorization).toBeUndefined()
    expect(upstream.seen.at(-1)!.headers['payment-signature']).toBeUndefined()
    expect(upstream.seen.at(-1)!.headers['x-plangate-remaining']).toBeUndefined()
    expect(ledger.counters).toEqual(before)
  })

  it('denies 401 without a key or with a malformed one, and 402 when the wallet cannot order; the upstream sees none of them', async () => {
    const seen = upstream.seen.length
    const noKey = await send(`${proxy.url}/v1/echo`, { method: 'POST', body: '{}' })
    expectProblem(noKey, 401, 'CREDENTIAL_MISSING', [])
    expect(noKey.headers['www-authenticate']).toMatch(/^Bearer/)
    expectProblem(await send(`${proxy.url}/v1/echo`, { method: 'POST', headers: bearer('nvm:not-a-jwt'), body: '{}' }), 401, 'CREDENTIAL_INVALID', ['not-a-jwt'])
    expectProblem(await send(`${proxy.url}/anything`, { headers: bearer(broke.apiKey) }), 402, 'PAYMENT_REQUIRED', [broke.apiKey])
    expect(upstream.seen.length).toBe(seen)
  })

  it('charges the route cost, tells the upstream who paid, and strips the credential and hop-by-hop headers both ways', async () => {
    const answer = await send(`${proxy.url}/v1/echo?x=1`, {
      method: 'POST',
      headers: {
        // (An x402 token would win over the key: its stripping is checked on a free route above.)
        ...bearer(alice.apiKey),
        'Content-Type': 'application/json',
        Connection: 'keep-alive, X-Client-Hop',
        'X-Client-Hop': 'only for the first hop',
        'Keep-Alive': 'timeout=30',
        TE: 'trailers',
        'Proxy-Authorization': 'Basic c2VjcmV0',
        'X-Plangate-Remaining': '999999', // a caller cannot tell the upstream its own balance
        'X-Kept': 'end-to-end',
      },
      body: JSON.stringify({ question: 'hello' }),
    })
    expect(answer.status).toBe(200)
    charged += 3
    expect(JSON.parse(answer.text)).toEqual({ method: 'POST', body: '{"question":"hello"}' })
    const remaining = answer.headers['x-credits-remaining']
    expect(remaining).toBe('97') // 100 ordered, 3 spent
    expect(answer.headers['x-plan-id']).toBe(planId)
    expect(ledger.orders(planId)).toBe(1)

    const got = upstream.seen.at(-1)!
    expect(got).toMatchObject({ method: 'POST', url: '/v1/echo?x=1' })
    for (const name of ['authorization', 'payment-signature', 'x-client-hop', 'keep-alive', 'te', 'proxy-authorization', 'upgrade', 'trailer', 'transfer-encoding']) {
      expect(got.names, name).not.toContain(name)
    }
    expect(got.headers.connection ?? '').not.toMatch(/x-client-hop/i)
    expect(got.headers).toMatchObject({
      'x-kept': 'end-to-end',
      'content-type': 'application/json',
      'x-plangate-remaining': remaining,
      'x-plangate-holder': alice.address,
      'x-plangate-plan': planId,
      'x-plangate-cost': '3',
      'x-forwarded-for': '127.0.0.1',
    })
    expect(JSON.stringify(got.headers)).not.toContain(alice.apiKey)

    // The upstream's hop-by-hop headers stop at the proxy too; end-to-end ones (two cookies) pass.
    expect(answer.headers['x-hop-secret']).toBeUndefined()
    expect(answer.headers['proxy-authenticate']).toBeUndefined()
    expect(answer.headers['keep-alive']).not.toBe('timeout=7')
    expect(answer.headers['set-cookie']).toEqual(['a=1; Path=/', 'b=2; Path=/'])
  })

  it('answers with the upstream status and charges only a 2xx', async () => {
    const statuses: Record<string, number> = {}
    for (const code of [201, 302, 404, 500, 503]) {
      const answer = await send(`${proxy.url}/v1/status/${code}`, { headers: bearer(alice.apiKey) })
      statuses[code] = answer.status
      if (code === 302) expect(answer.headers.location).toBe('/v1/echo') // redirects are the caller's to follow
      if (code === 201) {
        expect(answer.headers['x-credits-remaining']).toBe('96')
        charged += 1
      } else {
        expect(answer.headers['x-credits-remaining']).toBeUndefined()
      }
    }
    expect(statuses).toEqual({ 201: 201, 302: 302, 404: 404, 500: 500, 503: 503 })
    // The failures' reservations went back: the next request sees 96 - 1.
    const next = await send(`${proxy.url}/v1/status/200`, { headers: bearer(alice.apiKey) })
    expect(next.headers['x-credits-remaining']).toBe('95')
    charged += 1
  })

  it('streams server-sent events: the first event arrives while the upstream holds the stream open', async () => {
    const response = await fetch(`${proxy.url}/v1/sse`, { headers: bearer(alice.apiKey) })
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('text/event-stream')
    charged += 2
    const reader = response.body!.getReader()
    const decoder = new TextDecoder()
    let text = ''
    // The upstream sends the last event only once released: a buffering proxy never gets here.
    for (let i = 0; i < 100 && !text.includes('data: first'); i++) {
      const { done, value } = await reader.read()
      if (done) break
      text += decoder.decode(value, { stream: true })
    }
    expect(text).toBe('data: first\n\n')
    upstream.releaseStream()
    for (let i = 0; i < 100; i++) {
      const { done, value } = await reader.read()
      if (done) break
      text += decoder.decode(value, { stream: true })
    }
    expect(text).toBe('data: first\n\ndata: last\n\n')
  })

  it('streams a 50 MB upload: the upstream receives it before the caller has finished sending', async () => {
    const total = 50 * MB
    const expected = createHash('sha256')
    const result = new Promise<Answer>((resolve, reject) => {
      const req = http.request(`${proxy.url}/v1/upload`, {
        method: 'POST',
        agent: false,
        headers: { ...bearer(alice.apiKey), 'Content-Type': 'application/octet-stream', 'Content-Length': total },
      })
      req.on('response', (res) => {
        let text = ''
        res.on('data', (chunk: Buffer) => (text += chunk.toString()))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }))
      })
      req.on('error', reject)
      void (async () => {
        for (let i = 0; i < 50; i++) {
          const chunk = Buffer.alloc(MB, i)
          expected.update(chunk)
          if (i === 49) {
            // Hold the last megabyte back until the upstream has 49 of them: a proxy that buffered
            // the body would forward nothing yet, and this would time out.
            await eventually(() => expect(upstream.uploaded()).toBe(49 * MB), 30_000)
          }
          if (!req.write(chunk)) await new Promise((resolve) => req.once('drain', resolve))
        }
        req.end()
      })().catch(reject)
    })
    const answer = await result
    expect(answer.status).toBe(200)
    charged += 4
    expect(JSON.parse(answer.text)).toEqual({ bytes: total, sha256: expected.digest('hex') })
    const got = upstream.seen.at(-1)!
    expect(got.headers['content-length']).toBe(String(total))
  }, 60_000)

  it('passes a compressed answer on decoded, with headers that say so', async () => {
    const answer = await send(`${proxy.url}/v1/gzip`, { headers: { ...bearer(alice.apiKey), 'Accept-Encoding': 'gzip' } })
    expect(answer.status).toBe(200)
    charged += 1
    expect(answer.headers['content-encoding']).toBeUndefined()
    expect(JSON.parse(answer.text)).toEqual({ compressed: true, text: 'x'.repeat(1000) })
    expect(upstream.seen.at(-1)!.headers['accept-encoding']).toBe('identity')
  })

  it('answers 504 when the upstream stays silent past --timeout-ms, and charges nothing', async () => {
    const answer = await send(`${proxy.url}/v1/slow`, { headers: bearer(alice.apiKey) })
    expectProblem(answer, 504, 'UPSTREAM_TIMEOUT', [alice.apiKey, upstream.url])
    // Released: the next request costs the same credit again.
    const next = await send(`${proxy.url}/v1/status/200`, { headers: bearer(alice.apiKey) })
    expect(next.status).toBe(200)
    charged += 1
    expect(Number(next.headers['x-credits-remaining'])).toBe(100 - charged)
  })

  it('on SIGTERM settles every credit it served (and only those) and exits 0', async () => {
    expect(ledger.redeemed(planId)).toBe(0) // all still in the batch
    const exit = await proxy.stop()
    expect(exit).toEqual({ code: 0, signal: null })
    expect(ledger.redeemed(planId)).toBe(charged)
    expect(charged).toBe(13)
    expect(ledger.balance(planId, alice.address).remaining).toBe(100 - charged)
    expect(proxy.output()).not.toContain(alice.apiKey)
    expect(proxy.output()).not.toContain(agent.apiKey)
  })
})

describe('plangate-proxy in front of an upstream that is down', () => {
  it('answers 502 problem+json and charges nothing; SIGINT stops it cleanly too', async () => {
    const dead = await startUpstream()
    await dead.close() // a port nobody listens on any more
    const carol = ledger.createAccount({ funds: 10 })
    const order = await ledger.fetch(`${ledger.baseUrl}/protocol/plans/${planId}/order`, { method: 'POST', headers: bearer(carol.apiKey) })
    expect(order.status).toBe(200)
    const proxy = await spawnProxy(proxyArgs(dead.url), agentEnv())
    const redeemed = ledger.redeemed(planId)
    const answer = await send(`${proxy.url}/v1/echo`, { method: 'POST', headers: bearer(carol.apiKey), body: '{}' })
    expectProblem(answer, 502, 'UPSTREAM_UNREACHABLE', [carol.apiKey, dead.url])
    expect(await proxy.stop('SIGINT')).toEqual({ code: 0, signal: null })
    expect(proxy.output()).toContain('plangate-proxy: SIGINT: finishing the requests in flight')
    expect(ledger.redeemed(planId)).toBe(redeemed)
    expect(ledger.balance(planId, carol.address).remaining).toBe(100)
    expect(proxy.output()).toMatch(/could not be reached for POST \/v1\/echo \(502\)/)
  }, HOOK_TIMEOUT_MS)
})
