import { CostInvalidError, CredentialMissingError, PaymentRequiredError, PlanGateError } from './errors'
import type { PlanGate } from './gate/plan-gate'
import type { Credential, Lease } from './lease'
import { normalizePlanId } from './plan-id'
import { toProblem, type Denial } from './problem'
import { chargeNow, type UsageOf } from './charge'
import { meter } from './request-balance'
import { encodeX402Header, type PaidResource } from './x402/payment-required'

type MaybePromise<T> = T | Promise<T>

/** A cost fixed before the route runs: a non-negative integer, or a function of the request. */
export type FixedCost<Req> = number | ((req: Req) => MaybePromise<number>)

/**
 * A cost that depends on what the work used: `max` is reserved before the route runs (and is
 * what an x402 payer's verify covers), and the request is charged what it used, at most `max`.
 * What it used is `usage(...)` if given (asked once the route has answered, with the framework's
 * own objects), else the sum of the route's `balance.use(n)` calls, else `max`.
 *
 * @example
 * requirePlan(7, { cost: { max: 50, usage: (req, res) => res.locals.tokens } })
 */
export interface UsageCost<Req, Done extends unknown[] = [Req]> {
  max: FixedCost<Req>
  usage?: (...done: Done) => MaybePromise<number>
}

/** The options `requirePlan` takes in every adapter (each adds its own on top). */
export interface RequirePlanOptions<Req, Done extends unknown[] = [Req]> {
  /** Default: a gate shared by the process, from `NVM_API_KEY` and `NVM_ENVIRONMENT`. */
  gate?: PlanGate
  /**
   * Credits per request: a non-negative integer, or a function of the request; or `{ max, usage }`
   * to charge what the work used (see `UsageCost`). Default 1. A route may also report what it
   * used with `balance.use(n)`: the charge is then that sum, at most the cost.
   */
  cost?: FixedCost<Req> | UsageCost<Req, Done>
  /**
   * What the request pays with: an API key (a string) or `{ x402Token }`. Default: the
   * `payment-signature` header's x402 token if there is one, else the `Authorization: Bearer` key.
   */
  credential?: (req: Req) => MaybePromise<Credential | null | undefined>
  /** Send `X-Credits-Remaining` and `X-Plan-Id` on success. Default true. */
  headers?: boolean
}

/** What an adapter keeps after checking the options once, at creation. */
export interface RequirePlanConfig<Req, Done extends unknown[] = [Req]> {
  planId: string
  /** What is reserved: the fixed cost, or a usage cost's `max`. */
  cost: FixedCost<Req>
  /** Priced by usage (`cost: { max, usage? }`): the route's `balance.use()` counts. */
  metered: boolean
  /** A usage cost's `usage`, for the adapter to bind to its objects once the route answered. */
  usage: ((...done: Done) => MaybePromise<number>) | undefined
  credential: (req: Req) => MaybePromise<Credential | null | undefined>
  /** The request being paid for, as x402 names it (path and query, method). */
  resource: (req: Req) => PaidResource
  headers: boolean
}

export type Admission =
  | {
      allowed: true
      lease: Lease
      headers: Record<string, string>
      /**
       * The adapter commits a 2xx answer with `commitForReceipt` before it goes out, and waits
       * (at most `waitMs`): when the request paid with an x402 token and the gate burns at once,
       * for the settle, whose receipt goes out as `payment-response` as x402 clients expect; when
       * the gate's store keeps an outbox (`gate.recordsServed`), for the commit to be in the
       * store, so a process killed just after answering has not served credits nobody settles.
       */
      receipt: false | ReceiptWait
    }
  | ({ allowed: false; error: unknown } & Denial)

/** What a 2xx answer waits for before it goes out (see `Admission`'s `receipt`). */
export interface ReceiptWait {
  /** The longest it waits: then it goes out all the same, and the commit carries on. */
  waitMs: number
  /** `settle`: the settle's receipt, for `payment-response`; `store`: the commit's record in the store. */
  until: 'settle' | 'store'
}

