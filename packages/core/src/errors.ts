/**
 * Every refusal the gate can make is one of these classes. Each has a stable `code` (for
 * programs) and the HTTP `status` the adapters answer with. Messages never contain an API key.
 */
export type PlanGateErrorCode =
  | 'CREDENTIAL_MISSING'
  | 'CREDENTIAL_INVALID'
  | 'PAYMENT_REQUIRED'
  | 'PLAN_NOT_FOUND'
  | 'UPSTREAM_UNAVAILABLE'
  | 'STORE_UNAVAILABLE'
  | 'COST_INVALID'
  | 'GATE_MISCONFIGURED'

export abstract class PlanGateError extends Error {
  abstract readonly code: PlanGateErrorCode
  abstract readonly status: number
  /** Extra response headers the adapters send with the denial. */
  readonly headers: Record<string, string> = {}

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = new.target.name
  }
}

/** No key on the request (401, with `WWW-Authenticate: Bearer`). */
export class CredentialMissingError extends PlanGateError {
  readonly code = 'CREDENTIAL_MISSING'
  readonly status = 401
  override readonly headers = { 'WWW-Authenticate': 'Bearer realm="plangate"' }
  constructor(message = 'This API needs a Nevermined API key: send it as "Authorization: Bearer <key>".') {
    super(message)
  }
}

/** The key does not parse, or the Nevermined API refused it (401). */
export class CredentialInvalidError extends PlanGateError {
  readonly code = 'CREDENTIAL_INVALID'
  readonly status = 401
  override readonly headers = { 'WWW-Authenticate': 'Bearer realm="plangate", error="invalid_token"' }
}

/** The caller's credits cannot cover the cost and no order could fix that (402). */
export class PaymentRequiredError extends PlanGateError {
  readonly code = 'PAYMENT_REQUIRED'
  readonly status = 402
}

/** The Nevermined API says the plan does not exist: the server is misconfigured (500). */
export class PlanNotFoundError extends PlanGateError {
  readonly code = 'PLAN_NOT_FOUND'
  readonly status = 500
}

/** Time-out, network error, 5xx, or an answer that breaks the contract (503). */
export class UpstreamUnavailableError extends PlanGateError {
  readonly code = 'UPSTREAM_UNAVAILABLE'
  readonly status = 503
  override readonly headers: Record<string, string>
  /** The HTTP status the API answered with, when it answered one. */
  readonly upstreamStatus: number | undefined
  constructor(message: string, options?: { cause?: unknown; retryAfterSeconds?: number; upstreamStatus?: number }) {
    super(message, options)
    this.headers = { 'Retry-After': String(options?.retryAfterSeconds ?? 2) }
    this.upstreamStatus = options?.upstreamStatus
  }
}

/**
 * The shared balance store (Redis, say) is down, refusing, answering errors or too slow (503). The
 * request was not served: nothing is handed out without a reservation the store has recorded.
 */
export class StoreUnavailableError extends PlanGateError {
  readonly code = 'STORE_UNAVAILABLE'
  readonly status = 503
  override readonly headers: Record<string, string>
  constructor(
    message = 'The balance store is unavailable; the request was not charged. Try again shortly.',
    options?: { cause?: unknown; retryAfterSeconds?: number },
  ) {
    super(message, options)
    this.headers = { 'Retry-After': String(options?.retryAfterSeconds ?? 1) }
  }
}

/** The route's `cost` function threw or returned something that is not a non-negative integer (500). */
export class CostInvalidError extends PlanGateError {
  readonly code = 'COST_INVALID'
  readonly status = 500
}

/** The middleware has no gate it can use, e.g. `NVM_API_KEY` is not set (500). */
export class GateMisconfiguredError extends PlanGateError {
  readonly code = 'GATE_MISCONFIGURED'
  readonly status = 500
}

export function isPlanGateError(value: unknown): value is PlanGateError {
  return value instanceof PlanGateError
}
