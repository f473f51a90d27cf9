import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import {
  CredentialInvalidError,
  NeverminedClient,
  PaymentRequiredError,
  PlanGateError,
  PlanNotFoundError,
  UpstreamUnavailableError,
  type FetchLike,
} from '../src/index'
import { createLocalLedger } from '../src/local/index'
import { setup, spend } from './setup'

const BASE = 'https://api.example.test/api/v1'
const KEY = 'nvm:eyJhbGciOiJFUzI1NksifQ.eyJzdWIiOiIweDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAifQ.U0VDUkVULVNJR05BVFVSRQ'
const HOLDER = '0x' + '0'.repeat(40)
const REDEEM = { planId: '7', holderAddress: HOLDER, amount: 3, proof: 'lease-0001' }
const BALANCE = { isSubscriber: true, total: 10, used: 3, remaining: 7, expiresAt: null }

interface Seen {
  url: string
  method: string
  headers: Headers
  body: string | null
  signal: AbortSignal | undefined
}

/** A fetch that records each request and answers with `respond`. */
function recorder(respond: (seen: Seen) => Response | Promise<Response>) {
  const seen: Seen[] = []
  const fetch: FetchLike = async (input, init) => {
    const request = new Request(input, init)
    const entry: Seen = {
      url: request.url,
      method: request.method,
      headers: request.headers,
      body: init?.body === undefined || init.body === null ? null : await request.text(),
      signal: init?.signal ?? undefined,
    }
    seen.push(entry)
    return respond(entry)
  }
  return { seen, fetch }
}

const json = (value: unknown, init: ResponseInit = {}) =>
  new Response(JSON.stringify(value), { status: 200, ...init, headers: { 'Content-Type': 'application/json', ...init.headers } })
const raw = (body: string, status = 200) => new Response(body, { status, headers: { 'Content-Type': 'application/json' } })

function client(fetch: FetchLike, timeoutMs = 1_000, baseUrl = BASE) {
  return new NeverminedClient({ baseUrl, fetch, timeoutMs })
}

/** The rejection of `promise`, failing the test if it resolves. */
async function rejectionOf(promise: Promise<unknown>): Promise<PlanGateError> {
  try {
    await promise
  } catch (error) {
    return error as PlanGateError
  }
  throw new Error('expected a rejection')
}

type CallName = 'order' | 'balance' | 'redeem'
const calls: Record<CallName, (c: NeverminedClient) => Promise<unknown>> = {
  order: (c) => c.order('7', KEY),
  balance: (c) => c.balance('7', HOLDER, KEY),
  redeem: (c) => c.redeem(REDEEM, KEY),
}
const goodBody: Record<CallName, unknown> = {
  order: { success: true, txHash: '0xabc', balance: BALANCE },
  balance: BALANCE,
  redeem: { success: true, creditsRedeemed: 3, remainingBalance: 4 },
}

function expectNoKey(error: unknown) {
  const e = error as Error & { cause?: unknown }
  const surface = [e.message, e.stack, String(e.cause ?? ''), JSON.stringify(e)].join('\n')
  expect(surface).not.toContain(KEY)
  expect(surface).not.toContain(KEY.slice(4))
  expect(surface).not.toContain('U0VDUkVULVNJR05BVFVSRQ')
}