/** The x402 response headers, by their names on the wire. */
export const X402_HEADERS = { paymentSignature: 'payment-signature', paymentRequired: 'payment-required', paymentResponse: 'payment-response' } as const

/**
 * The default credential from a request's two headers: an x402 token in `payment-signature`
 * wins (an API may use `Authorization` for its own purposes), else the `Authorization: Bearer` key.
 */
export function credentialFrom(authorization: string | null | undefined, paymentSignature: string | null | undefined): Credential | undefined {
  if (paymentSignature) return { x402Token: paymentSignature.trim() }
  return bearerToken(authorization)
}

/** The `payment-response` header value for a settle's receipt. */
export function paymentResponseHeader(receipt: unknown): string {
  return encodeX402Header(receipt)
}

/**
 * For an admission with `receipt`: commits the lease now, before the answer goes out, and gives
 * the `payment-response` header value once the settle answers (undefined if it does not within
 * `waitMs`: the answer then goes out without it, and the settle carries on). When the settle is
 * batched (a shared store's outbox), `header` resolves undefined as soon as the commit is in the
 * store instead. `settled` is the commit itself, for `waitUntil` on Workers.
 *
 * @example
 * const { settled, header } = commitForReceipt(lease, admission.receipt)
 * const value = await header; if (value) res.setHeader(X402_HEADERS.paymentResponse, value)
 */
export function commitForReceipt(lease: Lease, wait: ReceiptWait, usage?: UsageOf): { settled: Promise<unknown>; header: Promise<string | undefined> } {
  const credits = chargeNow(lease, usage)
  const settled = credits instanceof Promise ? credits.then((n) => commitCredits(lease, n)) : commitCredits(lease, credits)
  const answered = wait.until === 'settle' ? settled : Promise.resolve(credits).then(() => lease.stored?.()).then(() => undefined)
  let timer: ReturnType<typeof setTimeout> | undefined
  const late = new Promise<undefined>((resolve) => (timer = setTimeout(resolve, wait.waitMs, undefined)))
  const header = Promise.race([answered, late])
    .then((receipt) => (receipt ? paymentResponseHeader(receipt) : undefined))
    .finally(() => clearTimeout(timer))
  return { settled, header }
}

/** Commits what the charge says; nothing to commit (0, or taken already) releases. */
function commitCredits(lease: Lease, credits: number | undefined): Promise<unknown> {
  return credits === undefined ? lease.release() : lease.commit(credits)
}

const COMMON_OPTIONS = ['gate', 'cost', 'credential', 'headers']

/**
 * Validates `requirePlan(planId, options)` for an adapter: a bad plan id or option throws a
 * `TypeError` naming it, when the middleware is created rather than on the first request.
 */
export function resolveRequirePlan<Req, Done extends unknown[] = [Req]>(
  planId: unknown,
  options: unknown,
  defaults: { credential: (req: Req) => Credential | undefined; resource?: (req: Req) => PaidResource; extraOptions?: string[] },
): RequirePlanConfig<Req, Done> {
  const plan = normalizePlanId(planId)
  if (options === undefined || options === null) options = {}
  if (typeof options !== 'object' || options === null) throw new TypeError('plangate: requirePlan options must be an object.')
  const known = [...COMMON_OPTIONS, ...(defaults.extraOptions ?? [])]
  for (const name of Object.keys(options)) {
    if (!known.includes(name)) throw new TypeError(`plangate: unknown requirePlan option "${name}"; the options are ${known.join(', ')}.`)
  }
  const o = options as RequirePlanOptions<Req, Done>
  if (o.gate !== undefined && (typeof o.gate !== 'object' || o.gate === null || typeof o.gate.reserve !== 'function')) {
    throw new TypeError('plangate: option "gate" must be a gate from createPlanGate().')
  }
  const { cost, usage, metered } = costOption<Req, Done>(o.cost)
  if (o.credential !== undefined && typeof o.credential !== 'function') {
    throw new TypeError('plangate: option "credential" must be a function of the request returning the API key.')
  }
  if (o.headers !== undefined && typeof o.headers !== 'boolean') {
    throw new TypeError('plangate: option "headers" must be true or false.')
  }
  return { planId: plan, cost, usage, metered, credential: o.credential ?? defaults.credential, resource: defaults.resource ?? noResource, headers: o.headers ?? true }
}

