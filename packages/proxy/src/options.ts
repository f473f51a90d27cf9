import { type PlanGate, type PlanGateOptions, type PlanId } from '@plangate/core'
import { normalizePlanId } from '@plangate/core/adapter'
import { z } from 'zod'
import { compileRoutes, type CostOf, type RouteCost } from './routes'

/** How the proxy reaches the upstream: `globalThis.fetch` by default. */
export type UpstreamFetch = (input: string, init: RequestInit & { duplex?: 'half' }) => Promise<Response>

/** Where the proxy writes what went wrong upstream. Messages never contain a key. */
export interface ProxyLogger {
  warn(message: string): void
  error(message: string): void
}

/** The headers the proxy adds to the upstream's request on a charged route (`false`: not sent). */
export interface UpstreamHeaderNames {
  /** The caller's credits left after this request. Default `X-Plangate-Remaining`. */
  remaining: string | false
  /** The caller's address (the key's holder). Default `X-Plangate-Holder`. */
  holder: string | false
  /** The plan charged. Default `X-Plangate-Plan`. */
  plan: string | false
  /** What this request cost. Default `X-Plangate-Cost`. */
  cost: string | false
}

/** The options of {@link createProxy}. */
export interface ProxyOptions {
  /** The plan every charged request spends: a number, bigint or decimal string. */
  plan: PlanId
  /** The API to put the plan in front of: an http(s) base URL; its path, if any, prefixes every request's. */
  upstream: string | URL
  /**
   * Credits per route, e.g. `{ 'POST /v1/chat': 5, 'GET /health': 0 }`; 0 = free and not gated.
   * A route priced by usage, `{ max: 50, usageHeader: 'X-Usage-Credits' }`, reserves `max` and
   * is charged what the upstream reports in that response header, or else in a trailer of that
   * name at the end of a streamed answer (docs/PROXY.md).
   */
  routes?: Record<string, RouteCost>
  /** Credits for a request no route matches. Default 1. */
  defaultCost?: number
  /** How long the upstream may stay silent before 504: no upload progress and no response headers. Default 30 000 ms. */
  timeoutMs?: number
  /** The names of the headers telling the upstream who paid; each may be `false`. */
  upstreamHeaders?: Partial<UpstreamHeaderNames>
  /** Send the caller `X-Credits-Remaining` and `X-Plan-Id` on a charged route. Default true. */
  creditHeaders?: boolean
  /**
   * The upstream honours `X-HTTP-Method-Override`, `X-HTTP-Method` or `X-Method-Override`: forward
   * them, and price a request as the most expensive of its method and the ones they name. Default
   * false: they are removed, so the upstream runs the method that was priced.
   */
  methodOverride?: boolean
  /** The gate to spend through. Default: `createPlanGate(gateOptions)` (NVM_API_KEY, NVM_ENVIRONMENT). */
  gate?: PlanGate
  /** Options of the gate the proxy creates when no `gate` is given. */
  gateOptions?: Partial<PlanGateOptions>
  /**
   * How to reach the upstream. Default `globalThis.fetch`, and `node:http(s)` for routes priced by
   * usage (to read trailers). Given, it is used for every route, and a usage trailer is not read.
   */
  fetch?: UpstreamFetch
  /** Default: `console`, prefixed `[plangate-proxy]`. */
  logger?: ProxyLogger
}

/** The options after checks and defaults. */
export interface ResolvedProxyOptions {
  planId: string
  /** The upstream's origin and base path, without a trailing slash: `http://127.0.0.1:8080/api`. */
  upstream: string
  costOf: CostOf
  /** Every fixed cost a route can have other than 0, so each gets its middleware once. */
  costs: number[]
  /** Every price by usage a route has (`max` and header), likewise. */
  usagePrices: Array<{ max: number; usageHeader: string }>
  timeoutMs: number
  upstreamHeaders: UpstreamHeaderNames
  creditHeaders: boolean
  methodOverride: boolean
  fetch: UpstreamFetch
  logger: ProxyLogger
}

const DEFAULT_HEADERS: UpstreamHeaderNames = {
  remaining: 'X-Plangate-Remaining',
  holder: 'X-Plangate-Holder',
  plan: 'X-Plangate-Plan',
  cost: 'X-Plangate-Cost',
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
// Names whose meaning the proxy owns: an upstream header of that name would be dropped or misread.
const RESERVED = new Set(['authorization', 'payment-signature', 'host', 'connection', 'content-length', 'content-type', 'transfer-encoding', 'cookie'])

const credits = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER)
const headerName = z.union([
  z.literal(false),
  z
    .string()
    .regex(TOKEN, 'expected a header name (letters, digits and - _ .)')
    .refine((name) => !RESERVED.has(name.toLowerCase()), 'that header is the caller\'s or the connection\'s; pick a name such as X-Plangate-Remaining'),
])

/** The JSON-shaped options, shared by {@link createProxy} and the CLI's config file. */
export const proxyFields = {
  plan: z.union([z.string(), z.number(), z.bigint()]),
  upstream: z.union([z.string(), z.instanceof(URL)]),
  routes: z.record(z.string(), z.union([credits, z.strictObject({ max: credits, usageHeader: z.string().regex(TOKEN, 'expected a header name (letters, digits and - _ .)') })])),
  defaultCost: credits,
  timeoutMs: z.number().int().min(1).max(3_600_000),
  upstreamHeaders: z.strictObject({ remaining: headerName.optional(), holder: headerName.optional(), plan: headerName.optional(), cost: headerName.optional() }),
  creditHeaders: z.boolean(),
  methodOverride: z.boolean('expected true (forward the method-override headers, priced) or false (remove them)'),
}

