/** `requirePlan()` for Express: the middleware, and how it charges or gives back on the response. */
import { type Lease, type PlanId } from '@plangate/core'
import { abortBalance, admit, commitForReceipt, credentialFrom, endLease, headerValue, isServed, resolveRequirePlan, sharedGate, X402_HEADERS, type Admission, type ReceiptWait, type RequirePlanConfig, type UsageOf } from '@plangate/core/adapter'
import type { NextFunction, Request, RequestHandler, Response } from 'express'
import type { ExpressRequirePlanOptions } from './types'

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
  const config: Config = resolveRequirePlan<Request, [Request, Response]>(planId, options, {
    credential: (req) => credentialFrom(headerValue(req.headers.authorization), headerValue(req.headers[X402_HEADERS.paymentSignature])),
    resource: (req) => ({ url: req.originalUrl, method: req.method }),
    extraOptions: ['onDenied'],
  })
  const onDenied = options?.onDenied
  if (onDenied !== undefined && typeof onDenied !== 'function') {
    throw new TypeError('plangate: option "onDenied" must be a function (err, req, res, next).')
  }
  const gate = options?.gate ?? sharedGate()

  return function requirePlanMiddleware(req: Request, res: Response, next: NextFunction): void {
    const admission = admit(config, gate, req)
    // A warm request is admitted at once: handled now, without a turn of the microtask queue and
    // without a closure (each allocation counts on every request; BENCHMARKS.md section 6).
    if (!(admission instanceof Promise)) {
      handle(admission, config, req, res, next, onDenied)
      return
    }
    // Express 4 ignores returned promises: everything below settles here, and next() runs once.
    const pass = once(next)
    admission.then((later) => handle(later, config, req, res, pass, onDenied)).catch(pass)
  }
}

function once(next: NextFunction): NextFunction {
  let passed = false
  return (err?: unknown) => {
    if (passed) return
    passed = true
    next(err)
  }
}

type OnDenied = ExpressRequirePlanOptions['onDenied']
type Config = RequirePlanConfig<Request, [Request, Response]>

/** A usage cost's `usage`, bound to this request (undefined for the rest: no closure made). */
function usageOf(config: Config, req: Request, res: Response): UsageOf | undefined {
  const usage = config.usage
  return usage === undefined ? undefined : () => usage(req, res)
}

/**
 * Answers a denial, or hands the request on with its balance and the success headers. Calls
 * `next` at most once; a throw before it is passed to `next` after the lease is released.
 */
function handle(admission: Admission, config: Config, req: Request, res: Response, next: NextFunction, onDenied: OnDenied): void {
  if (!admission.allowed) {
    if (!onDenied) return deny(res, admission)
    // A throw, or an async onDenied that rejects, goes to next(err); next runs at most once.
    const pass = once(next)
    try {
      void Promise.resolve(onDenied(admission.error, req, res, pass)).catch(pass)
    } catch (error) {
      pass(error)
    }
    return
  }
  const lease = admission.lease
  try {
    if (!settleOnResponse(config, req, res, lease)) return // the client left while credits were reserved
    req.balance = lease.balance
    setSuccessHeaders(res, admission.headers)
    if (admission.receipt) settleBeforeEnd(config, req, res, lease, admission.receipt)
  } catch (error) {
    lease.release()
    next(error)
    return
  }
  next()
}

/**
 * The headers must be on the response before the route writes it, but they describe a served
 * request: a non-2xx answer (whose credits go back) has them taken off as its head is written.
 */
function setSuccessHeaders(res: Response, headers: Record<string, string>): void {
  const names = Object.keys(headers)
  if (names.length === 0) return
  for (const name of names) res.setHeader(name, headers[name]!) // res.set() would check each for Content-Type
  successHeaders.set(res, names)
  hookWriteHead(res)
}

/** Responses that carry the success headers, and their names. */
const successHeaders = new WeakMap<object, string[]>()
const hookedPrototypes = new WeakSet<object>()

/**
 * A route that answers with an error was not charged, so the success headers come off at
 * writeHead, the moment the status is final and nothing is sent yet. The hook goes on the
 * response's prototype (Express's `app.response`, one per app), once, and acts only on responses
 * in `successHeaders`: a wrapper added to each response would cost an Express server about 6% of
 * a request, because V8 must then change the shape of every response object.
 */
function hookWriteHead(res: Response): void {
  const prototype = Object.getPrototypeOf(res) as { writeHead: Response['writeHead'] }
  if (hookedPrototypes.has(prototype)) return
  hookedPrototypes.add(prototype)
  const writeHead = prototype.writeHead
  prototype.writeHead = function (this: Response, ...args: Parameters<Response['writeHead']>) {
    const names = successHeaders.get(this)
    if (names !== undefined && !isServed(args[0])) for (const name of names) this.removeHeader(name)
    return writeHead.apply(this, args)
  } as Response['writeHead']
}

/**
 * An x402 payer with immediate settlement expects the settle's receipt on the answer
 * (`payment-response`), so a 2xx whose head is not sent yet waits (at most `waitMs`) for the
 * settle before it goes out, as Nevermined's own middleware does. An answer already streaming
 * is settled on 'close' as usual, without a receipt.
 */
function settleBeforeEnd(config: Config, req: Request, res: Response, lease: Lease, wait: ReceiptWait): void {
  const end = res.end
  res.end = function (this: Response, ...args: unknown[]) {
    res.end = end
    if (res.headersSent || res.destroyed || !isServed(res.statusCode)) return (end as (...a: unknown[]) => Response).apply(this, args)
    void commitForReceipt(lease, wait, usageOf(config, req, res)).header.then((value) => {
      if (value && !res.headersSent) res.setHeader(X402_HEADERS.paymentResponse, value)
      ;(end as (...a: unknown[]) => Response).apply(res, args)
    })
    return res
  } as Response['end']
}

function deny(res: Response, denial: Extract<Admission, { allowed: false }>): void {
  // json() keeps the Content-Type already set: application/problem+json.
  res.status(denial.status).set(denial.headers).json(denial.body)
}

/**
 * Charge or release on the final status: a 2xx sent whole is charged (what it used, when priced by
 * usage), one cut off mid-answer is charged what it reported, anything else is released. Lease
 * methods are idempotent. Returns false (after releasing) when the connection is already gone.
 */
function settleOnResponse(config: Config, req: Request, res: Response, lease: Lease): boolean {
  if (res.destroyed || res.writableFinished) {
    lease.release()
    return false
  }
  // 'close' comes last on every response: just after 'finish' when it was sent whole (the socket
  // detached, so writableFinished holds), alone when the client went away first. One listener,
  // not 'finish' and 'close' each: every listener costs Express a little on each request.
  res.on('close', () => {
    if (!res.writableFinished) abortBalance(lease.balance)
    void endLease(lease, !isServed(res.statusCode) ? 'failed' : res.writableFinished ? 'served' : res.headersSent ? 'cut' : 'failed', usageOf(config, req, res))
  })
  return true
}