describe('NeverminedClient: requests', () => {
  it.each(['order', 'balance', 'redeem'] as const)('%s sends Accept, Nevermined-Version and the Bearer key', async (call) => {
    const { seen, fetch } = recorder(() => json(goodBody[call]))
    await calls[call](client(fetch))
    expect(seen).toHaveLength(1)
    const headers = seen[0]!.headers
    expect(headers.get('accept')).toBe('application/json')
    expect(headers.get('nevermined-version')).toBe('1.1')
    expect(headers.get('authorization')).toBe(`Bearer ${KEY}`)
    expect(seen[0]!.signal).toBeInstanceOf(AbortSignal)
  })

  it('order: POST to …/protocol/plans/{id}/order with no body', async () => {
    const { seen, fetch } = recorder(() => json(goodBody.order))
    await client(fetch).order('115792089237316195423570985008687907853269984665640564039457584007913129639935', KEY)
    expect(seen[0]).toMatchObject({
      method: 'POST',
      url: `${BASE}/protocol/plans/115792089237316195423570985008687907853269984665640564039457584007913129639935/order`,
      body: null,
    })
    expect(seen[0]!.headers.has('content-type')).toBe(false)
  })

  it('balance: GET …/protocol/plans/{id}/balance/{holder} with no body', async () => {
    const { seen, fetch } = recorder(() => json(BALANCE))
    await client(fetch).balance('7', HOLDER, KEY)
    expect(seen[0]).toMatchObject({ method: 'GET', url: `${BASE}/protocol/plans/7/balance/${HOLDER}`, body: null })
  })

  it('redeem: POST …/protocol/plans/redeem with a JSON body of exactly {planId, holderAddress, amount, proof}', async () => {
    const { seen, fetch } = recorder(() => json(goodBody.redeem))
    await client(fetch).redeem(REDEEM, KEY)
    expect(seen[0]).toMatchObject({ method: 'POST', url: `${BASE}/protocol/plans/redeem` })
    expect(seen[0]!.headers.get('content-type')).toBe('application/json')
    const body = JSON.parse(seen[0]!.body!)
    expect(Object.keys(body).sort()).toEqual(['amount', 'holderAddress', 'planId', 'proof'])
    expect(body).toEqual({ planId: '7', holderAddress: HOLDER, amount: 3, proof: 'lease-0001' })
    expect(typeof body.planId).toBe('string')
    expect(typeof body.amount).toBe('number')
  })

  it.each([BASE, `${BASE}/`, `${BASE}///`])('normalises the base URL %j (no double slash)', async (baseUrl) => {
    const { seen, fetch } = recorder((s) => json(s.url.endsWith('/order') ? goodBody.order : s.url.endsWith('/redeem') ? goodBody.redeem : BALANCE))
    const c = client(fetch, 1_000, baseUrl)
    expect(c.baseUrl).toBe(BASE)
    await c.order('7', KEY)
    await c.balance('7', HOLDER, KEY)
    await c.redeem(REDEEM, KEY)
    expect(seen.map((s) => s.url)).toEqual([
      `${BASE}/protocol/plans/7/order`,
      `${BASE}/protocol/plans/7/balance/${HOLDER}`,
      `${BASE}/protocol/plans/redeem`,
    ])
  })

  it('uses globalThis.fetch, looked up per call, when no fetch is given', async () => {
    const original = globalThis.fetch
    const { seen, fetch } = recorder(() => json(BALANCE))
    const c = new NeverminedClient({ baseUrl: BASE, timeoutMs: 1_000 })
    globalThis.fetch = fetch as typeof globalThis.fetch
    try {
      expect(await c.balance('7', HOLDER, KEY)).toMatchObject({ remaining: 7 })
    } finally {
      globalThis.fetch = original
    }
    expect(seen).toHaveLength(1)
  })
})