function costOption<Req, Done extends unknown[]>(option: RequirePlanOptions<Req, Done>['cost']): Pick<RequirePlanConfig<Req, Done>, 'cost' | 'usage' | 'metered'> {
  if (option === undefined) return { cost: 1, usage: undefined, metered: false }
  if (typeof option === 'object' && option !== null) {
    for (const name of Object.keys(option)) {
      if (name !== 'max' && name !== 'usage') throw new TypeError(`plangate: unknown key "${name}" in option "cost"; a usage cost is { max, usage }.`)
    }
    if (option.max === undefined) throw new TypeError('plangate: option "cost" as an object needs "max": the most a request may be charged, reserved before the route runs.')
    if (!isFixedCost(option.max)) {
      throw new TypeError(`plangate: option "cost.max" must be a non-negative integer or a function of the request, got ${String(option.max)}.`)
    }
    if (option.usage !== undefined && typeof option.usage !== 'function') {
      throw new TypeError('plangate: option "cost.usage" must be a function returning the credits the request used, once the route has answered.')
    }
    return { cost: option.max, usage: option.usage, metered: true }
  }
  if (!isFixedCost(option)) {
    throw new TypeError(`plangate: option "cost" must be a non-negative integer, a function of the request, or { max, usage }, got ${String(option)}.`)
  }
  return { cost: option, usage: undefined, metered: false }
}

function isFixedCost(cost: unknown): cost is FixedCost<never> {
  return typeof cost === 'function' || (typeof cost === 'number' && Number.isSafeInteger(cost) && cost >= 0)
}

/**
 * Everything `requirePlan` does before the route runs, framework-free: find the key and the cost,
 * reserve the credits, and say either what to send (a denial) or what to add (headers, a lease).
 * Never throws or rejects. Answers at once (no promise) on a warm request with the default
 * credential and a fixed cost, so an adapter awaits only when it gets a promise.
 */
export function admit<Req>(config: RequirePlanConfig<Req, never[]>, gate: PlanGate | (() => PlanGate), req: Req): Admission | Promise<Admission> {
  let resource: PaidResource | undefined
  try {
    const credential = config.credential(req)
    if (isPromiseLike(credential) || typeof config.cost !== 'number') return admitLater(config, gate, req, credential)
    resource = safeResource(config, req)
    const lease = reserve(gate, config.planId, credential, config.cost, resource)
    return lease instanceof Promise
      ? lease.then(
          (l) => allowed(config, gateOf(gate), l),
          (error: unknown) => denied(config, gate, error, resource!),
        )
      : allowed(config, gateOf(gate), lease)
  } catch (error) {
    return denied(config, gate, error, resource ?? safeResource(config, req))
  }
}

/** The same, for a credential or cost that is a function (which may answer with a promise). */
async function admitLater<Req>(
  config: RequirePlanConfig<Req, never[]>,
  gate: PlanGate | (() => PlanGate),
  req: Req,
  pending: MaybePromise<Credential | null | undefined>,
): Promise<Admission> {
  const resource = safeResource(config, req)
  try {
    const credential = await pending
    // A missing key is reported before the cost function runs (and it is not called at all).
    if (isMissing(credential)) throw new CredentialMissingError()
    const cost = await costOf(config, req)
    return allowed(config, gateOf(gate), await reserve(gate, config.planId, credential, cost, resource))
  } catch (error) {
    return denied(config, gate, error, resource)
  }
}

function reserve(
  gateOrFactory: PlanGate | (() => PlanGate),
  planId: string,
  credential: Credential | null | undefined,
  cost: number,
  resource: PaidResource,
): Lease | Promise<Lease> {
  // Before the gate is built: a request without a key is a 401 even where the gate cannot be.
  if (isMissing(credential)) throw new CredentialMissingError()
  const gate = typeof gateOrFactory === 'function' ? gateOrFactory() : gateOrFactory
  return gate.reserveNow ? gate.reserveNow(planId, credential, cost, resource) : gate.reserve(planId, credential, cost, resource)
}

