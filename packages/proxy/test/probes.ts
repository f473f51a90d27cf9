/**
 * The probe table: requests that try to be served more than they are charged, each with what the
 * upstream must see of it and what it must cost. probes.test.ts runs every row with and without
 * a key against every upstream in upstreams/. Prices: see HANDLER_PRICES and PROBE_ROUTES.
 */
import { expect } from 'vitest'
import type { Answer } from './http-client'
import type { Seen } from './upstreams/seen'

/** The proxy's routes for the probes: what each upstream handler is worth. */
export const PROBE_ROUTES = { 'GET /health': 0, 'GET /paid/:q': 50, 'POST /items/:id': 1, 'DELETE /items/:id': 10 }
export const PROBE_DEFAULT_COST = 2

/** What a row's checks are given: the upstream's record and the answer, and who paid. */
export interface ProbeContext {
  seen: Seen
  answer: Answer
  /** The request carried a key and was charged (price > 0). */
  charged: boolean
  price: number
  holder: string
  planId: string
  /** The proxy's host:port, as the caller addressed it. */
  proxyHost: string
}

export interface Probe {
  name: string
  method: string
  /** The request target, sent byte for byte. */
  target: string
  headers?: Record<string, string>
  body?: string
  /** The target the upstream must receive and the price, or the status of the proxy's refusal (nothing reaches the upstream). */
  expect: { forwarded: string; price: number } | { refused: 400 | 501; code: string }
  /** Run through the proxy with methodOverride: true. */
  methodOverride?: boolean
  /** The header name the key is sent under (default Authorization). */
  keyHeader?: string
  check?: (context: ProbeContext) => void
}

const refusedPath = { refused: 400, code: 'PATH_AMBIGUOUS' } as const
const refusedUpgrade = { refused: 501, code: 'UPGRADE_NOT_FORWARDED' } as const
const get = (target: string, expect: Probe['expect'], extra: Partial<Probe> = {}): Probe => ({ name: `GET ${target}`, method: 'GET', target, expect, ...extra })

const PATHS: Probe[] = [
  get('/paid/x', { forwarded: '/paid/x', price: 50 }),
  get('/health', { forwarded: '/health', price: 0 }),
  get('/paid/..%2fhealth', refusedPath),
  get('/paid/..%2Fhealth', refusedPath),
  get('/paid/..%5chealth', refusedPath),
  get('/paid/..%5Chealth', refusedPath),
  get('/paid/%2e%2e/health', refusedPath),
  get('/paid/%2E%2E/health', refusedPath),
  get('/health/%2e%2e/paid/x', refusedPath),
  get('/paid/report.pdf%2f..%2f..%2fhealth', refusedPath),
  get('/paid/x%2e', refusedPath),
  get('/paid\\x', refusedPath),
  get('/health\\..\\paid\\x', refusedPath),
  get('/paid/x\\..\\..\\health', refusedPath),
  get('/paid;x/y', refusedPath),
  get('/health;/../paid/x', refusedPath),
  // Plain dot segments are resolved, and the resolved path is the one priced and sent.
  get('/paid/./x', { forwarded: '/paid/x', price: 50 }),
  get('/health/../paid/x', { forwarded: '/paid/x', price: 50 }),
  get('/paid/x/../../health', { forwarded: '/health', price: 0 }),
  get('/./health', { forwarded: '/health', price: 0 }),
  get('/../../paid/x', { forwarded: '/paid/x', price: 50 }),
  // Unreserved escapes are sent decoded: every upstream then reads the same path.
  get('/he%61lth', { forwarded: '/health', price: 0 }),
  get('/p%61id/x', { forwarded: '/paid/x', price: 50 }),
  // Spellings upstreams read differently cost their dearest reading.
  get('/PAID/x', { forwarded: '/PAID/x', price: 50 }),
  get('/HEALTH', { forwarded: '/HEALTH', price: 2 }),
  get('/health/', { forwarded: '/health/', price: 2 }),
  get('//health', { forwarded: '//health', price: 2 }),
  get('/paid//x', { forwarded: '/paid//x', price: 50 }),
  { name: 'DELETE /items/', method: 'DELETE', target: '/items/', expect: { forwarded: '/items/', price: 10 } },
  get('/paid/x?next=%2F..%2Fhealth;y', { forwarded: '/paid/x?next=%2F..%2Fhealth;y', price: 50 }),
]

const PREFLIGHT = { Origin: 'https://app.example', 'Access-Control-Request-Method': 'GET' }
const options = (target: string, name: string, expect: Probe['expect'], extra: Partial<Probe> = {}): Probe => ({ name: `OPTIONS ${target} ${name}`, method: 'OPTIONS', target, expect, ...extra })