describe('NeverminedClient against the local ledger', () => {
  it('sends what the ledger expects and reads what it answers, for all three calls', async () => {
    const ledger = createLocalLedger({ serveRedeem: true })
    const owner = ledger.createAccount()
    const alice = ledger.createAccount({ funds: 30 })
    const planId = ledger.createPlan({ credits: 5, price: 10, owner: owner.address })
    const seen: Request[] = []
    const fetch: FetchLike = (input, init) => {
      const request = new Request(input, init)
      seen.push(request.clone())
      return ledger.fetch(request)
    }
    const c = client(fetch, 1_000, `${ledger.baseUrl}/`)
    expect((await c.order(planId, alice.apiKey)).balance).toEqual({ isSubscriber: true, total: 5, used: 0, remaining: 5, expiresAt: null })
    expect(await c.redeem({ planId, holderAddress: alice.address, amount: 2, proof: 'p-1' }, owner.apiKey)).toEqual({
      success: true,
      creditsRedeemed: 2,
      remainingBalance: 3,
    })
    expect(await c.balance(planId, alice.address, alice.apiKey)).toEqual({ isSubscriber: true, total: 5, used: 2, remaining: 3, expiresAt: null })
    expect(ledger.balance(planId, alice.address).remaining).toBe(3)
    expect(ledger.wallet(alice.address)).toBe(20)
    expect(seen.map((r) => `${r.method} ${r.url}`)).toEqual([
      `POST ${ledger.baseUrl}/protocol/plans/${planId}/order`,
      `POST ${ledger.baseUrl}/protocol/plans/redeem`,
      `GET ${ledger.baseUrl}/protocol/plans/${planId}/balance/${alice.address}`,
    ])
    expect(seen.map((r) => r.headers.get('authorization'))).toEqual([`Bearer ${alice.apiKey}`, `Bearer ${owner.apiKey}`, `Bearer ${alice.apiKey}`])
  })

  it('a ledger time-out (delayMs past timeoutMs) is a 503 that names the time-out', async () => {
    const ledger = createLocalLedger({ serveRedeem: true })
    const alice = ledger.createAccount({ funds: 30 })
    const planId = ledger.createPlan({ credits: 5, price: 10, owner: ledger.createAccount().address })
    ledger.inject('balance', { delayMs: 5_000 })
    const started = Date.now()
    const error = await rejectionOf(client(ledger.fetch, 80, ledger.baseUrl).balance(planId, alice.address, alice.apiKey))
    expect(Date.now() - started).toBeLessThan(1_000)
    expect(error).toBeInstanceOf(UpstreamUnavailableError)
    expect(error.message).toMatch(/timed out after 80 ms/)
  })
})

describe('NeverminedClient: balance shapes', () => {
  it('normalises the live shape {planId, holderAddress, balance: "42", isSubscriber}', async () => {
    const { fetch } = recorder(() => json({ planId: '7', holderAddress: HOLDER, balance: '42', isSubscriber: true, pricePerCredit: 1 }))
    expect(await client(fetch).balance('7', HOLDER, KEY)).toEqual({
      isSubscriber: true,
      total: undefined,
      used: undefined,
      remaining: 42,
      expiresAt: null,
    })
  })

  it('live shape: a numeric balance, a missing isSubscriber (true), and isSubscriber false', async () => {
    let body: unknown = { balance: 5 }
    const { fetch } = recorder(() => json(body))
    expect(await client(fetch).balance('7', HOLDER, KEY)).toMatchObject({ remaining: 5, isSubscriber: true })
    body = { balance: '0', isSubscriber: false }
    expect(await client(fetch).balance('7', HOLDER, KEY)).toMatchObject({ remaining: 0, isSubscriber: false })
  })

  it('the published shape with numeric-string totals and an expiry', async () => {
    const { fetch } = recorder(() =>
      json({ isSubscriber: true, total: '100', used: '58', remaining: '42', expiresAt: '2030-01-01T00:00:00.000Z' }),
    )
    expect(await client(fetch).balance('7', HOLDER, KEY)).toEqual({
      isSubscriber: true,
      total: 100,
      used: 58,
      remaining: 42,
      expiresAt: '2030-01-01T00:00:00.000Z',
    })
  })

  it('accepts exactly MAX_SAFE_INTEGER, as a number and as a string', async () => {
    let body: unknown = { isSubscriber: true, remaining: Number.MAX_SAFE_INTEGER }
    const { fetch } = recorder(() => json(body))
    expect((await client(fetch).balance('7', HOLDER, KEY)).remaining).toBe(9007199254740991)
    body = { balance: '9007199254740991' }
    expect((await client(fetch).balance('7', HOLDER, KEY)).remaining).toBe(9007199254740991)
  })

  it('an order answer carries the balance, in either shape', async () => {
    const { fetch } = recorder(() => json({ success: true, txHash: '0x1', balance: { balance: '12', isSubscriber: true } }))
    expect(await client(fetch).order('7', KEY)).toEqual({
      success: true,
      txHash: '0x1',
      balance: { isSubscriber: true, total: undefined, used: undefined, remaining: 12, expiresAt: null },
    })
  })

  it('redeem numbers may be decimal strings', async () => {
    const { fetch } = recorder(() => json({ success: true, creditsRedeemed: '3', remainingBalance: '4' }))
    expect(await client(fetch).redeem(REDEEM, KEY)).toEqual({ success: true, creditsRedeemed: 3, remainingBalance: 4 })
  })
})

