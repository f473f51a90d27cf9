/**
 * createNodeFetch over real sockets on loopback: the local ledger served by @hono/node-server (the
 * three Nevermined calls, as the client makes them), and plain node:http(s) servers that misbehave
 * on purpose (hang, reset, redirect, compress, send too much).
 */
import { readFileSync } from 'node:fs'
import http from 'node:http'
import https from 'node:https'
import type { AddressInfo } from 'node:net'
import zlib from 'node:zlib'
import { serve } from '@hono/node-server'
import { afterEach, describe, expect, it } from 'vitest'
import { NeverminedClient, UpstreamUnavailableError, createPlanGate, type PlanGateError } from '@plangate/core'
import { createLocalLedger } from '@plangate/core/local'
import { createNodeFetch } from '../src/index'

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')
const TLS = { cert: fixture('localhost.cert.pem'), key: fixture('localhost.key.pem') }

const closers: Array<() => Promise<void>> = []
afterEach(async () => {
  while (closers.length > 0) await closers.pop()!()
})

/** A node:http(s) server on an ephemeral loopback port, closed after the test. */
async function listen(handler: http.RequestListener, tls = false): Promise<{ url: string; server: http.Server }> {
  const server = tls ? https.createServer(TLS, handler) : http.createServer(handler)
  server.listen(0, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))
  closers.push(() => new Promise((resolve) => (server.closeAllConnections(), server.close(() => resolve()))))
  const port = (server.address() as AddressInfo).port
  return { url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`, server }
}

async function servedLedger() {
  const ledger = createLocalLedger({ serveRedeem: true })
  const owner = ledger.createAccount({ funds: 0 })
  const alice = ledger.createAccount({ funds: 100 })
  const planId = ledger.createPlan({ credits: 5, price: 10, owner: owner.address })
  const server = await new Promise<http.Server>((resolve) => {
    const s = serve({ fetch: ledger.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s as http.Server)) as http.Server
  })
  let connections = 0
  server.on('connection', () => connections++)
  closers.push(() => new Promise((resolve) => (server.closeAllConnections(), server.close(() => resolve()))))
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}${new URL(ledger.baseUrl).pathname}`
  return { ledger, owner, alice, planId, baseUrl, connections: () => connections }
}

async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise
  } catch (error) {
    return error as Error
  }
  throw new Error('expected a rejection')
}

describe('createNodeFetch against the local ledger over HTTP', () => {
  it('makes the three Nevermined calls as fetch does, over one kept-alive connection', async () => {
    const { ledger, owner, alice, planId, baseUrl, connections } = await servedLedger()
    const viaNode = new NeverminedClient({ baseUrl, timeoutMs: 2_000, fetch: createNodeFetch() })
    const viaFetch = new NeverminedClient({ baseUrl, timeoutMs: 2_000 })

    const ordered = await viaNode.order(planId, alice.apiKey)
    expect(ordered.success).toBe(true)
    expect(ordered.balance.remaining).toBe(5)
    const redeemed = await viaNode.redeem({ planId, holderAddress: alice.address, amount: 2, proof: 'p-1' }, owner.apiKey)
    expect(redeemed).toEqual({ success: true, creditsRedeemed: 2, remainingBalance: 3 })
    const balance = await viaNode.balance(planId, alice.address, alice.apiKey)
    expect(balance).toEqual(await viaFetch.balance(planId, alice.address, alice.apiKey))
    expect(ledger.redeemed(planId)).toBe(2)
    // Three calls in sequence from one transport: one connection (the fetch client opened its own).
    expect(connections()).toBe(2)
  })

  it('maps the API\u2019s refusals exactly as with fetch', async () => {
    const { owner, alice, planId, baseUrl } = await servedLedger()
    const viaNode = new NeverminedClient({ baseUrl, timeoutMs: 2_000, fetch: createNodeFetch() })
    const refused = await rejectionOf(viaNode.redeem({ planId, holderAddress: alice.address, amount: 1, proof: 'p' }, alice.apiKey))
    expect((refused as PlanGateError).code).toBe('CREDENTIAL_INVALID')
    const short = await rejectionOf(viaNode.redeem({ planId, holderAddress: alice.address, amount: 1, proof: 'p' }, owner.apiKey))
    expect((short as PlanGateError).code).toBe('PAYMENT_REQUIRED')
    const missing = await rejectionOf(viaNode.order('999999', alice.apiKey))
    expect((missing as PlanGateError).code).toBe('PLAN_NOT_FOUND')
  })

  it('serves a gate end to end (cold read, order, redemption)', async () => {
    const { ledger, owner, alice, planId, baseUrl } = await servedLedger()
    const gate = createPlanGate({ apiKey: owner.apiKey, environment: baseUrl, fetch: createNodeFetch() })
    const lease = await gate.reserve(planId, alice.apiKey, 1)
    expect(lease.balance.remaining).toBe(4)
    await lease.commit()
    await gate.close()
    expect(ledger.orders(planId)).toBe(1)
    expect(ledger.redeemed(planId)).toBe(1)
  })
})