const METHODS: Probe[] = [
  { name: 'POST /items/1', method: 'POST', target: '/items/1', body: 'new item', expect: { forwarded: '/items/1', price: 1 }, check: ({ seen }) => expectHandler(seen, 'items-post') },
  { name: 'DELETE /items/1', method: 'DELETE', target: '/items/1', expect: { forwarded: '/items/1', price: 10 } },
  options('/paid/x', 'without preflight headers', { forwarded: '/paid/x', price: 50 }),
  options('/paid/x', 'with Origin only', { forwarded: '/paid/x', price: 50 }, { headers: { Origin: PREFLIGHT.Origin } }),
  options('/paid/x', 'with a body', { forwarded: '/paid/x', price: 50 }, { body: 'q=1', check: ({ seen }) => expectBody(seen, 'q=1') }),
  options('/paid/x', 'a CORS preflight with a body', { forwarded: '/paid/x', price: 50 }, { headers: PREFLIGHT, body: 'q=1', check: ({ seen }) => expectBody(seen, 'q=1') }),
  options('/paid/x', 'a CORS preflight', { forwarded: '/paid/x', price: 0 }, { headers: PREFLIGHT, check: ({ answer }) => expectPreflightAnswer(answer) }),
  options('/items/1', 'without preflight headers', { forwarded: '/items/1', price: 10 }),
  options('/health', 'without preflight headers', { forwarded: '/health', price: 2 }),
  options('/health', 'a CORS preflight', { forwarded: '/health', price: 0 }, { headers: PREFLIGHT, check: ({ answer }) => expectPreflightAnswer(answer) }),
  { name: 'TRACE /paid/x', method: 'TRACE', target: '/paid/x', expect: { refused: 501, code: 'METHOD_NOT_FORWARDED' } },
]

const OVERRIDES = ['X-HTTP-Method-Override', 'X-HTTP-Method', 'X-Method-Override']
const underscored = (name: string) => name.replace(/-/g, '_')
const postItem = (name: string, headers: Record<string, string>, expect: Probe['expect'], extra: Partial<Probe> = {}): Probe => ({
  name: `POST /items/1 ${name}`,
  method: 'POST',
  target: '/items/1',
  body: 'x',
  headers,
  expect,
  ...extra,
})

/** A POST the upstream must have run as POST, with no override header in any spelling. */
const ranAsPost = (header: string) => ({ seen }: ProbeContext) => {
  expectNoHeader(seen, header)
  expectHandler(seen, 'items-post')
}

const OVERRIDE_PROBES: Probe[] = OVERRIDES.flatMap((header) => [
  postItem(`${header}: DELETE (stripped)`, { [header]: 'DELETE' }, { forwarded: '/items/1', price: 1 }, { check: ranAsPost(header) }),
  postItem(`${header.toUpperCase()}: DELETE (stripped)`, { [header.toUpperCase()]: 'DELETE' }, { forwarded: '/items/1', price: 1 }, { check: ranAsPost(header) }),
  postItem(`${underscored(header)}: DELETE (stripped)`, { [underscored(header)]: 'DELETE' }, { forwarded: '/items/1', price: 1 }, { check: ranAsPost(header) }),
  postItem(`${header}: DELETE, with methodOverride (priced as DELETE)`, { [header]: 'DELETE' }, { forwarded: '/items/1', price: 10 }, { methodOverride: true, check: ({ seen }) => expectHeader(seen, header, 'DELETE') }),
  // Kept, the dashed spelling only: WSGI would read an underscore one as the same header, unpriced.
  postItem(`${underscored(header)}: DELETE, with methodOverride (stripped)`, { [underscored(header)]: 'DELETE' }, { forwarded: '/items/1', price: 1 }, { methodOverride: true, check: ranAsPost(header) }),
])
OVERRIDE_PROBES.push({ name: 'POST /paid/x X-HTTP-Method-Override: GET, with methodOverride', method: 'POST', target: '/paid/x', headers: { 'X-HTTP-Method-Override': 'GET' }, body: 'x', methodOverride: true, expect: { forwarded: '/paid/x', price: 50 } })

/** The proxy's own header names; `value`: what the upstream must see under the name (undefined: nothing). */
const RESERVED: Array<{ name: string; value: (context: ProbeContext) => string | undefined; underscoresOnly?: boolean }> = [
  { name: 'X-Plangate-Remaining', value: (c) => (c.charged ? String(100 - c.price) : undefined) },
  { name: 'X-Plangate-Holder', value: (c) => (c.charged ? c.holder : undefined) },
  { name: 'X-Plangate-Plan', value: (c) => (c.charged ? c.planId : undefined) },
  { name: 'X-Plangate-Cost', value: (c) => (c.charged ? String(c.price) : undefined) },
  { name: 'Payment-Signature', value: () => undefined },
  { name: 'Proxy-Authorization', value: () => undefined },
  { name: 'Keep-Alive', value: () => undefined },
  { name: 'Proxy-Connection', value: () => undefined },
  { name: 'Transfer-Encoding', value: () => undefined, underscoresOnly: true }, // a real one would frame the request
  { name: 'Accept-Encoding', value: () => 'identity' },
  // The caller's own dashed X-Forwarded-* are kept (docs/PROXY.md): underscore spellings only.
  { name: 'X-Forwarded-For', value: () => '127.0.0.1', underscoresOnly: true },
  { name: 'X-Forwarded-Host', value: (c) => c.proxyHost, underscoresOnly: true },
  { name: 'X-Forwarded-Proto', value: () => 'http', underscoresOnly: true },
]

