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
    credential: (c) => bearerToken(c.req.header('Authorization')),
  })
  let gate: PlanGate | undefined = options?.gate

  return createMiddleware<{ Variables: PlanVariables }>(async function requirePlan(c, next) {
    // Created on first use, never at module scope: workers forbid I/O and timers there.
    const admission = await admit(config, () => (gate ??= sharedGate(gateEnv(c))), c)
    if (!admission.allowed) {
      const { status, headers, body } = admission
      throw new HTTPException(status as ConstructorParameters<typeof HTTPException>[0], {
        message: body.detail,
        cause: admission.error,
        res: new Response(JSON.stringify(body), { status, headers }),
      })
    }
    const { lease } = admission
    c.set('balance', lease.balance)
    let served = false
    try {
      await next()
      served = isServed(c.res.status)
    } finally {
      // Always settled: a thrown error (with no onError to turn it into a response) releases.
      if (served) lease.commit()
      else lease.release()
    }
    // c.header() after next() writes onto c.res, copying a response whose headers are immutable.
    if (served) for (const [name, value] of Object.entries(admission.headers)) c.header(name, value)
  })
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