describe('NeverminedClient: contract errors are 503', () => {
  it.each<[string, CallName, string]>([
    ['a balance string past MAX_SAFE_INTEGER', 'balance', '{"planId":"7","balance":"9007199254740993","isSubscriber":true}'],
    ['a remaining string past MAX_SAFE_INTEGER', 'balance', '{"isSubscriber":true,"remaining":"9007199254740993"}'],
    ['a JSON number 2**53+2', 'balance', '{"isSubscriber":true,"remaining":9007199254740994}'],
    ['a live balance number 2**53+2', 'balance', '{"balance":9007199254740994}'],
    ['a negative remaining', 'balance', '{"isSubscriber":true,"remaining":-1}'],
    ['a negative balance string', 'balance', '{"balance":"-1"}'],
    ['a fractional remaining', 'balance', '{"isSubscriber":true,"remaining":1.5}'],
    ['an empty balance string', 'balance', '{"balance":""}'],
    ['a hex balance string', 'balance', '{"balance":"0x10"}'],
    ['a missing remaining', 'balance', '{"isSubscriber":true,"total":5,"used":0}'],
    ['a null remaining', 'balance', '{"isSubscriber":true,"remaining":null}'],
    ['a non-boolean isSubscriber', 'balance', '{"isSubscriber":"yes","remaining":1}'],
    ['a bad expiresAt', 'balance', '{"isSubscriber":true,"remaining":1,"expiresAt":"tomorrow"}'],
    ['a JSON array', 'balance', '[1,2,3]'],
    ['JSON null', 'balance', 'null'],
    ['an order without balance', 'order', '{"success":true,"txHash":"0x1"}'],
    ['an order with a broken balance', 'order', '{"success":true,"balance":{"isSubscriber":true,"remaining":-5}}'],
    ['a redeem without success', 'redeem', '{"creditsRedeemed":3,"remainingBalance":4}'],
    ['a redeem without remainingBalance', 'redeem', '{"success":true,"creditsRedeemed":3}'],
    ['a redeem with remainingBalance past MAX_SAFE_INTEGER', 'redeem', '{"success":true,"creditsRedeemed":3,"remainingBalance":"99999999999999999"}'],
    ['a non-JSON body', 'balance', '<html>maintenance</html>'],
    ['a truncated body', 'order', '{"success":true,"balance":{"isSub'],
    ['an empty body', 'redeem', ''],
    ['an empty body on balance', 'balance', ''],
  ])('%s → UpstreamUnavailableError 503', async (_name, call, body) => {
    const { fetch } = recorder(() => raw(body))
    const error = await rejectionOf(calls[call](client(fetch)))
    expect(error).toBeInstanceOf(UpstreamUnavailableError)
    expect(error).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', status: 503 })
    expect(error.headers['Retry-After']).toBe('2')
    expect(error.message).toMatch(new RegExp(`^Nevermined ${call} answered`))
    expectNoKey(error)
  })

  // Regression: zod 4 runs later checks after a failed regex, so the BigInt refine once threw a
  // raw SyntaxError out of safeParse for credit strings that are not digits.
  it.each([
    ['a decimal string with a fraction', '{"balance":"1.5"}'],
    ['an exponent string', '{"isSubscriber":true,"remaining":"1e3"}'],
    ['a word', '{"balance":"unlimited"}'],
  ])('%s → UpstreamUnavailableError 503 (not a raw SyntaxError)', async (_name, body) => {
    const { fetch } = recorder(() => raw(body))
    const error = await rejectionOf(client(fetch).balance('7', HOLDER, KEY))
    expect(error).toBeInstanceOf(UpstreamUnavailableError)
  })

  // The same regression seen from the gate: a 503, not a 500 INTERNAL_ERROR.
  it('through the gate: a balance of "unlimited" is a 503, not an internal error', async () => {
    const { gate, ledger, alice, planId } = setup()
    ledger.inject('balance', { body: '{"balance":"unlimited","isSubscriber":true}' })
    const result = await spend(gate, planId, alice.apiKey)
    expect(result).toMatchObject({ ok: false, code: 'UPSTREAM_UNAVAILABLE' })
  })

  it('says where the contract broke', async () => {
    const { fetch } = recorder(() => raw('{"success":true,"creditsRedeemed":3}'))
    expect((await rejectionOf(client(fetch).redeem(REDEEM, KEY))).message).toMatch(/breaks the contract at "remainingBalance"/)
    const notJson = recorder(() => raw('oops', 200))
    expect((await rejectionOf(client(notJson.fetch).balance('7', HOLDER, KEY))).message).toMatch(/200 with a body that is not JSON/)
  })
})

