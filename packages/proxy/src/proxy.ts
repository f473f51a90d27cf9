import { createPlanGate, type PlanBalance, type PlanGate, type PlanGateOptions } from '@plangate/core'
import { requirePlan, type PlanVariables } from '@plangate/hono'
import { Hono, type Context, type MiddlewareHandler } from 'hono'
import { HTTPException } from 'hono/http-exception'
import { admit, type Admitted } from './admit'
import { createForwarder } from './forward'
import { createNodeForwarder } from './forward-node'
import { resolveProxyOptions, type ProxyOptions } from './options'
import { problemResponse } from './problem'

// `admitted` is optional to the type only (so requirePlan's middleware fits): chargeRoute always sets it.
type Env = { Variables: PlanVariables & { admitted?: Admitted; reportedUsage?: string; trailedUsage?: string } }

/** A proxy ready to serve: a Hono app, its fetch handler, and the gate it spends through. */
export interface Proxy {
  /** Mount it (`parent.route('/', proxy.app)`) or serve it as it is. */
  readonly app: Hono<Env>
  /** The web-standard handler: `serve({ fetch: proxy.fetch, port })`. */
  readonly fetch: Hono<Env>['fetch']
  readonly gate: PlanGate
  /** Redeems what the gate has batched and waits for redemptions in flight: call it on shutdown. */
  close(): Promise<void>
}

/**
 * Puts a Nevermined plan in front of an existing HTTP API: every request is charged its route's
 * cost through `@plangate/hono`'s `requirePlan` and sent on to `upstream`, both bodies streamed.
 * The caller's key never reaches the upstream, which is told who paid in `X-Plangate-*` headers.
 * Only an upstream 2xx is charged; routes that cost 0 are not gated at all.
 *
 * @example
 * const proxy = createProxy({ plan: 7, upstream: 'http://127.0.0.1:8080', routes: { 'POST /v1/chat': 5, 'GET /health': 0 } })
 * serve({ fetch: proxy.fetch, port: 3000 })
 * process.on('SIGTERM', () => void proxy.close())
 */
export function createProxy(options: ProxyOptions): Proxy {
  const config = resolveProxyOptions(options)
  const gate = options.gate ?? gateFrom(options.gateOptions)
  // One middleware per cost, each with a fixed cost: the gate's synchronous path on a warm request.
  const charge = new Map<number, MiddlewareHandler<Env>>()
  for (const cost of config.costs) charge.set(cost, requirePlan(config.planId, { gate, cost, headers: config.creditHeaders }))
  // A route priced by usage: `max` reserved, charged what the upstream's header said, else its
  // trailer of that name (read as the answer ends; missing or malformed, the gate charges `max`
  // and logs why).
  const chargeByUsage = new Map<string, MiddlewareHandler<Env>>()
  for (const { max, usageHeader } of config.usagePrices) {
    const usage = (c: Context<Env>) => reportedCredits(c.var.reportedUsage ?? c.var.trailedUsage)
    chargeByUsage.set(`${max} ${usageHeader}`, requirePlan(config.planId, { gate, cost: { max, usage }, headers: config.creditHeaders }))
  }
  const forward = createForwarder(config)
  // Trailers are out of fetch's reach: a route priced by usage goes over node:http instead,
  // unless the fetch to reach the upstream with is the user's own (then only the header is read).
  const forwardReadingTrailers = options.fetch === undefined ? createNodeForwarder(config) : undefined

  const app = new Hono<Env>()
  app.use(async function chargeRoute(c, next) {
    // Refusals come first: a request refused here reaches neither the gate nor the upstream.
    const admitted = admit(c.req.raw, rawTarget(c), config)
    if (admitted instanceof Response) return admitted
    c.set('admitted', admitted)
    if (admitted.usageHeader !== undefined) return chargeByUsage.get(`${admitted.cost} ${admitted.usageHeader}`)!(c, next)
    if (admitted.cost === 0) return next()
    return charge.get(admitted.cost)!(c, next)
  })
  app.all('*', async (c) => {
    const { pathname, freePreflight, usageHeader } = c.var.admitted!
    const incoming = { request: c.req.raw, pathname, freePreflight, balance: c.var.balance as PlanBalance | undefined, clientAddress: clientAddress(c) }
    if (usageHeader === undefined) return forward(incoming)
    const response = forwardReadingTrailers
      ? await forwardReadingTrailers(incoming, (trailers) => {
          const trailed = trailers[usageHeader]
          if (typeof trailed === 'string') c.set('trailedUsage', trailed)
        })
      : await forward(incoming)
    // What the upstream used is for the proxy to charge, not for the caller to see.
    const reported = response.headers.get(usageHeader)
    if (reported !== null) c.set('reportedUsage', reported)
    response.headers.delete(usageHeader)
    return response
  })
  app.onError((error) => {
    // The gate's denials (401, 402, …) carry their problem+json answer.
    if (error instanceof HTTPException) return error.getResponse()
    config.logger.error(`unexpected failure: ${error instanceof Error ? error.message : String(error)}`)
    return problemResponse('INTERNAL_ERROR', config.planId, 'The proxy failed unexpectedly; nothing was charged.')
  })

  return { app, fetch: app.fetch, gate, close: () => gate.close() }
}

/** The credits a usage header reports: a plain decimal integer, else NaN (the gate then charges the maximum). */
function reportedCredits(value: string | undefined): number {
  return value !== undefined && /^\s*\d{1,15}\s*$/.test(value) ? Number(value) : Number.NaN
}

function gateFrom(gateOptions: Partial<PlanGateOptions> | undefined): PlanGate {
  try {
    return createPlanGate(gateOptions)
  } catch (error) {
    if (error instanceof TypeError) throw new TypeError(`plangate-proxy: invalid option "gateOptions": ${error.message.replace(/^plangate: /, '')}`)
    throw error
  }
}

/** The request target as received, before URL parsing, on @hono/node-server (its Node request is in the bindings). */
function rawTarget(c: Context<Env>): string | undefined {
  const url = (c.env as { incoming?: { url?: unknown } } | undefined)?.incoming?.url
  return typeof url === 'string' ? url : undefined
}

/** The peer's address on @hono/node-server (its Node request is in the bindings). */
function clientAddress(c: Context<Env>): string | undefined {
  const address = (c.env as { incoming?: { socket?: { remoteAddress?: unknown } } } | undefined)?.incoming?.socket?.remoteAddress
  return typeof address === 'string' ? address : undefined
}