describe('createNodeFetch on a misbehaving server', () => {
  it('aborts a call whose answer never comes, and the client turns it into a time-out', async () => {
    let closed = false
    const { url } = await listen((req) => req.socket.once('close', () => (closed = true)))
    const client = new NeverminedClient({ baseUrl: url, timeoutMs: 150, fetch: createNodeFetch() })
    const started = performance.now()
    const error = await rejectionOf(client.balance('7', '0x' + '1'.repeat(40), 'nvm:key'))
    expect(error).toBeInstanceOf(UpstreamUnavailableError)
    expect(error.message).toMatch(/balance timed out after 150 ms/)
    expect(performance.now() - started).toBeLessThan(2_000)
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(closed).toBe(true) // the abort freed the connection
  })

  it('rejects with the signal\u2019s reason, before sending and while the body is arriving', async () => {
    const { url } = await listen((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.write('{"partial":')
    })
    const nodeFetch = createNodeFetch()
    const early = new AbortController()
    early.abort(new Error('stop before'))
    expect((await rejectionOf(nodeFetch(url, { signal: early.signal }))).message).toBe('stop before')

    const late = new AbortController()
    const pending = nodeFetch(url, { signal: late.signal })
    setTimeout(() => late.abort(new Error('stop during')), 50)
    expect((await rejectionOf(pending)).message).toBe('stop during')
  })

  it('fails a call whose connection closes mid-body, and one refused outright', async () => {
    const { url } = await listen((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' })
      res.write('{"remaining":')
      setTimeout(() => req.socket.destroy(), 20)
    })
    const nodeFetch = createNodeFetch()
    await expect(nodeFetch(url, {})).rejects.toThrow()

    const { url: gone, server } = await listen(() => {})
    await new Promise((resolve) => server.close(resolve))
    const client = new NeverminedClient({ baseUrl: gone, timeoutMs: 1_000, fetch: nodeFetch })
    const key = 'nvm:eyJhbGciOiJFUzI1NksifQ.eyJzdWIiOiIweDAwIn0.U0VDUkVU'
    const error = await rejectionOf(client.balance('7', '0x' + '1'.repeat(40), key))
    expect(error.message).toMatch(/could not be reached/)
    expect(JSON.stringify([error.message, String((error as { cause?: unknown }).cause)])).not.toContain('U0VDUkVU')
  })

  it('refuses a body larger than maxBodyBytes, compressed or not', async () => {
    const big = JSON.stringify({ pad: 'x'.repeat(5_000) })
    const { url } = await listen((req, res) => {
      if (req.url === '/gzip') {
        res.writeHead(200, { 'content-encoding': 'gzip' })
        res.end(zlib.gzipSync(big)) // about 60 bytes on the wire, 5 KB decoded
      } else res.end(big)
    })
    const small = createNodeFetch({ maxBodyBytes: 1_000 })
    expect((await rejectionOf(small(url, {}))).message).toMatch(/larger than maxBodyBytes \(1000\)/)
    expect((await rejectionOf(small(`${url}/gzip`, {}))).message).toMatch(/./)
    const roomy = createNodeFetch({ maxBodyBytes: 10_000 })
    expect(await (await roomy(`${url}/gzip`, {})).json()).toEqual(JSON.parse(big))
  })

  it('decodes gzip, deflate and br, refuses other codings, and asks for none', async () => {
    const body = '{"remaining":7}'
    let asked: string | undefined
    const { url } = await listen((req, res) => {
      asked = req.headers['accept-encoding']
      const coding = req.url!.slice(1)
      const encoded =
        coding === 'gzip' ? zlib.gzipSync(body) : coding === 'deflate' ? zlib.deflateSync(body) : coding === 'br' ? zlib.brotliCompressSync(body) : Buffer.from(body)
      res.writeHead(200, { 'content-encoding': coding })
      res.end(encoded)
    })
    const nodeFetch = createNodeFetch()
    for (const coding of ['gzip', 'deflate', 'br', 'identity']) {
      expect(await (await nodeFetch(`${url}/${coding}`, {})).json()).toEqual({ remaining: 7 })
    }
    expect(asked).toBe('identity')
    expect((await rejectionOf(nodeFetch(`${url}/zstd`, {}))).message).toMatch(/"zstd"/)
  })

  it('does not follow a redirect; the client treats it as the API being unavailable', async () => {
    let hits = 0
    const { url } = await listen((_req, res) => {
      hits++
      res.writeHead(302, { location: '/elsewhere' }).end()
    })
    const answer = await createNodeFetch()(url, {})
    expect([answer.status, answer.ok, answer.headers.get('Location')]).toEqual([302, false, '/elsewhere'])
    const client = new NeverminedClient({ baseUrl: url, timeoutMs: 1_000, fetch: createNodeFetch() })
    expect((await rejectionOf(client.balance('7', '0x' + '1'.repeat(40), 'nvm:k'))).message).toMatch(/answered 302/)
    expect(hits).toBe(2)
  })

  it('sends the method, headers and body it is given, and reads headers like Headers.get', async () => {
    let seen: { method?: string; headers?: http.IncomingHttpHeaders; body?: string } = {}
    const { url } = await listen((req, res) => {
      let body = ''
      req.on('data', (c) => (body += c))
      req.on('end', () => {
        seen = { method: req.method, headers: req.headers, body }
        res.setHeader('Retry-After', '7')
        res.setHeader('X-Multi', ['a', 'b'])
        res.end('\ufeff{"ok":"é"}')
      })
    })
    const answer = await createNodeFetch()(`${url}/p?q=1`, { method: 'post', headers: { Authorization: 'Bearer k', 'Content-Type': 'application/json' }, body: '{"a":"é"}' })
    expect(seen.method).toBe('POST')
    expect(seen.headers).toMatchObject({ authorization: 'Bearer k', 'content-type': 'application/json', 'content-length': '10' })
    expect(seen.body).toBe('{"a":"é"}')
    expect(answer.headers.get('retry-after')).toBe('7')
    expect(answer.headers.get('x-multi')).toBe('a, b')
    expect(answer.headers.get('x-absent')).toBeNull()
    expect(await answer.json()).toEqual({ ok: 'é' }) // the byte order mark is dropped, as Response.json() does
    await expect(createNodeFetch()(url, { body: new Blob(['x']) })).rejects.toThrow(/string or a Uint8Array/)
  })

  it('retries a GET, never a POST, once when a reused connection turns out closed', async () => {
    const perSocket = new WeakMap<object, number>()
    const seen: string[] = []
    const { url } = await listen((req, res) => {
      const n = (perSocket.get(req.socket) ?? 0) + 1
      perSocket.set(req.socket, n)
      seen.push(`${req.method} #${n}`)
      // The second request on any connection finds it closed, as when the server drops an idle
      // keep-alive connection just as it is reused.
      if (n === 2) req.socket.destroy()
      else res.end('{}')
    })
    const nodeFetch = createNodeFetch()
    await nodeFetch(url, {})
    const retried = await nodeFetch(url, {})
    expect(retried.status).toBe(200)
    expect(seen).toEqual(['GET #1', 'GET #2', 'GET #1'])

    seen.length = 0
    const post = createNodeFetch()
    await post(url, { method: 'POST', body: '{}' })
    await expect(post(url, { method: 'POST', body: '{}' })).rejects.toThrow()
    expect(seen).toEqual(['POST #1', 'POST #2'])
  })
})

