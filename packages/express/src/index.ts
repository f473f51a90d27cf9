/**
 * `@plangate/express`: `requirePlan()` for Express 4 and 5 (SPEC §4). Translation only: every
 * decision is `@plangate/core`'s (`admit`, `isServed`, the gate).
 */
import {
  admit,
  bearerToken,
  isServed,
  resolveRequirePlan,
  sharedGate,
  type Admission,
  type Lease,
  type PlanId,
} from '@plangate/core'
import type { NextFunction, Request, RequestHandler, Response } from 'express'
import type { ExpressRequirePlanOptions } from './types'

export type { ExpressRequirePlanOptions } from './types'
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

/**
 * Charges every request that passes through to a Nevermined plan: `cost` credits of `planId`,
 * from the caller whose key is on the request. The route sees `req.balance`; a 2xx response
 * redeems the credits, anything else (or a client that goes away) gives them back.
 *
 * Throws a `TypeError` for a bad plan id or option, and a `GateMisconfiguredError` when no
 * `gate` is given and `NVM_API_KEY` is not set — when the middleware is created.
 *
 * @example
 * app.use(requirePlan(7))
 * app.post('/ask', requirePlan(7, { gate, cost: 2 }), (req, res) => res.json(req.balance))
 */
export function requirePlan(planId: PlanId, options?: ExpressRequirePlanOptions): RequestHandler {
  const config = resolveRequirePlan<Request>(planId, options, {
    credential: (req) => bearerToken(req.headers.authorization),
    extraOptions: ['onDenied'],
  })
  const onDenied = options?.onDenied
  if (onDenied !== undefined && typeof onDenied !== 'function') {
    throw new TypeError('plangate: option "onDenied" must be a function (err, req, res, next).')
  }
  const gate = options?.gate ?? sharedGate()

  return function requirePlanMiddleware(req: Request, res: Response, next: NextFunction): void {
    // Express 4 ignores returned promises: everything below settles here, errors go to next().
    let passed = false
    const pass: NextFunction = (err?: unknown) => {
      if (passed) return
      passed = true
      next(err)
    }
    let lease: Lease | undefined
    const handle = (admission: Admission): void => {
      if (!admission.allowed) {
        // An async onDenied that rejects goes to next(err) too.
        if (onDenied) void Promise.resolve(onDenied(admission.error, req, res, pass)).catch(pass)
        else deny(res, admission)
        return
      }
      lease = admission.lease
      if (!settleOnResponse(res, lease)) return // the client left while credits were reserved
      req.balance = lease.balance
      setSuccessHeaders(res, admission.headers)
      pass()
    }
    const fail = (error: unknown): void => {
      if (passed) return
      lease?.release()
      pass(error)
    }
    const admission = admit(config, gate, req)
    // A warm request is admitted at once: handled now rather than a turn of the microtask queue later.
    if (admission instanceof Promise) admission.then(handle).catch(fail)
    else {
      try {
        handle(admission)
      } catch (error) {
        fail(error)
      }
    }
  }
}

function setSuccessHeaders(res: Response, headers: Record<string, string>): void {
  const names = Object.keys(headers)
  if (names.length === 0) return
  for (const name of names) res.setHeader(name, headers[name]!) // res.set() would check each for Content-Type
  const writeHead = res.writeHead
  res.writeHead = function (this: Response, ...args: Parameters<Response['writeHead']>) {
    if (!isServed(args[0])) for (const name of names) this.removeHeader(name)
    return writeHead.apply(this, args)
  } as Response['writeHead']
}

function deny(res: Response, denial: Extract<Admission, { allowed: false }>): void {
  // json() keeps the Content-Type already set: application/problem+json.
  res.status(denial.status).set(denial.headers).json(denial.body)
}

/**
 * Commit or release on the final status: `finish` commits a 2xx and releases anything else;
 * `close` without `finish` (the client went away) releases. Lease methods are idempotent.
 * Returns false (after releasing) when the connection is already gone.
 */
function settleOnResponse(res: Response, lease: Lease): boolean {
  if (res.destroyed || res.writableFinished) {
    lease.release()
    return false
  }
  res.once('finish', () => (isServed(res.statusCode) ? lease.commit() : lease.release()))
  res.once('close', () => lease.release())
  return true
}