const mixedCase = (name: string) => [...name].map((char, i) => (i % 2 ? char.toUpperCase() : char.toLowerCase())).join('')

const HEADER_PROBES: Probe[] = RESERVED.flatMap(({ name, value, underscoresOnly }) => {
  const spellings: Array<[string, Record<string, string>]> = [[`${underscored(name)} and ${underscored(name).toLowerCase()}`, { [underscored(name)]: 'forged', [underscored(name).toLowerCase()]: 'forged' }]]
  if (!underscoresOnly) spellings.push([mixedCase(name), { [mixedCase(name)]: 'forged' }])
  const rows: Probe[] = []
  for (const [spelled, headers] of spellings) {
    for (const [target, price] of [['/health', 0], ['/paid/x', 50]] as const) {
      // A payment-signature the gate can read is an x402 token, which would win over the key.
      if (name === 'Payment-Signature' && price > 0 && !spelled.includes('_')) continue
      rows.push(get(target, { forwarded: target, price }, { name: `GET ${target} with ${spelled}`, headers, check: (c) => expectOnly(c.seen, name, value(c)) }))
    }
  }
  return rows
})
HEADER_PROBES.push(get('/paid/x', { forwarded: '/paid/x', price: 50 }, { name: 'GET /paid/x with the key under aUtHoRiZaTiOn', keyHeader: 'aUtHoRiZaTiOn', check: ({ seen }) => expectOnly(seen, 'Authorization', undefined) }))

const websocket = { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version': '13' }
const UPGRADES: Probe[] = [
  get('/paid/x', refusedUpgrade, { name: 'GET /paid/x WebSocket handshake', headers: websocket }),
  get('/health', refusedUpgrade, { name: 'GET /health WebSocket handshake', headers: websocket }),
  get('/paid/x', refusedUpgrade, { name: 'GET /paid/x Upgrade: h2c alone', headers: { Upgrade: 'h2c' } }),
  get('/paid/x', refusedUpgrade, { name: 'GET /paid/x Connection: keep-alive, upgrade alone', headers: { Connection: 'keep-alive, upgrade' } }),
  { name: 'POST /items/1 Upgrade: websocket', method: 'POST', target: '/items/1', body: 'x', headers: websocket, expect: refusedUpgrade },
]

export const PROBES: Probe[] = [...PATHS, ...METHODS, ...OVERRIDE_PROBES, ...HEADER_PROBES, ...UPGRADES]

// Checks on what the upstream saw. Header names are compared as WSGI compares them: case and `-`/`_` folded.
const folded = (name: string) => name.toLowerCase().replace(/_/g, '-')

/** The upstream saw `name` in no spelling but the proxy's own, and with `value` (undefined: not at all). */
function expectOnly(seen: Seen, name: string, value: string | undefined): void {
  const spelled = seen.headers.filter(([header]) => folded(header) === name.toLowerCase())
  expect(spelled.map(([header, v]) => [header.toLowerCase(), v]), name).toEqual(value === undefined ? [] : [[name.toLowerCase(), value]])
  if (seen.environ) expect(seen.environ[`HTTP_${name.toUpperCase().replace(/-/g, '_')}`], `the WSGI environ's ${name}`).toBe(value)
}

function expectNoHeader(seen: Seen, name: string): void {
  expectOnly(seen, name, undefined)
}

function expectHeader(seen: Seen, name: string, value: string): void {
  expectOnly(seen, name, value)
}

/** The handler that ran is the one the price was for. */
function expectHandler(seen: Seen, handler: Seen['handler']): void {
  expect(seen.handler).toBe(handler)
}

function expectBody(seen: Seen, body: string): void {
  expect(seen.body).toBe(body)
}

/** A free preflight's answer: the CORS headers, no body, nothing of the handler. */
function expectPreflightAnswer(answer: Answer): void {
  expect(answer.text).toBe('')
  expect(answer.headers['access-control-allow-origin']).toBe('*')
  expect(answer.headers['x-handler']).toBeUndefined()
  expect(answer.headers['content-type'] ?? '').not.toMatch(/json/) // (@hono/node-server adds text/plain to every answer)
}
