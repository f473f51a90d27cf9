/**
 * Per-route costs: `{ "POST /v1/chat": 5, "GET /health": 0, "/v1/files/*": 2 }`. A key is an
 * optional method (or `*`) and a path whose segments are literals, `:name` (any one segment) or a
 * final `*` (everything below, and the path itself). The most specific pattern wins, whatever the
 * order of the keys; a request nothing matches costs the default.
 */

type Segment = { kind: 'literal'; text: string } | { kind: 'param' } | { kind: 'rest' }

interface Pattern {
  key: string
  /** Upper-case method, or undefined for any method. */
  method: string | undefined
  segments: Segment[]
  cost: number
}

/** How much a request costs: `costOf('POST', '/v1/chat') // 5`. */
export type CostOf = (method: string, pathname: string) => number

const METHOD = /^[A-Za-z]+$/
const PARAM = /^:[A-Za-z_][A-Za-z0-9_]*$/

/**
 * Compiles a route table once; the function it returns answers per request. Throws a
 * `TypeError` (prefixed with `where`, e.g. `plangate.json "routes"`) for a malformed key or cost.
 *
 * @example compileRoutes({ 'POST /v1/chat': 5, 'GET /health': 0 }, 1)('GET', '/v1/models') // 1
 */
export function compileRoutes(routes: Record<string, number>, defaultCost: number, where = 'option "routes"'): CostOf {
  const patterns: Pattern[] = []
  const seen = new Set<string>()
  for (const [key, cost] of Object.entries(routes)) {
    if (!Number.isSafeInteger(cost) || cost < 0) {
      throw new TypeError(`${where}: the cost of "${key}" must be a non-negative integer (credits; 0 = free and not gated), got ${JSON.stringify(cost)}.`)
    }
    const pattern = parsePattern(key, cost, where)
    const canonical = `${pattern.method ?? '*'} ${pattern.segments.map((s) => (s.kind === 'literal' ? s.text : s.kind === 'param' ? ':' : '*')).join('/')}`
    if (seen.has(canonical)) throw new TypeError(`${where}: "${key}" repeats another route (matching ignores case and ":name" names).`)
    seen.add(canonical)
    patterns.push(pattern)
  }
  patterns.sort(bySpecificity)

  return function costOf(method, pathname) {
    const upper = method.toUpperCase()
    const segments = normalizePath(pathname)
    for (const pattern of patterns) {
      if (!methodMatches(pattern.method, upper)) continue
      if (matches(pattern.segments, segments)) return pattern.cost
    }
    // CORS preflights carry no credentials: charging them would break every browser caller. Only
    // a route naming OPTIONS charges them (a route for any method leaves them out).
    return upper === 'OPTIONS' ? 0 : defaultCost
  }
}

function parsePattern(key: string, cost: number, where: string): Pattern {
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
    const normalized = normalizePath(`/${part}`)
    const text = normalized[0]
    if (normalized.length !== 1 || text === undefined || part === '.' || part === '..') {
      throw new TypeError(`${where}: in "${key}", "${part}" is not a path segment.`)
    }
    return { kind: 'literal', text }
  })
  return { key, method: methodPart === undefined || methodPart === '*' ? undefined : methodPart.toUpperCase(), segments, cost }
}

function methodMatches(pattern: string | undefined, method: string): boolean {
  if (pattern === undefined) return method !== 'OPTIONS'
  return pattern === method || (pattern === 'GET' && method === 'HEAD')
}

function matches(pattern: Segment[], path: string[]): boolean {
  for (let i = 0; i < pattern.length; i++) {
    const segment = pattern[i]!
    if (segment.kind === 'rest') return true
    const part = path[i]
    if (part === undefined) return false
    if (segment.kind === 'literal' && segment.text !== part) return false
  }
  return path.length === pattern.length
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

/**
 * The path as the most lenient upstream could understand it, so that no spelling of a path gets
 * another route's price: unreserved characters and encoded slashes and dots decoded, backslashes
 * as slashes, case folded, empty and `.` segments dropped, `..` applied. (A stricter upstream
 * answers such a spelling 404, which is not charged.)
 */
export function normalizePath(pathname: string): string[] {
  const decoded = pathname.replace(/%([0-9A-Fa-f]{2})/g, (escape, hex: string) => {
    const char = String.fromCharCode(parseInt(hex, 16))
    return /[A-Za-z0-9\-._~/\\]/.test(char) ? char : escape
  })
  const out: string[] = []
  for (const part of decoded.replace(/\\/g, '/').split('/')) {
    if (part === '' || part === '.') continue
    if (part === '..') out.pop()
    else out.push(part.toLowerCase())
  }
  return out
}
