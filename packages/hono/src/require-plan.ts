/** `requirePlan()` for Hono: the middleware, and how it charges or gives back when the answer ends. */
import { type Credential, type PlanGate, type PlanId } from '@plangate/core'
import { abortBalance, admit, commitForReceipt, credentialFrom, isServed, resolveRequirePlan, sharedGate, X402_HEADERS, type RequirePlanConfig, type UsageOf } from '@plangate/core/adapter'
import type { Context, MiddlewareHandler } from 'hono'
import { env } from 'hono/adapter'
import { createMiddleware } from 'hono/factory'
import { HTTPException } from 'hono/http-exception'
import { chargeWhenBodyEnds, meterOnClose, type ClosingResponse } from './metered-body'
import type { HonoRequirePlanOptions, PlanVariables } from './types'

type Config = RequirePlanConfig<Context, [Context]>

/** A usage cost's `usage`, bound to this request (undefined for the rest: no closure made). */
function usageOf(config: Config, c: Context): UsageOf | undefined {
  const usage = config.usage
  return usage === undefined ? undefined : () => usage(c)
}

/**
 * Charges every request that passes through to a Nevermined plan: `cost` credits of `planId`,
 * from the caller whose key is on the request. The route sees `c.get('balance')`; a 2xx response
 * redeems the credits, anything else (or a thrown error) gives them back. A denial throws an
 * `HTTPException` carrying the `application/problem+json` answer, so `app.onError` may replace it.
 *
 * Without a `gate`, the first request builds one from `NVM_API_KEY` and `NVM_ENVIRONMENT` as
 * `env(c)` from `hono/adapter` finds them (bindings on workerd); if they are missing, requests
 * are answered 500 `GATE_MISCONFIGURED`. A bad plan id or option throws a `TypeError` at once.
 *
 * @example
 * app.use('/ask/*', requirePlan(7, { gate }))
 * app.post('/ask', (c) => c.json(c.get('balance')))
 */
export function requirePlan(planId: PlanId, options?: HonoRequirePlanOptions): MiddlewareHandler<{ Variables: PlanVariables }> {
  const config: Config = resolveRequirePlan<Context, [Context]>(planId, options, {
    credential,
    resource: (c) => {
      const url = c.req.url
      const path = url.indexOf('/', url.indexOf('//') + 2)
      return { url: path === -1 ? '/' : url.slice(path), method: c.req.method }
    },
  })
  let gate: PlanGate | undefined = options?.gate

  return createMiddleware<{ Variables: PlanVariables }>(async function requirePlan(c, next) {
    // Created on first use, never at module scope: workers forbid I/O and timers there.
    let admission = admit(config, gate ?? (() => (gate ??= sharedGate(gateEnv(c)))), c)
    if (admission instanceof Promise) admission = await admission
    if (!admission.allowed) {
      const { status, headers, body } = admission
      throw new HTTPException(status as ConstructorParameters<typeof HTTPException>[0], {
        message: body.detail,
        cause: admission.error,
        res: new Response(JSON.stringify(body), { status, headers }),
      })
    }
    const { lease, headers } = admission
    c.set('balance', lease.balance)
    const outgoing = nodeResponse(c)
    // Read before next(): @hono/node-server only aborts a signal that exists when the client leaves
    // (there, the Node response says it more cheaply: reading the signal builds a whole Request).
    const signal: AbortSignal | undefined = outgoing ? undefined : c.req.raw?.signal
    const chargeOnClose = config.metered && outgoing?.once ? meterOnClose(outgoing as ClosingResponse, lease) : undefined
    if (config.metered && chargeOnClose === undefined) signal?.addEventListener('abort', () => abortBalance(lease.balance), { once: true })
    let settled: Promise<unknown> | undefined
    try {
      await next()
      // A client that went away was not served, whatever the route answered: its credits go back.
      if (isServed(c.res.status) && !(outgoing ? outgoing.destroyed : signal?.aborted)) {
        let sent = headers
        // An x402 payer with immediate settlement gets the settle's receipt on the answer: what a
        // route priced by usage reported until it returned its answer is what is charged. On a
        // store with an outbox, the answer waits for its commit to be recorded; a route priced
        // by usage is charged as its body ends instead (it may stream: what it used is known then).
        if (admission.receipt && (admission.receipt.until === 'settle' || !config.metered)) {
          const commit = commitForReceipt(lease, admission.receipt, usageOf(config, c))
          settled = commit.settled
          const value = await commit.header
          if (value) sent = { ...headers, [X402_HEADERS.paymentResponse]: value }
        }
        // Served only once the answer is complete: a throw here charges nothing.
        addHeaders(c, sent, outgoing)
        settled ??= !config.metered ? lease.commit() : chargeOnClose ? chargeOnClose(usageOf(config, c)) : chargeWhenBodyEnds(c, lease, usageOf(config, c))
      }
    } finally {
      // Always settled: a thrown error (with no onError to turn it into a response) releases.
      keepAlive(c, settled ?? lease.release(), outgoing)
    }
  })
}