function isMissing(credential: Credential | null | undefined): credential is null | undefined | '' {
  return credential === undefined || credential === null || credential === '' || (typeof credential === 'object' && !credential.x402Token)
}

/** The gate, building it if it is a factory; undefined when it cannot be built. */
function gateOf(gate: PlanGate | (() => PlanGate)): PlanGate | undefined {
  if (typeof gate !== 'function') return gate
  try {
    return gate()
  } catch {
    return undefined
  }
}

function allowed<Req>(config: RequirePlanConfig<Req, never[]>, gate: PlanGate | undefined, lease: Lease): Admission {
  if (config.metered) meter(lease.balance)
  const headers: Record<string, string> = config.headers
    ? { 'X-Credits-Remaining': String(lease.balance.remaining), 'X-Plan-Id': config.planId }
    : {}
  const receipt = lease.paidWith === 'x402' && gate?.settlesImmediately === true ? RECEIPT_WAIT : gate?.recordsServed === true ? RECORD_WAIT : false
  return { allowed: true, lease, headers, receipt }
}

// How long an answer waits for its settle before it goes out without a receipt (the settle
// carries on, and its retries, after the answer).
const RECEIPT_WAIT: ReceiptWait = { waitMs: 5_000, until: 'settle' }
// How long an answer waits for its commit to reach a shared store: past it, it goes out (a slow
// store must not hang answers) and the commit carries on, as it did before it waited at all.
const RECORD_WAIT: ReceiptWait = { waitMs: 5_000, until: 'store' }

/**
 * The problem to send. A 402, and a 401 for a request with no credential at all, also carry
 * `payment-required` (base64 PaymentRequired), so an x402 client learns what to buy.
 */
function denied<Req>(config: RequirePlanConfig<Req, never[]>, gateOrFactory: PlanGate | (() => PlanGate), error: unknown, resource: PaidResource): Admission | Promise<Admission> {
  const denial: Admission = { allowed: false, error, ...toProblem(error, config.planId) }
  const wantsOffer = error instanceof PaymentRequiredError || error instanceof CredentialMissingError
  // Not for a request without any credential, though, if the gate is not built yet: such a
  // request must cost nothing, not even the building of a gate.
  const gate = error instanceof PaymentRequiredError ? gateOf(gateOrFactory) : wantsOffer && typeof gateOrFactory !== 'function' ? gateOrFactory : undefined
  if (!gate?.paymentRequired) return denial
  // A request with no credential at all gets what the gate already knows of the plan: it must
  // not be able to make the gate call upstream.
  return gate.paymentRequired(config.planId, resource, { lookup: error instanceof PaymentRequiredError }).then(
    (offer) => {
      denial.headers[X402_HEADERS.paymentRequired] = encodeX402Header({ ...offer, error: denial.body.detail })
      return denial
    },
    () => denial,
  )
}

const noResource = (): PaidResource => ({ url: '', method: '' })

function safeResource<Req>(config: RequirePlanConfig<Req, never[]>, req: Req): PaidResource {
  try {
    return config.resource(req)
  } catch {
    return { url: '', method: '' }
  }
}

import { bearerToken } from './api-key'

function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as PromiseLike<T> | null)?.then === 'function'
}

async function costOf<Req>(config: RequirePlanConfig<Req, never[]>, req: Req): Promise<number> {
  if (typeof config.cost === 'number') return config.cost
  let cost: unknown
  try {
    cost = await config.cost(req)
  } catch (error) {
    if (error instanceof PlanGateError) throw error
    throw new CostInvalidError('The cost function for this route threw; the request was not charged.', { cause: error })
  }
  if (typeof cost !== 'number' || !Number.isSafeInteger(cost) || cost < 0) {
    throw new CostInvalidError(`The cost function for this route returned ${typeof cost === 'number' ? cost : typeof cost}, not a non-negative integer.`)
  }
  return cost
}

/** 2xx is a served request (commit); anything else gives the credits back (release). */
export function isServed(status: number): boolean {
  return status >= 200 && status < 300
}