describe('NeverminedClient: status mapping', () => {
  it.each<[number, CallName, new (...args: never[]) => PlanGateError, string, number, RegExp]>([
    [401, 'order', CredentialInvalidError, 'CREDENTIAL_INVALID', 401, /refused the API key \(401\)/],
    [403, 'balance', CredentialInvalidError, 'CREDENTIAL_INVALID', 401, /refused the API key \(403\)/],
    [401, 'redeem', CredentialInvalidError, 'CREDENTIAL_INVALID', 401, /agent's API key \(401\)/],
    [402, 'order', PaymentRequiredError, 'PAYMENT_REQUIRED', 402, /could not be ordered/],
    [402, 'redeem', PaymentRequiredError, 'PAYMENT_REQUIRED', 402, /too few credits/],
    [404, 'balance', PlanNotFoundError, 'PLAN_NOT_FOUND', 500, /404 on balance/],
    [404, 'order', PlanNotFoundError, 'PLAN_NOT_FOUND', 500, /404 on order/],
    [429, 'balance', UpstreamUnavailableError, 'UPSTREAM_UNAVAILABLE', 503, /balance answered 429/],
    [500, 'order', UpstreamUnavailableError, 'UPSTREAM_UNAVAILABLE', 503, /order answered 500/],
    [502, 'balance', UpstreamUnavailableError, 'UPSTREAM_UNAVAILABLE', 503, /balance answered 502/],
    [503, 'redeem', UpstreamUnavailableError, 'UPSTREAM_UNAVAILABLE', 503, /redeem answered 503/],
    [418, 'balance', UpstreamUnavailableError, 'UPSTREAM_UNAVAILABLE', 503, /balance answered 418/],
  ])('%i on %s → %o', async (status, call, ErrorClass, code, httpStatus, message) => {
    // The error body is valid-looking JSON: it must not be taken for an answer.
    const { fetch } = recorder(() => json(goodBody[call], { status }))
    const error = await rejectionOf(calls[call](client(fetch)))
    expect(error).toBeInstanceOf(ErrorClass)
    expect(error).toMatchObject({ code, status: httpStatus })
    expect(error.message).toMatch(message)
    expectNoKey(error)
  })

  it('the redeem 401 blames the agent key', async () => {
    const { fetch } = recorder(() => raw('{}', 401))
    expect((await rejectionOf(client(fetch).redeem(REDEEM, KEY))).message).toMatch(/agent's API key/)
  })

  it.each([
    ['7', 503, '7'],
    ['7', 429, '7'],
    ['1', 500, '1'],
    ['300', 503, '300'],
    ['301', 503, '300'],
    ['86400', 429, '300'],
    ['0', 503, '2'],
    ['-5', 503, '2'],
    ['1.5', 503, '2'],
    ['soon', 503, '2'],
    ['Wed, 21 Oct 2037 07:28:00 GMT', 503, '2'],
    [undefined, 503, '2'],
  ])('Retry-After %j on a %i → error.headers["Retry-After"] === %j', async (retryAfter, status, expected) => {
    const headers: Record<string, string> = retryAfter === undefined ? {} : { 'Retry-After': retryAfter }
    const { fetch } = recorder(() => new Response('{"message":"slow down"}', { status, headers }))
    const error = await rejectionOf(client(fetch).balance('7', HOLDER, KEY))
    expect(error).toBeInstanceOf(UpstreamUnavailableError)
    expect(error.headers).toEqual({ 'Retry-After': expected })
  })

  it('cancels the body of an error answer instead of waiting for it', async () => {
    let cancelled = false
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"message":"'))
      },
      cancel() {
        cancelled = true
      },
    })
    const { fetch } = recorder(() => new Response(body, { status: 500 }))
    const started = Date.now()
    const error = await rejectionOf(client(fetch, 5_000).balance('7', HOLDER, KEY))
    expect(error).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' })
    expect(Date.now() - started).toBeLessThan(1_000)
    expect(cancelled).toBe(true)
  })
})