const optionsSchema = z.strictObject({
  plan: proxyFields.plan,
  upstream: proxyFields.upstream,
  routes: proxyFields.routes.optional(),
  defaultCost: proxyFields.defaultCost.optional(),
  timeoutMs: proxyFields.timeoutMs.optional(),
  upstreamHeaders: proxyFields.upstreamHeaders.optional(),
  creditHeaders: proxyFields.creditHeaders.optional(),
  methodOverride: proxyFields.methodOverride.optional(),
  gate: z.custom<PlanGate>((v) => typeof v === 'object' && v !== null && typeof (v as PlanGate).reserve === 'function', 'expected a gate from createPlanGate()').optional(),
  gateOptions: z.custom<Partial<PlanGateOptions>>((v) => typeof v === 'object' && v !== null, 'expected the options of createPlanGate()').optional(),
  fetch: z.custom<UpstreamFetch>((v) => typeof v === 'function', 'expected a fetch function').optional(),
  logger: z
    .custom<ProxyLogger>((v) => typeof v === 'object' && v !== null && typeof (v as ProxyLogger).warn === 'function' && typeof (v as ProxyLogger).error === 'function', 'expected { warn(message), error(message) }')
    .optional(),
})

/** A zod failure as one sentence naming the option: `invalid option "routes.GET /x": …`. */
export function describeIssue(error: z.ZodError, known: string[], noun = 'option'): string {
  const issue = error.issues[0]!
  if (issue.code === 'unrecognized_keys') {
    if (issue.path.length > 0) return `unknown ${noun} "${issue.path.join('.')}.${issue.keys.join('", "')}"`
    return `unknown ${noun} "${issue.keys.join('", "')}"; the ${noun}s are ${known.join(', ')}`
  }
  const name = issue.path.length > 0 ? issue.path.join('.') : '(options)'
  return `invalid ${noun} "${name}": ${issue.message}`
}

/**
 * Checks the options of {@link createProxy}; a wrong one throws a `TypeError` that names it.
 * The gate is not built here (see createProxy): only what the proxy itself reads.
 */
export function resolveProxyOptions(input: unknown): ResolvedProxyOptions {
  if (typeof input !== 'object' || input === null) throw new TypeError('plangate-proxy: createProxy needs options: { plan, upstream }.')
  const parsed = optionsSchema.safeParse(input)
  if (!parsed.success) throw new TypeError(`plangate-proxy: ${describeIssue(parsed.error, Object.keys(optionsSchema.shape))}.`)
  const options = parsed.data
  if (options.gate && options.gateOptions) throw new TypeError('plangate-proxy: pass either "gate" or "gateOptions", not both.')

  let planId: string
  try {
    planId = normalizePlanId(options.plan)
  } catch (error) {
    throw new TypeError(`plangate-proxy: invalid option "plan": ${(error as Error).message.replace(/^plangate: /, '')}.`)
  }
  const upstreamHeaders = { ...DEFAULT_HEADERS, ...options.upstreamHeaders }
  const names = Object.values(upstreamHeaders).filter((name) => name !== false).map((name) => name.toLowerCase())
  if (new Set(names).size !== names.length) throw new TypeError('plangate-proxy: invalid option "upstreamHeaders": two of the headers have the same name.')
  const defaultCost = options.defaultCost ?? 1
  const routes = options.routes ?? {}
  const costs = new Set([defaultCost, ...Object.values(routes).filter((cost): cost is number => typeof cost === 'number')])
  costs.delete(0)
  const usagePrices = new Map<string, { max: number; usageHeader: string }>()
  for (const cost of Object.values(routes)) {
    if (typeof cost === 'object') usagePrices.set(`${cost.max} ${cost.usageHeader.toLowerCase()}`, { max: cost.max, usageHeader: cost.usageHeader.toLowerCase() })
  }
  return {
    planId,
    upstream: upstreamBase(options.upstream),
    costOf: compileRoutes(routes, defaultCost, 'plangate-proxy: invalid option "routes"'),
    costs: [...costs],
    usagePrices: [...usagePrices.values()],
    timeoutMs: options.timeoutMs ?? 30_000,
    upstreamHeaders,
    creditHeaders: options.creditHeaders ?? true,
    methodOverride: options.methodOverride ?? false,
    fetch: options.fetch ?? ((input, init) => globalThis.fetch(input, init)),
    logger: options.logger ?? {
      warn: (message) => console.warn(`[plangate-proxy] ${message}`),
      error: (message) => console.error(`[plangate-proxy] ${message}`),
    },
  }
}

/** The upstream as a base to append request paths to; throws a `TypeError` on anything else. */
export function upstreamBase(upstream: string | URL, name = 'invalid option "upstream"'): string {
  let url: URL
  try {
    url = new URL(String(upstream))
  } catch {
    throw new TypeError(`plangate-proxy: ${name}: expected the API's base URL, such as http://127.0.0.1:8080.`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`plangate-proxy: ${name}: the URL must be http:// or https://.`)
  if (url.username || url.password) throw new TypeError(`plangate-proxy: ${name}: the URL must not hold a user name or password.`)
  if (url.search || url.hash) throw new TypeError(`plangate-proxy: ${name}: the URL must not have a query or a fragment.`)
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`
}
