/**
 * A route priced by usage whose upstream knows what it used only at the end of a streamed answer:
 * it declares `Trailer: X-Usage-Credits` and sends the count in that trailer. The proxy reads the
 * header first, else the trailer; neither reaches the caller. Such a route is forwarded over
 * node:http, so every guarantee of the forwarding (502, 504, cancellation, streamed upload,
 * redirects, headers, compression) is checked again on it. Real upstream over loopback, the real
 * proxy (startProxy), the local ledger judging.
 */
import { createHash } from 'node:crypto'
import http from 'node:http'
import { gunzipSync } from 'node:zlib'
import { createPlanGate } from '@plangate/core'
import { createLocalLedger } from '@plangate/core/local'
import { startProxy, type RunningProxy, type StartProxyOptions } from '@plangate/proxy'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventually } from '../../express/test/helpers'
import { bearer, send, type Answer } from './http-client'
import { startUpstream, type Upstream } from './upstream'

const USAGE = { max: 50, usageHeader: 'X-Usage-Credits' }
const ROUTES = {
  'GET /v1/trailer': USAGE,
  'GET /v1/gzip': USAGE,
  'GET /v1/slow': USAGE,
  'GET /v1/sse': USAGE,
  'GET /v1/status/*': USAGE,
  'POST /v1/echo': USAGE,
  'POST /v1/upload': USAGE,
}
const MB = 1024 * 1024

let upstream: Upstream
beforeAll(async () => {
  upstream = await startUpstream()
})
afterAll(() => upstream.close())

interface Charged {
  proxy: RunningProxy
  key: string
  logged: string[]
  /** Closes the proxy (flushing the gate) and says what the ledger burned and what the caller has left of 100. */
  settle(): Promise<{ burned: number; remaining: number }>
}

/** A fresh ledger, a caller holding 100 credits of the plan, and the proxy in front of `upstream`. */
async function charged(options: Partial<StartProxyOptions> = {}): Promise<Charged> {
  const ledger = createLocalLedger()
  const owner = ledger.createAccount()
  const alice = ledger.createAccount({ funds: 100 })
  const planId = ledger.createPlan({ credits: 100, price: 10, owner: owner.address })
  const logged: string[] = []
  const logger = { warn: (m: string) => void logged.push(m), error: (m: string) => void logged.push(m) }
  const gate = createPlanGate({ apiKey: owner.apiKey, environment: ledger.baseUrl, fetch: ledger.fetch, logger })
  const proxy = await startProxy({ plan: planId, upstream: upstream.url, gate, port: 0, routes: ROUTES, logger, ...options })
  const ordered = await ledger.fetch(`${ledger.baseUrl}/protocol/plans/${planId}/order`, { method: 'POST', headers: bearer(alice.apiKey) })
  expect(ordered.status).toBe(200)
  return {
    proxy,
    key: alice.apiKey,
    logged,
    async settle() {
      await proxy.close()
      return { burned: ledger.redeemed(planId), remaining: ledger.balance(planId, alice.address).remaining }
    },
  }
}

/** One request to a fresh proxy, then what it cost. */
async function once(path: string, options: Partial<StartProxyOptions> = {}): Promise<{ answer: Answer; burned: number; remaining: number; logged: string[] }> {
  const run = await charged(options)
  try {
    const answer = await send(`${run.proxy.url}${path}`, { headers: bearer(run.key) })
    return { answer, ...(await run.settle()), logged: run.logged }
  } finally {
    await run.proxy.close()
  }
}