describe('NeverminedClient: time-outs and network errors', () => {
  const servers: Server[] = []
  afterEach(async () => {
    for (const server of servers.splice(0)) {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    }
  })

  it('a fetch that never answers (but honours its signal) rejects after ~timeoutMs with "timed out"', async () => {
    let signal: AbortSignal | undefined
    const fetch: FetchLike = (_input, init) =>
      new Promise((_resolve, reject) => {
        signal = init?.signal ?? undefined
        signal?.addEventListener('abort', () => reject(signal!.reason), { once: true })
      })
    const started = Date.now()
    const error = await rejectionOf(client(fetch, 150).order('7', KEY))
    const elapsed = Date.now() - started
    expect(elapsed).toBeGreaterThanOrEqual(140)
    expect(elapsed).toBeLessThan(1_000)
    expect(signal?.aborted).toBe(true)
    expect(error).toBeInstanceOf(UpstreamUnavailableError)
    expect(error).toMatchObject({ status: 503, code: 'UPSTREAM_UNAVAILABLE' })
    expect(error.message).toMatch(/timed out/)
    expect(error.message).toContain('150 ms')
    expectNoKey(error)
  })

  it('a body that stalls is cut by the time-out when the stream honours the signal (as real fetch does)', async () => {
    const fetch: FetchLike = async (_input, init) => {
      const signal = init!.signal!
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode('{"isSubscriber":true,'))
          signal.addEventListener('abort', () => controller.error(signal.reason), { once: true })
        },
      })
      return new Response(body, { status: 200, headers: { 'Content-Type': 'application/json' } })
    }
    const started = Date.now()
    const error = await rejectionOf(client(fetch, 150).balance('7', HOLDER, KEY))
    expect(Date.now() - started).toBeLessThan(1_000)
    expect(error).toBeInstanceOf(UpstreamUnavailableError)
    expect(error.message).toMatch(/timed out/)
  })

  it('a real HTTP server that sends headers and stalls the body is cut by the time-out (global fetch)', async () => {
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' })
      res.write('{"isSubscriber":true,')
      // …and never ends.
    })
    servers.push(server)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as AddressInfo
    const c = new NeverminedClient({ baseUrl: `http://127.0.0.1:${port}/api/v1`, timeoutMs: 200 })
    const started = Date.now()
    const error = await rejectionOf(c.balance('7', HOLDER, KEY))
    expect(Date.now() - started).toBeLessThan(2_000)
    expect(error).toBeInstanceOf(UpstreamUnavailableError)
    expect(error.message).toMatch(/timed out/)
  })

  // Regression: the time-out must hold even when a custom fetch (an in-process handler, a Worker
  // service binding) ignores the signal and its body stalls.
  it('a custom fetch whose body stalls (stream ignores the signal) is cut by the time-out', async () => {
    const fetch: FetchLike = async () => {
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode('{"isSubscriber":true,'))
          // never closes, never errors
        },
      })
      return new Response(body, { status: 200, headers: { 'Content-Type': 'application/json' } })
    }
    const outcome = await Promise.race([
      client(fetch, 150)
        .balance('7', HOLDER, KEY)
        .then(
          () => 'resolved',
          (error: Error) => error.message,
        ),
      new Promise<string>((resolve) => setTimeout(() => resolve('still waiting after 1500 ms'), 1_500)),
    ])
    expect(outcome).toMatch(/timed out/)
  })

  // Regression: a custom fetch that ignores `init.signal` and never answers.
  it('a custom fetch that ignores the signal and never answers still times out', async () => {
    const fetch: FetchLike = () => new Promise<Response>(() => {})
    const outcome = await Promise.race([
      client(fetch, 150)
        .order('7', KEY)
        .then(
          () => 'resolved',
          (error: Error) => error.message,
        ),
      new Promise<string>((resolve) => setTimeout(() => resolve('still waiting after 1500 ms'), 1_500)),
    ])
    expect(outcome).toMatch(/timed out/)
  })

  it.each([
    ['rejects with TypeError("fetch failed")', (() => Promise.reject(new TypeError('fetch failed'))) as FetchLike],
    [
      'throws synchronously',
      (() => {
        throw new TypeError('Failed to fetch')
      }) as FetchLike,
    ],
    ['rejects with a non-Error', (() => Promise.reject('ECONNREFUSED')) as FetchLike],
  ])('a network error (fetch %s) → 503 "could not be reached"', async (_name, fetch) => {
    const error = await rejectionOf(client(fetch).redeem(REDEEM, KEY))
    expect(error).toBeInstanceOf(UpstreamUnavailableError)
    expect(error).toMatchObject({ status: 503, code: 'UPSTREAM_UNAVAILABLE', headers: { 'Retry-After': '2' } })
    expect(error.message).toMatch(/could not be reached/)
    expect(error.message).not.toMatch(/timed out/)
    expectNoKey(error)
  })

  it('clears its timer: a fast answer leaves no abort behind', async () => {
    const { seen, fetch } = recorder(() => json(BALANCE))
    await client(fetch, 50).balance('7', HOLDER, KEY)
    await new Promise((resolve) => setTimeout(resolve, 120))
    expect(seen[0]!.signal?.aborted).toBe(false)
  })
})

describe('NeverminedClient: the key never appears in an error', () => {
  it('across every failure path and every call', async () => {
    const answers: Array<() => Response | Promise<Response>> = [
      () => raw('{}', 401),
      () => raw('{}', 402),
      () => raw('{}', 404),
      () => raw(`{"echo":"${KEY}"}`, 500),
      () => raw(`{"echo":"${KEY}"}`, 200),
      () => raw(`not json ${KEY}`, 200),
      () => Promise.reject(new TypeError('fetch failed')),
    ]
    let checked = 0
    for (const answer of answers) {
      for (const call of ['order', 'balance', 'redeem'] as const) {
        const error = await rejectionOf(calls[call](client(() => Promise.resolve().then(answer))))
        expect(error).toBeInstanceOf(PlanGateError)
        expectNoKey(error)
        checked++
      }
    }
    expect(checked).toBe(21)
  })
})
