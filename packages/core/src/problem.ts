import { PlanGateError } from './errors'

/** An RFC 9457 problem document, as every denial is answered. */
export interface ProblemDetails {
  type: string
  title: string
  status: number
  detail: string
  code: string
  planId: string
}

/** A denial ready to send: the adapters copy it onto their framework's response. */
export interface Denial {
  status: number
  headers: Record<string, string>
  body: ProblemDetails
}

const TITLES: Record<string, string> = {
  CREDENTIAL_MISSING: 'API key required',
  CREDENTIAL_INVALID: 'API key not accepted',
  PAYMENT_REQUIRED: 'Payment required',
  PLAN_NOT_FOUND: 'Payment plan not found',
  UPSTREAM_UNAVAILABLE: 'Payments service unavailable',
  STORE_UNAVAILABLE: 'Balance store unavailable',
  COST_INVALID: 'Request cost could not be determined',
  GATE_MISCONFIGURED: 'Payment gate not configured',
  INTERNAL_ERROR: 'Internal error',
}

/**
 * The problem+json answer for an error. Anything that is not a `PlanGateError` is a bug on our
 * side and is answered as a generic 500 whose detail reveals nothing.
 *
 * @example
 * const { status, headers, body } = toProblem(err, '7')
 * res.status(status).set(headers).json(body)
 */
export function toProblem(error: unknown, planId: string): Denial {
  const known = error instanceof PlanGateError
  const code = known ? error.code : 'INTERNAL_ERROR'
  const status = known ? error.status : 500
  return {
    status,
    headers: { 'Content-Type': 'application/problem+json', 'Cache-Control': 'no-store', ...(known ? error.headers : {}) },
    body: {
      type: `urn:plangate:problem:${code.toLowerCase().replace(/_/g, '-')}`,
      title: TITLES[code] ?? 'Request denied',
      status,
      detail: known ? error.message : 'The payment gate failed unexpectedly; the request was not charged.',
      code,
      planId,
    },
  }
}
