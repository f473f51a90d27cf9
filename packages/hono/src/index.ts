/**
 * `@plangate/hono`: `requirePlan()` for Hono on Node, workerd, Deno and Bun (SPEC §4). Web APIs
 * only. Translation only: every decision is `@plangate/core`'s (`admit`, `isServed`, the gate).
 */
import {
  admit,
  bearerToken,
  isServed,
  resolveRequirePlan,
  sharedGate,
  type PlanBalance,
  type PlanGate,
  type PlanId,
  type RequirePlanOptions,
} from '@plangate/core'
import type { Context, MiddlewareHandler } from 'hono'
import { env } from 'hono/adapter'
import { createMiddleware } from 'hono/factory'
import { HTTPException } from 'hono/http-exception'

export {
  CostInvalidError,
  createPlanGate,
  CredentialInvalidError,
  CredentialMissingError,
  GateMisconfiguredError,
  isPlanGateError,
  PaymentRequiredError,
  PlanGateError,
  PlanNotFoundError,
  StoreUnavailableError,
  UpstreamUnavailableError,
  type PlanBalance,
  type PlanGate,
  type PlanGateErrorCode,
  type PlanGateOptions,
  type PlanId,
  type ProblemDetails,
} from '@plangate/core'

/** What `requirePlan` adds to the context: `c.get('balance')`. For `new Hono<{ Variables: PlanVariables }>()`. */
export type PlanVariables = { balance: PlanBalance }

declare module 'hono' {
  interface ContextVariableMap extends PlanVariables {}
}

/** The options of `requirePlan` for Hono; `cost` and `credential` get the `Context`. */
export interface HonoRequirePlanOptions extends RequirePlanOptions<Context> {}

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
  const config = resolveRequirePlan<Context>(planId, options, {
    credential: (c) => bearerToken(authorization(c)),
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
    let served = false
    try {
      await next()
      // A client that went away was not served, whatever the route answered: its credits go back.
      if (isServed(c.res.status) && !(outgoing ? outgoing.destroyed : signal?.aborted)) {
        // Served only once the answer is complete: a throw here charges nothing.
        addHeaders(c, headers, outgoing)
        served = true
      }
    } finally {
      // Always settled: a thrown error (with no onError to turn it into a response) releases.
      keepAlive(c, served ? lease.commit() : lease.release(), outgoing)
    }
  })
}

/**
 * Workers stop a request's pending work (timers, promises, subrequests) once its response is sent,
 * so the redemption of its credits must be handed to `waitUntil`. Elsewhere (Node, Deno, Bun) there
 * is no execution context, Hono's getter throws, and the process simply carries on.
 */
function keepAlive(c: Context, settled: Promise<void>, outgoing: NodeResponse | undefined): void {
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
 * The Authorization header, as `c.req.header('Authorization')` gives it (repeated ones joined with
 * ", "). On @hono/node-server it is read from the Node request in its bindings (`c.env.incoming`):
 * there, c.req.header() first builds a Headers of every header, which costs more than the rest of
 * the gate's work on a warm request.
 */
function authorization(c: Context): string | undefined {
  const raw = (c.env as { incoming?: { rawHeaders?: unknown } } | undefined)?.incoming?.rawHeaders
  if (!Array.isArray(raw)) return c.req.header('Authorization')
  let value: string | undefined
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name: unknown = raw[i]
    // As clients send it, compared before lower-casing: toLowerCase() costs more than the loop.
    if (name === 'authorization' || name === 'Authorization' || (typeof name === 'string' && name.length === 13 && name.toLowerCase() === 'authorization')) {
      value = value === undefined ? String(raw[i + 1]) : `${value}, ${String(raw[i + 1])}`
    }
  }
  return value
}

/** What plangate reads of the Node response @hono/node-server passes in its bindings (`c.env.outgoing`). */
interface NodeResponse {
  /** True once the client has gone away (or the answer was sent). */
  readonly destroyed: boolean
  readonly headersSent: boolean
  setHeader(name: string, value: string): unknown
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
  for (const name of ['NVM_API_KEY', 'NVM_ENVIRONMENT']) {
    const value = vars[name]
    if (typeof value === 'string') picked[name] = value
  }
  return picked
}