describe('createNodeFetch over HTTPS', () => {
  it('checks the certificate: refused by default, served with the CA on the agent', async () => {
    const { url } = await listen((_req, res) => res.end('{"remaining":3}'), true)
    await expect(createNodeFetch()(url, {})).rejects.toThrow(/self-signed|certificate/i)
    const trusting = createNodeFetch({ httpsAgent: new https.Agent({ keepAlive: true, ca: TLS.cert }) })
    expect(await (await trusting(url, {})).json()).toEqual({ remaining: 3 })
  })
})

describe('createNodeFetch options', () => {
  it.each([
    [{ maxBodyBytes: 0 }, /"maxBodyBytes": expected a whole number of bytes ≥ 1, got 0/],
    [{ maxBodyBytes: 1.5 }, /"maxBodyBytes"/],
    [{ httpAgent: {} }, /"httpAgent": expected an http.Agent/],
    [{ httpsAgent: new http.Agent() }, /"httpsAgent": expected an https.Agent/],
    [{ timeoutMs: 5 }, /unknown option "timeoutMs"; the options are httpAgent, httpsAgent, maxBodyBytes/],
  ])('throws at creation on %o', (options, message) => {
    expect(() => createNodeFetch(options as never)).toThrow(message)
  })

  it('refuses a URL that is not http(s)', async () => {
    await expect(createNodeFetch()('ftp://127.0.0.1/x', {})).rejects.toThrow(/only http: and https:/)
  })
})