describe('the proxy: usage reported in a trailer of a streamed answer', () => {
  it('charges what the trailer reports and gives the rest back; the caller sees neither the trailer nor its declaration', async () => {
    const { answer, burned, remaining } = await once('/v1/trailer?used=7&chunks=4')
    expect(answer.status).toBe(200)
    expect(answer.text).toBe('line 1\nline 2\nline 3\nline 4\n')
    expect({ burned, remaining }).toEqual({ burned: 7, remaining: 93 }) // 50 reserved, 43 back
    expect(answer.headers['x-usage-credits']).toBeUndefined()
    expect(answer.headers.trailer).toBeUndefined()
    expect(answer.trailers).toEqual({})
  })

  it('charges the maximum, and logs why, when the declared trailer is malformed or never sent', async () => {
    for (const path of ['/v1/trailer?used=lots', '/v1/trailer?used=-3', '/v1/trailer?used=2.5', '/v1/trailer']) {
      const { answer, burned, logged } = await once(path)
      expect(answer.status, path).toBe(200)
      expect(answer.trailers, path).toEqual({})
      expect(burned, path).toBe(50)
      expect(logged.join('\n'), path).toMatch(/usage function returned NaN/)
    }
  })

  it('caps a trailer above the maximum at it (logged); a trailer of 0 burns nothing; a non-2xx answer burns nothing', async () => {
    const above = await once('/v1/trailer?used=80')
    expect(above.burned).toBe(50)
    expect(above.logged.join('\n')).toMatch(/80 credits used, more than the 50 reserved/)
    expect(await once('/v1/trailer?used=0')).toMatchObject({ burned: 0, remaining: 100 })
    const failed = await once('/v1/trailer?used=9&status=500')
    expect(failed.answer.status).toBe(500)
    expect(failed).toMatchObject({ burned: 0, remaining: 100 })
  })

  it('a stream whose connection breaks before its trailer is charged the maximum, logged', async () => {
    const run = await charged()
    try {
      await expect(send(`${run.proxy.url}/v1/trailer?used=7&break`, { headers: bearer(run.key) })).rejects.toThrow()
      // The charge is taken as the proxy's side of the connection closes: its log line says when.
      await eventually(() => expect(run.logged.join('\n')).toMatch(/usage function returned NaN/), 10_000)
      expect(await run.settle()).toEqual({ burned: 50, remaining: 50 })
    } finally {
      await run.proxy.close()
    }
  })

  it('the header wins over a trailer of the same name', async () => {
    const { answer, burned } = await once('/v1/trailer?header=3&used=9')
    expect(burned).toBe(3)
    expect(answer.headers['x-usage-credits']).toBeUndefined()
    expect(answer.trailers).toEqual({})
  })

  it('with a custom fetch, only the header is read: a trailer alone is charged the maximum', async () => {
    const fetchOwn: StartProxyOptions['fetch'] = (input, init) => globalThis.fetch(input, init)
    expect(await once('/v1/trailer?used=7', { fetch: fetchOwn })).toMatchObject({ burned: 50 })
    expect(await once('/v1/trailer?header=4', { fetch: fetchOwn })).toMatchObject({ burned: 4 })
  })
})

