/**
 * Per-route costs: `{ "POST /v1/chat": 5, "GET /health": 0, "/v1/files/*": 2 }`, or a price by
 * usage, `{ "POST /v1/chat": { "max": 50, "usageHeader": "X-Usage-Credits" } }` (at most `max`,
 * what the upstream says it used in that response header). A key is an
 * optional method (or `*`) and a path whose segments are literals, `:name` (any one segment) or a
 * final `*` (everything below, and the path itself). The most specific pattern wins, whatever the
 * order of the keys; a request nothing matches costs the default.
 *
 * Upstreams read one path in different ways (Express ignores case and a trailing slash, Fastify
 * and Hono do not, Fastify gives `/items/` to `/items/:id`), and the proxy cannot know which one
 * it is in front of: a path is priced under every reading, and costs the most expensive of them.
 */
import { canonicalPath } from './path'

type Segment = { kind: 'literal'; text: string; folded: string } | { kind: 'param' } | { kind: 'rest' }

interface Pattern {
  key: string
  /** Upper-case method, or undefined for any method. */
  method: string | undefined
  segments: Segment[]
  price: Price
}

/** What a route charges: `cost` credits, or at most `cost` by the upstream's `usageHeader`. */
export interface Price {
  cost: number
  /** Set for a route priced by usage: the response header the upstream reports what it used in. */
  usageHeader?: string
}

/** A route's cost as configured: a fixed number of credits, or a price by usage. */
export type RouteCost = number | { max: number; usageHeader: string }

/** One way an upstream may read a path: its segments, and whether literals are compared case-folded. */
interface Reading {
  segments: string[]
  folded: boolean
}

/**
 * How much a request costs: `costOf('POST', '/v1/chat') // 5`. `pathname` is the path as sent
 * (a path the proxy refuses, see canonicalPath, costs the most any route costs). `preflight`: the
 * request is a CORS preflight (OPTIONS with Origin and Access-Control-Request-Method, no body).
 */
export type CostOf = ((method: string, pathname: string, request?: { preflight?: boolean }) => number) & {
  /** The same, with the usage header of a route priced by usage. */
  priceOf(method: string, pathname: string, request?: { preflight?: boolean }): Price
}

/** The dearer of two prices; on a tie, the fixed one (a price by usage may charge less). */
export function dearer(a: Price, b: Price): Price {
  if (a.cost !== b.cost) return a.cost > b.cost ? a : b
  return a.usageHeader === undefined ? a : b
}

const METHOD = /^[A-Za-z]+$/
const PARAM = /^:[A-Za-z_][A-Za-z0-9_]*$/
/** Matches only routes for any method: what a method no route names is priced by. */
const UNNAMED_METHOD = ''

/**
 * Compiles a route table once; the function it returns answers per request. Throws a
 * `TypeError` (prefixed with `where`, e.g. `plangate.json "routes"`) for a malformed key or cost.
 *
 * @example compileRoutes({ 'POST /v1/chat': 5, 'GET /health': 0 }, 1)('GET', '/v1/models') // 1
 */
export function compileRoutes(routes: Record<string, RouteCost>, defaultCost: number, where = 'option "routes"'): CostOf {
  const patterns: Pattern[] = []
  const seen = new Set<string>()
  const fallback: Price = { cost: defaultCost }
  for (const [key, cost] of Object.entries(routes)) {
    const pattern = parsePattern(key, priceOfRoute(key, cost, where), where)
    const canonical = `${pattern.method ?? '*'} ${pattern.segments.map((s) => (s.kind === 'literal' ? s.folded : s.kind === 'param' ? ':' : '*')).join('/')}`
    if (seen.has(canonical)) throw new TypeError(`${where}: "${key}" repeats another route (matching ignores case and ":name" names).`)
    seen.add(canonical)
    patterns.push(pattern)
  }
  patterns.sort(bySpecificity)
  const namedMethods = [...new Set(patterns.map((p) => p.method).filter((m): m is string => m !== undefined && m !== 'OPTIONS'))]
  const highest: Price = { cost: Math.max(defaultCost, ...patterns.map((p) => p.price.cost)) }

  /** The most specific route for `method` under one reading; undefined when none matches. */
  function routePrice(method: string, reading: Reading): Price | undefined {
    for (const pattern of patterns) {
      if (methodMatches(pattern.method, method) && matches(pattern.segments, reading)) return pattern.price
    }
    return undefined
  }

  function priceIn(method: string, reading: Reading, preflight: boolean): Price {
    const own = routePrice(method, reading)
    if (own !== undefined) return own
    if (method !== 'OPTIONS') return fallback
    // CORS preflights carry no credentials: charging them would break every browser caller.
    if (preflight) return FREE
    // Any other OPTIONS reaches whatever an upstream that ignores the method (app.all, app.use)
    // runs for that path: it costs the path's most expensive method.
    let price = routePrice(UNNAMED_METHOD, reading) ?? fallback
    for (const named of namedMethods) price = dearer(price, routePrice(named, reading) ?? fallback)
    return price
  }

  function priceOf(method: string, pathname: string, request?: { preflight?: boolean }): Price {
    const path = canonicalPath(pathname)
    if (path === undefined) return highest
    const upper = method.toUpperCase()
    let price = FREE
    for (const reading of readingsOf(path)) price = dearer(price, priceIn(upper, reading, request?.preflight === true))
    return price
  }
  const costOf = (method: string, pathname: string, request?: { preflight?: boolean }) => priceOf(method, pathname, request).cost
  return Object.assign(costOf, { priceOf })
}

