/**
 * A route priced by usage: `{ max, usageHeader }` reserves `max`, and the request is charged what
 * the upstream reports in that response header (capped at `max`), which the caller never sees.
 * Missing or malformed, the maximum is charged and logged. The proxy serves over real HTTP
 * (startProxy) in front of a real node:http upstream; the local ledger judges.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { createPlanGate } from '@plangate/core'
import { createLocalLedger } from '@plangate/core/local'
import { createProxy, startProxy } from '@plangate/proxy'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

let upstream: http.Server
let upstreamUrl: string

beforeAll(async () => {
  // ?used= goes back in X-Usage-Credits; ?chunks= streams that many lines after the head.
  upstream = http.createServer((req, res) => {
    const url = new URL(req.url!, 'http://upstream')
    const used = url.searchParams.get('used')
    if (used !== null) res.setHeader('X-Usage-Credits', used)
    const chunks = Number(url.searchParams.get('chunks') ?? 0)
    const status = Number(url.searchParams.get('status') ?? 200)
    res.writeHead(status, { 'content-type': 'text/plain' })
    let sent = 0
    const next = () => {
      if (sent++ < chunks) res.write(`line ${sent}\n`, () => setTimeout(next, 5))
      else res.end('done\n')
    }
    next()
  })
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve))
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`
})
afterAll(() => new Promise((resolve) => upstream.close(resolve)))

async function charged(path: string): Promise<{ status: number; seen: string | null; body: string; burned: number; logged: string[] }> {
  const ledger = createLocalLedger()
  const owner = ledger.createAccount()
  const alice = ledger.createAccount({ funds: 100 })
  const planId = ledger.createPlan({ credits: 100, price: 10, owner: owner.address })
  const logged: string[] = []
  const logger = { warn: (m: string) => void logged.push(m), error: (m: string) => void logged.push(m) }
  const gate = createPlanGate({ apiKey: owner.apiKey, environment: ledger.baseUrl, fetch: ledger.fetch, logger })
  const proxy = await startProxy({ plan: planId, upstream: upstreamUrl, gate, port: 0, routes: { 'GET /chat': { max: 50, usageHeader: 'X-Usage-Credits' }, 'GET /fixed': 3 } })
  try {
    const ordered = await ledger.fetch(`${ledger.baseUrl}/protocol/plans/${planId}/order`, { method: 'POST', headers: { Authorization: `Bearer ${alice.apiKey}` } })
    expect(ordered.status).toBe(200)
    const response = await fetch(`${proxy.url}${path}`, { headers: { Authorization: `Bearer ${alice.apiKey}` } })
    const body = await response.text()
    await proxy.close()
    return { status: response.status, seen: response.headers.get('x-usage-credits'), body, burned: ledger.redeemed(planId), logged }
  } finally {
    await proxy.close()
  }
}

describe('the proxy: a route priced by usage', () => {
  it('charges what the upstream reports, and the caller does not see the header', async () => {
    expect(await charged('/chat?used=7')).toMatchObject({ status: 200, seen: null, burned: 7 })
  })

  it('a streamed answer is charged what its head reported once it ends', async () => {
    const result = await charged('/chat?used=4&chunks=5')
    expect(result).toMatchObject({ status: 200, seen: null, burned: 4 })
    expect(result.body).toContain('line 5')
  })

  it('caps a report above the maximum at it, and logs it', async () => {
    const result = await charged('/chat?used=80')
    expect(result).toMatchObject({ status: 200, burned: 50 })
    expect(result.logged.join('\n')).toMatch(/80 credits used, more than the 50 reserved/)
  })

  it('charges the maximum, and logs why, when the header is missing or malformed', async () => {
    for (const path of ['/chat', '/chat?used=lots', '/chat?used=-3', '/chat?used=2.5']) {
      const result = await charged(path)
      expect(result, path).toMatchObject({ status: 200, burned: 50 })
      expect(result.logged.join('\n'), path).toMatch(/usage function returned NaN/)
    }
  })

  it('a report of 0 burns nothing; a non-2xx answer burns nothing; a fixed route keeps its price', async () => {
    expect(await charged('/chat?used=0')).toMatchObject({ status: 200, burned: 0 })
    expect(await charged('/chat?used=9&status=500')).toMatchObject({ status: 500, burned: 0 })
    expect(await charged('/fixed?used=1')).toMatchObject({ status: 200, seen: '1', burned: 3 })
  })

  it('a malformed usage price throws at creation, naming the route', () => {
    for (const cost of [{ max: -1, usageHeader: 'X-U' }, { max: 5 }, { max: 5, usageHeader: 'Bad Name' }, { max: 5, usageHeader: 'X-U', extra: 1 }]) {
      expect(() => createProxy({ plan: 7, upstream: 'http://127.0.0.1:9', gate: createPlanGate({ apiKey: createLocalLedger().createAccount().apiKey }), routes: { 'POST /chat': cost as never } })).toThrow(/option "routes/)
    }
  })
})
