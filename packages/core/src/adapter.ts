/**
 * `@plangate/core/adapter`: what an adapter package is made of. A framework adapter only
 * translates: it reads the credential, asks `admit`, hands the route its balance, and ends the
 * lease when the answer is done (`isServed`, `endLease`). Every decision is here, so Express,
 * Hono, Koa, Fastify, MCP and the proxy decide alike; packages/koa/src/require-plan.ts is the
 * shortest whole example.
 *
 * @example
 * ```ts
 * import { admit, credentialFrom, resolveRequirePlan, sharedGate, X402_HEADERS } from '@plangate/core/adapter'
 * const config = resolveRequirePlan<Request>(planId, options, {
 *   credential: (req) => credentialFrom(req.headers.get('authorization'), req.headers.get(X402_HEADERS.paymentSignature)),
 *   resource: (req) => ({ url: req.url, method: req.method }),
 * })
 * const admission = await admit(config, options?.gate ?? sharedGate(), request)
 * if (!admission.allowed) return Response.json(admission.body, { status: admission.status, headers: admission.headers })
 * // else serve, then `endLease(admission.lease, …)` once the answer is done
 * ```
 * The user API (`createPlanGate`, the errors, the types a route sees) is `@plangate/core`'s root;
 * what every adapter re-exports of it is `@plangate/core/reexport`.
 */
export { bearerToken, parseApiKey, type ParsedApiKey } from './api-key'
export { sharedGate } from './default-gate'
export { headerValue } from './header-value'
export { abortBalance, RequestBalance } from './request-balance'
export { chargeNow, endLease, type Ending, type UsageOf } from './charge'
export { normalizePlanId } from './plan-id'
export { toProblem, type Denial } from './problem'
export {
  admit,
  commitForReceipt,
  credentialFrom,
  isServed,
  paymentResponseHeader,
  resolveRequirePlan,
  X402_HEADERS,
  type Admission,
  type ReceiptWait,
  type RequirePlanConfig,
  type RequirePlanOptions,
} from './require-plan'
export { encodeX402Header, paymentRequired, type PaidResource } from './x402/payment-required'