/**
 * Workers stop a request's pending work (timers, promises, subrequests) once its response is sent,
 * so the redemption of its credits must be handed to `waitUntil`. Elsewhere (Node, Deno, Bun) there
 * is no execution context, Hono's getter throws, and the process simply carries on.
 */
function keepAlive(c: Context, settled: Promise<unknown>, outgoing: NodeResponse | undefined): void {
  if (outgoing) return // @hono/node-server: no execution context (and the getter's throw costs an Error)
  let executionCtx: { waitUntil(promise: Promise<unknown>): void } | undefined
  try {
    executionCtx = c.executionCtx
  } catch {
    return
  }
  if (typeof executionCtx?.waitUntil === 'function') executionCtx.waitUntil(settled)
}

/**
 * The credential from the Authorization and payment-signature headers, as `c.req.header()` gives
 * them (repeated ones joined with ", "). On @hono/node-server they are read from the Node request
 * in its bindings (`c.env.incoming`): there, c.req.header() first builds a Headers of every
 * header, which costs more than the rest of the gate's work on a warm request.
 */
function credential(c: Context): Credential | undefined {
  const raw = (c.env as { incoming?: { rawHeaders?: unknown } } | undefined)?.incoming?.rawHeaders
  if (!Array.isArray(raw)) return credentialFrom(c.req.header('Authorization'), c.req.header(X402_HEADERS.paymentSignature))
  let authorization: string | undefined
  let paymentSignature: string | undefined
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name: unknown = raw[i]
    if (typeof name !== 'string') continue
    // As clients send it, compared before lower-casing: toLowerCase() costs more than the loop.
    if (name === 'authorization' || name === 'Authorization' || (name.length === 13 && name.toLowerCase() === 'authorization')) {
      authorization = authorization === undefined ? String(raw[i + 1]) : `${authorization}, ${String(raw[i + 1])}`
    } else if (name.length === 17 && name.toLowerCase() === X402_HEADERS.paymentSignature) {
      paymentSignature = paymentSignature === undefined ? String(raw[i + 1]) : `${paymentSignature}, ${String(raw[i + 1])}`
    }
  }
  return credentialFrom(authorization, paymentSignature)
}


/** What plangate reads of the Node response @hono/node-server passes in its bindings (`c.env.outgoing`). */
interface NodeResponse {
  /** True once the client has gone away (or the answer was sent). */
  readonly destroyed: boolean
  readonly headersSent: boolean
  readonly writableFinished?: boolean
  setHeader(name: string, value: string): unknown
  once?(event: 'close', listener: () => void): unknown
}

function nodeResponse(c: Context): NodeResponse | undefined {
  const outgoing = (c.env as { outgoing?: Partial<Record<keyof NodeResponse, unknown>> } | undefined)?.outgoing
  const usable = typeof outgoing?.destroyed === 'boolean' && typeof outgoing.headersSent === 'boolean' && typeof outgoing.setHeader === 'function'
  return usable ? (outgoing as NodeResponse) : undefined
}

/**
 * Onto the route's answer. On @hono/node-server, onto the Node response it is about to write
 * (merged there with the answer's own headers): c.header() after next() would copy the answer,
 * turning its body into a stream, and even c.res.headers costs more than the rest of the gate's
 * work. Elsewhere, in place where the answer's headers can change; a fetch() answer's cannot, and
 * c.header() copies that one (Hono ≥ 4.7.7).
 */
function addHeaders(c: Context, headers: Record<string, string>, outgoing: NodeResponse | undefined): void {
  if (outgoing && !outgoing.headersSent) {
    for (const name in headers) outgoing.setHeader(name, headers[name]!)
    return
  }
  try {
    for (const name in headers) c.res.headers.set(name, headers[name]!)
  } catch {
    for (const name in headers) c.header(name, headers[name])
  }
}

/** Only the two variables, as strings: workerd bindings also hold KV namespaces and the like. */
function gateEnv(c: Context): Record<string, string> {
  const vars: Record<string, unknown> = env(c) ?? {}
  const picked: Record<string, string> = {}
  for (const name of ['NVM_API_KEY', 'NVM_ENVIRONMENT', 'NVM_AGENT_ID']) {
    const value = vars[name]
    if (typeof value === 'string') picked[name] = value
  }
  return picked
}
