/** `requirePlan()` for Koa: the middleware, and how it charges or gives back once the answer is sent. */
import { type Lease, type PlanId } from '@plangate/core'
import { abortBalance, admit, commitForReceipt, credentialFrom, endLease, headerValue, isServed, resolveRequirePlan, sharedGate, X402_HEADERS, type RequirePlanConfig, type UsageOf } from '@plangate/core/adapter'
import type { Context, Middleware, Next, ParameterizedContext } from 'koa'
import { throwDenial } from './denial'
import type { KoaRequirePlanOptions, PlanState } from './types'


/**
 * Charges every request that passes through to a Nevermined plan: `cost` credits of `planId`,
 * from the caller whose key is on the request. The route sees `ctx.state.balance`; a 2xx response
 * redeems the credits once it is sent, anything else (a thrown error, or a client that goes away)
 * gives them back.
 *
 * A denial is thrown, as Koa's `ctx.throw()` throws: an `HttpError` with `status`, `headers`,
 * `expose` and the problem document as `body`, so an error-handling middleware above may answer
 * it its own way. Left alone, it is answered as `application/problem+json`.
 *
 * Throws a `TypeError` for a bad plan id or option, and a `GateMisconfiguredError` when no `gate`
 * is given and `NVM_API_KEY` is not set — when the middleware is created.
 *
 * @example
 * app.use(requirePlan(7))
 * router.post('/ask', requirePlan(7, { gate, cost: 2 }), (ctx) => (ctx.body = ctx.state.balance))
 */
export function requirePlan(planId: PlanId, options?: KoaRequirePlanOptions): Middleware<PlanState> {
  const config: Config = resolveRequirePlan<Context, [Context]>(planId, options, {
    credential: (ctx) => credentialFrom(requestHeader(ctx, 'authorization'), requestHeader(ctx, X402_HEADERS.paymentSignature)),
    resource: (ctx) => ({ url: ctx.originalUrl, method: ctx.method }),
  })
  const gate = options?.gate ?? sharedGate()

  return async function requirePlanMiddleware(ctx: ParameterizedContext<PlanState>, next: Next): Promise<void> {
    const context = ctx as unknown as Context
    let admission = admit(config, gate, context)
    if (admission instanceof Promise) admission = await admission
    if (!admission.allowed) throwDenial(context, admission)
    const { lease, headers } = admission
    if (!settleOnResponse(config, context, lease)) return // the client left while credits were reserved
    ctx.state.balance = lease.balance
    try {
      await next()
    } catch (error) {
      void lease.release() // an error is never charged, whatever answers it above
      throw error
    }
    // Koa writes the answer once every middleware is done: the status is final here, unless a
    // middleware above changes it (and then the lease still goes by what is sent).
    if (isServed(ctx.status) && !ctx.headerSent) {
      for (const name in headers) ctx.set(name, headers[name]!)
      // An x402 payer with immediate settlement gets the settle's receipt on the answer; on a
      // store with an outbox, an answer waits for its commit to be recorded (a stream is charged
      // as it ends instead: what it used is known only then).
      if (admission.receipt && (admission.receipt.until === 'settle' || !isStream(ctx.body))) {
        const value = await commitForReceipt(lease, admission.receipt, usageOf(config, context)).header
        if (value && !ctx.headerSent) ctx.set(X402_HEADERS.paymentResponse, value)
      }
    }
  }
}

function isStream(body: unknown): boolean {
  return typeof (body as { pipe?: unknown } | null)?.pipe === 'function'
}

/**
 * The request header `name` (lower case), repeated ones joined with ", ". Every header plangate
 * reads goes through here.
 */
function requestHeader(ctx: Context, name: string): string | undefined {
  return headerValue(ctx.req.headers[name])
}

type Config = RequirePlanConfig<Context, [Context]>

/** A usage cost's `usage`, bound to this request (undefined for the rest: no closure made). */
function usageOf(config: Config, ctx: Context): UsageOf | undefined {
  const usage = config.usage
  return usage === undefined ? undefined : () => usage(ctx)
}

/**
 * Charge or release on the final status, as the response goes: 'close' comes last on every
 * response, after 'finish' when it was sent whole, alone when the client went away first (a 2xx
 * cut off mid-answer is charged what it reported). Returns false (after releasing) when the
 * connection is already gone.
 */
function settleOnResponse(config: Config, ctx: Context, lease: Lease): boolean {
  const res = ctx.res
  if (res.destroyed || res.writableFinished) {
    void lease.release()
    return false
  }
  res.once('close', () => {
    if (!res.writableFinished) abortBalance(lease.balance)
    void endLease(lease, !isServed(res.statusCode) ? 'failed' : res.writableFinished ? 'served' : res.headersSent ? 'cut' : 'failed', usageOf(config, ctx))
  })
  return true
}