const FREE: Price = { cost: 0 }

/** A route's configured cost as a Price, or a TypeError naming the route. */
function priceOfRoute(key: string, cost: RouteCost, where: string): Price {
  if (typeof cost === 'object' && cost !== null) {
    const { max, usageHeader } = cost as { max?: unknown; usageHeader?: unknown }
    if (!Number.isSafeInteger(max) || (max as number) < 0 || typeof usageHeader !== 'string' || !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(usageHeader)) {
      throw new TypeError(`${where}: the cost of "${key}" priced by usage must be { "max": <credits>, "usageHeader": "<response header name>" }, got ${JSON.stringify(cost)}.`)
    }
    return { cost: max as number, usageHeader: usageHeader.toLowerCase() }
  }
  if (!Number.isSafeInteger(cost) || cost < 0) {
    throw new TypeError(`${where}: the cost of "${key}" must be a non-negative integer (credits; 0 = free and not gated) or { "max", "usageHeader" }, got ${JSON.stringify(cost)}.`)
  }
  return { cost }
}

function parsePattern(key: string, price: Price, where: string): Pattern {
  const trimmed = key.trim()
  const space = trimmed.search(/\s/)
  const methodPart = space === -1 ? undefined : trimmed.slice(0, space)
  const path = space === -1 ? trimmed : trimmed.slice(space).trim()
  if (methodPart !== undefined && methodPart !== '*' && !METHOD.test(methodPart)) {
    throw new TypeError(`${where}: "${key}" must be "METHOD /path" or "/path" (METHOD like GET or POST, or *).`)
  }
  if (!path.startsWith('/')) throw new TypeError(`${where}: the path of "${key}" must start with "/".`)
  const parts = path.split('/').filter((part) => part !== '')
  const segments: Segment[] = parts.map((part, index) => {
    if (part === '*') {
      if (index !== parts.length - 1) throw new TypeError(`${where}: in "${key}", "*" may only end the path (as in "/v1/*").`)
      return { kind: 'rest' }
    }
    if (part.startsWith(':')) {
      if (!PARAM.test(part)) throw new TypeError(`${where}: in "${key}", "${part}" is not a parameter name (":id", letters, digits and _).`)
      return { kind: 'param' }
    }
    if (part.includes('*')) throw new TypeError(`${where}: in "${key}", "*" must be a whole segment at the end of the path.`)
    const text = literalSegment(part)
    if (text === undefined) throw new TypeError(`${where}: in "${key}", "${part}" is not a path segment the proxy forwards (no ".", "..", "\\", ";", "?", "#" or encoded "/", "\\", ".").`)
    return { kind: 'literal', text, folded: text.toLowerCase() }
  })
  return { key, method: methodPart === undefined || methodPart === '*' ? undefined : methodPart.toUpperCase(), segments, price }
}

/** A route's literal segment as a request would spell it once canonical (`café` is `caf%C3%A9`). */
function literalSegment(part: string): string | undefined {
  if (part === '.' || part === '..' || /[?#]/.test(part)) return undefined
  let pathname: string
  try {
    pathname = new URL(`http://segment.invalid/${part}`).pathname
  } catch {
    return undefined
  }
  const text = canonicalPath(pathname)?.slice(1)
  return text === undefined || text === '' || text.includes('/') ? undefined : text
}

/**
 * The readings of a canonical path: literals compared as written or case-folded, and empty
 * segments (`//`, a trailing `/`) kept or dropped. Only the distinct ones.
 */
function readingsOf(path: string): Reading[] {
  const kept = path === '/' ? [] : path.slice(1).split('/')
  const dropped = kept.filter((segment) => segment !== '')
  const shapes = dropped.length === kept.length ? [kept] : [kept, dropped]
  const readings: Reading[] = []
  for (const segments of shapes) {
    readings.push({ segments, folded: false })
    const folded = segments.map((segment) => segment.toLowerCase())
    readings.push({ segments: folded, folded: true })
  }
  return readings
}

function methodMatches(pattern: string | undefined, method: string): boolean {
  if (pattern === undefined) return method !== 'OPTIONS'
  return pattern === method || (pattern === 'GET' && method === 'HEAD')
}

function matches(pattern: Segment[], { segments, folded }: Reading): boolean {
  for (let i = 0; i < pattern.length; i++) {
    const segment = pattern[i]!
    if (segment.kind === 'rest') return true
    const part = segments[i]
    if (part === undefined) return false
    // A parameter takes any segment, an empty one too (Fastify routes `/items/` to `/items/:id`).
    if (segment.kind === 'literal' && (folded ? segment.folded : segment.text) !== part) return false
  }
  return segments.length === pattern.length
}

// Kinds in the order they win: a path that ends here, a literal, a parameter, a wildcard.
const RANK = { end: 3, literal: 2, param: 1, rest: 0 } as const

/** More specific first: segment by segment, then a named method before any method. */
function bySpecificity(a: Pattern, b: Pattern): number {
  const length = Math.max(a.segments.length, b.segments.length)
  for (let i = 0; i < length; i++) {
    const rankA = RANK[a.segments[i]?.kind ?? 'end']
    const rankB = RANK[b.segments[i]?.kind ?? 'end']
    if (rankA !== rankB) return rankB - rankA
    if (a.segments[i]?.kind === 'rest') break
  }
  return Number(a.method === undefined) - Number(b.method === undefined)
}