describe('the proxy: forwarding a route priced by usage (over node:http) keeps every guarantee', () => {
  it('passes a compressed answer on as encoded, with its Content-Encoding and Content-Length; fetch decodes it', async () => {
    const run = await charged()
    try {
      const raw = await send(`${run.proxy.url}/v1/gzip`, { headers: { ...bearer(run.key), 'Accept-Encoding': 'gzip' } })
      expect(raw.status).toBe(200)
      expect(raw.headers['content-encoding']).toBe('gzip')
      expect(Number(raw.headers['content-length'])).toBe(raw.bytes!.length)
      expect(JSON.parse(gunzipSync(raw.bytes!).toString('utf8'))).toEqual({ compressed: true, text: 'x'.repeat(1000) })
      expect(upstream.seen.at(-1)!.headers['accept-encoding']).toBe('identity')
      const decoded = await fetch(`${run.proxy.url}/v1/gzip`, { headers: bearer(run.key) })
      expect(await decoded.json()).toEqual({ compressed: true, text: 'x'.repeat(1000) })
    } finally {
      await run.proxy.close()
    }
  })

  it('passes an answer without a body (204) on, charged what its header reports', async () => {
    const { answer, burned } = await once('/v1/trailer?status=204&chunks=0&header=3')
    expect(answer.status).toBe(204)
    expect(answer.text).toBe('')
    expect(answer.headers['x-usage-credits']).toBeUndefined()
    expect(burned).toBe(3)
  })

  it('passes a redirect on without following it, and charges nothing for it', async () => {
    const seen = upstream.seen.length
    const { answer, burned } = await once('/v1/status/302')
    expect(answer.status).toBe(302)
    expect(answer.headers.location).toBe('/v1/echo')
    expect(upstream.seen.slice(seen).map((s) => s.url)).toEqual(['/v1/status/302'])
    expect(burned).toBe(0)
  })

  it('answers 502 UPSTREAM_UNREACHABLE (logged) when the upstream is down, and charges nothing', async () => {
    const dead = await startUpstream()
    await dead.close()
    const { answer, burned, logged } = await once('/v1/trailer?used=7', { upstream: dead.url })
    expect(answer.status).toBe(502)
    expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/)
    expect(JSON.parse(answer.text)).toMatchObject({ status: 502, code: 'UPSTREAM_UNREACHABLE' })
    expect(answer.text).not.toContain(dead.url)
    expect(burned).toBe(0)
    expect(logged.join('\n')).toMatch(/could not be reached for GET \/v1\/trailer \(502\): connect ECONNREFUSED/)
  })

  it('answers 504 UPSTREAM_TIMEOUT when the upstream stays silent past timeoutMs, hangs up on it, and charges nothing', async () => {
    const cut = upstream.slowCut()
    const { answer, burned, logged } = await once('/v1/slow', { timeoutMs: 300 })
    expect(answer.status).toBe(504)
    expect(JSON.parse(answer.text)).toMatchObject({ status: 504, code: 'UPSTREAM_TIMEOUT' })
    expect(burned).toBe(0)
    expect(logged.join('\n')).toMatch(/sent no answer to GET \/v1\/slow within 300 ms \(504\)/)
    await eventually(() => expect(upstream.slowCut()).toBe(cut + 1), 10_000)
  })

  it('cancels the upstream call when the caller goes away, before the answer and during it', async () => {
    const run = await charged()
    try {
      const slowCut = upstream.slowCut()
      const seen = upstream.seen.length
      const early = new AbortController()
      const pending = fetch(`${run.proxy.url}/v1/slow`, { headers: bearer(run.key), signal: early.signal }).catch(() => 'aborted')
      await eventually(() => expect(upstream.seen.slice(seen).map((s) => s.url)).toEqual(['/v1/slow']), 10_000)
      early.abort()
      expect(await pending).toBe('aborted')
      await eventually(() => expect(upstream.slowCut()).toBe(slowCut + 1), 10_000)

      const streamsCut = upstream.streamsCut()
      const late = new AbortController()
      const response = await fetch(`${run.proxy.url}/v1/sse`, { headers: bearer(run.key), signal: late.signal })
      const reader = response.body!.getReader()
      expect(new TextDecoder().decode((await reader.read()).value)).toBe('data: first\n\n')
      late.abort()
      await eventually(() => expect(upstream.streamsCut()).toBe(streamsCut + 1), 10_000)
      // Left before the head: nothing. Left during a 2xx, before any report: the maximum, logged.
      await eventually(() => expect(run.logged.join('\n')).toMatch(/usage function returned NaN/), 10_000)
      expect(await run.settle()).toEqual({ burned: 50, remaining: 50 })
    } finally {
      await run.proxy.close()
    }
  })

  it('strips the credential and hop-by-hop headers both ways, and tells the upstream who paid', async () => {
    const run = await charged()
    try {
      const answer = await send(`${run.proxy.url}/v1/echo`, {
        method: 'POST',
        headers: { ...bearer(run.key), 'Content-Type': 'application/json', Connection: 'keep-alive, X-Client-Hop', 'X-Client-Hop': 'first hop only', 'X-Kept': 'end-to-end' },
        body: '{"q":1}',
      })
      expect(answer.status).toBe(200)
      expect(JSON.parse(answer.text)).toEqual({ method: 'POST', body: '{"q":1}' })
      const got = upstream.seen.at(-1)!
      for (const name of ['authorization', 'x-client-hop', 'trailer', 'transfer-encoding']) expect(got.names, name).not.toContain(name)
      expect(got.headers).toMatchObject({ 'x-kept': 'end-to-end', 'x-plangate-remaining': '50', 'x-plangate-cost': '50', 'x-forwarded-for': '127.0.0.1' })
      expect(answer.headers['x-hop-secret']).toBeUndefined()
      expect(answer.headers['proxy-authenticate']).toBeUndefined()
      expect(answer.headers['set-cookie']).toEqual(['a=1; Path=/', 'b=2; Path=/'])
    } finally {
      await run.proxy.close()
    }
  })

  it('streams an upload: the upstream has most of it before the caller has sent the rest', async () => {
    const run = await charged({ timeoutMs: 2_000 })
    try {
      const total = 8 * MB
      const expected = createHash('sha256')
      const answer = await new Promise<{ status: number; text: string }>((resolve, reject) => {
        const req = http.request(`${run.proxy.url}/v1/upload`, { method: 'POST', agent: false, headers: { ...bearer(run.key), 'Content-Length': total } })
        req.on('response', (res) => {
          let text = ''
          res.on('data', (chunk: Buffer) => (text += chunk.toString()))
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }))
        })
        req.on('error', reject)
        void (async () => {
          for (let i = 0; i < 8; i++) {
            const chunk = Buffer.alloc(MB, i)
            expected.update(chunk)
            // A proxy that buffered the upload would forward nothing yet, and this would time out.
            if (i === 7) await eventually(() => expect(upstream.uploaded()).toBe(7 * MB), 30_000)
            if (!req.write(chunk)) await new Promise((resolve) => req.once('drain', resolve))
          }
          req.end()
        })().catch(reject)
      })
      expect(answer.status).toBe(200)
      expect(JSON.parse(answer.text)).toEqual({ bytes: total, sha256: expected.digest('hex') })
    } finally {
      await run.proxy.close()
    }
  }, 60_000)

  it('an upload that keeps arriving is not a silent upstream: each chunk restarts the clock', async () => {
    const run = await charged({ timeoutMs: 400 })
    try {
      const answer = await new Promise<number>((resolve, reject) => {
        const req = http.request(`${run.proxy.url}/v1/upload`, { method: 'POST', agent: false, headers: bearer(run.key) })
        req.on('response', (res) => {
          res.resume()
          resolve(res.statusCode ?? 0)
        })
        req.on('error', reject)
        void (async () => {
          // Ten chunks 150 ms apart: 1.5 s in all, well past the 400 ms allowed for silence.
          for (let i = 0; i < 10; i++) {
            req.write(Buffer.alloc(1024, i))
            await new Promise((resolve) => setTimeout(resolve, 150))
          }
          req.end()
        })().catch(reject)
      })
      expect(answer).toBe(200)
    } finally {
      await run.proxy.close()
    }
  })
})
