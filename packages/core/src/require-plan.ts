import { CostInvalidError, CredentialMissingError, PlanGateError } from './errors'
import type { PlanGate } from './gate'
import type { Lease } from './lease'
import { normalizePlanId } from './plan-id'
import { toProblem, type Denial } from './problem'

type MaybePromise<T> = T | Promise<T>

/** The options `requirePlan` takes in every adapter (each adds its own on top). */
export interface RequirePlanOptions<Req> {
  /** Default: a gate shared by the process, from `NVM_API_KEY` and `NVM_ENVIRONMENT`. */
  gate?: PlanGate
  /** Credits per request: a non-negative integer, or a function of the request. Default 1. */
  cost?: number | ((req: Req) => MaybePromise<number>)
  /** The subscriber's key. Default: the `Authorization: Bearer` token. */
  credential?: (req: Req) => MaybePromise<string | null | undefined>
  /** Send `X-Credits-Remaining` and `X-Plan-Id` on success. Default true. */
  headers?: boolean
}

/** What an adapter keeps after checking the options once, at creation. */
export interface RequirePlanConfig<Req> {
  planId: string
  cost: number | ((req: Req) => MaybePromise<number>)
  credential: (req: Req) => MaybePromise<string | null | undefined>
  headers: boolean
}

export type Admission =
  | { allowed: true; lease: Lease; headers: Record<string, string> }
  | ({ allowed: false; error: unknown } & Denial)

const COMMON_OPTIONS = ['gate', 'cost', 'credential', 'headers']

/**
 * Validates `requirePlan(planId, options)` for an adapter: a bad plan id or option throws a
 * `TypeError` naming it, when the middleware is created rather than on the first request.
 */
export function resolveRequirePlan<Req>(
  planId: unknown,
  options: unknown,
  defaults: { credential: (req: Req) => string | undefined; extraOptions?: string[] },
): RequirePlanConfig<Req> {
  const plan = normalizePlanId(planId)
  if (options === undefined || options === null) options = {}
  if (typeof options !== 'object' || options === null) throw new TypeError('plangate: requirePlan options must be an object.')
  const known = [...COMMON_OPTIONS, ...(defaults.extraOptions ?? [])]
  for (const name of Object.keys(options)) {
    if (!known.includes(name)) throw new TypeError(`plangate: unknown requirePlan option "${name}"; the options are ${known.join(', ')}.`)
  }
  const o = options as RequirePlanOptions<Req>
  if (o.gate !== undefined && (typeof o.gate !== 'object' || o.gate === null || typeof o.gate.reserve !== 'function')) {
    throw new TypeError('plangate: option "gate" must be a gate from createPlanGate().')
  }
  const cost = o.cost === undefined ? 1 : o.cost
  if (typeof cost !== 'function' && !(typeof cost === 'number' && Number.isSafeInteger(cost) && cost >= 0)) {
    throw new TypeError(`plangate: option "cost" must be a non-negative integer or a function of the request, got ${String(cost)}.`)
  }
  if (o.credential !== undefined && typeof o.credential !== 'function') {
    throw new TypeError('plangate: option "credential" must be a function of the request returning the API key.')
  }
  if (o.headers !== undefined && typeof o.headers !== 'boolean') {
    throw new TypeError('plangate: option "headers" must be true or false.')
  }
  return { planId: plan, cost, credential: o.credential ?? defaults.credential, headers: o.headers ?? true }
}

/**
 * Everything `requirePlan` does before the route runs, framework-free: find the key and the cost,
 * reserve the credits, and say either what to send (a denial) or what to add (headers, a lease).
 * Never throws or rejects. Answers at once (no promise) on a warm request with the default
 * credential and a fixed cost, so an adapter awaits only when it gets a promise.
 */
export function admit<Req>(config: RequirePlanConfig<Req>, gate: PlanGate | (() => PlanGate), req: Req): Admission | Promise<Admission> {
  try {
    const apiKey = config.credential(req)
    if (isPromiseLike(apiKey) || typeof config.cost !== 'number') return admitLater(config, gate, req, apiKey)
    const lease = reserve(gate, config.planId, apiKey, config.cost)
    return lease instanceof Promise ? lease.then((l) => allowed(config, l), (error: unknown) => denied(config, error)) : allowed(config, lease)
  } catch (error) {
    return denied(config, error)
  }
}

/** The same, for a credential or cost that is a function (which may answer with a promise). */
async function admitLater<Req>(
  config: RequirePlanConfig<Req>,
  gate: PlanGate | (() => PlanGate),
  req: Req,
  credential: MaybePromise<string | null | undefined>,
): Promise<Admission> {
  try {
    const apiKey = await credential
    // A missing key is reported before the cost function runs (and it is not called at all).
    if (apiKey === undefined || apiKey === null || apiKey === '') throw new CredentialMissingError()
    const cost = await costOf(config, req)
    return allowed(config, await reserve(gate, config.planId, apiKey, cost))
  } catch (error) {
    return denied(config, error)
  }
}

function reserve(gateOrFactory: PlanGate | (() => PlanGate), planId: string, apiKey: string | null | undefined, cost: number): Lease | Promise<Lease> {
  // Before the gate is built: a request without a key is a 401 even where the gate cannot be.
  if (apiKey === undefined || apiKey === null || apiKey === '') throw new CredentialMissingError()
  const gate = typeof gateOrFactory === 'function' ? gateOrFactory() : gateOrFactory
  return gate.reserveNow ? gate.reserveNow(planId, apiKey, cost) : gate.reserve(planId, apiKey, cost)
}

function allowed<Req>(config: RequirePlanConfig<Req>, lease: Lease): Admission {
  const headers: Record<string, string> = config.headers
    ? { 'X-Credits-Remaining': String(lease.balance.remaining), 'X-Plan-Id': config.planId }
    : {}
  return { allowed: true, lease, headers }
}

function denied<Req>(config: RequirePlanConfig<Req>, error: unknown): Admission {
  return { allowed: false, error, ...toProblem(error, config.planId) }
}

function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as PromiseLike<T> | null)?.then === 'function'
}

async function costOf<Req>(config: RequirePlanConfig<Req>, req: Req): Promise<number> {
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
