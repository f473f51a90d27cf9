import type { ZodType } from 'zod'
import { readBalance, readDelegation, readPermission, readSettle, readVerify } from './answers'
import {
  CredentialInvalidError,
  PaymentRequiredError,
  PlanGateError,
  PlanNotFoundError,
  UpstreamUnavailableError,
} from './errors'
import {
  balanceSchema,
  orderResponseSchema,
  redeemResponseSchema,
  type NeverminedBalance,
  type OrderResponse,
  type RedeemResponse,
} from './schemas'
import type { PaymentRequired } from './x402/payment-required'
import {
  delegationAnswerSchema,
  permissionAnswerSchema,
  planAnswerSchema,
  settleAnswerSchema,
  verifyAnswerSchema,
  type PlanAnswer,
  type SettleAnswer,
  type VerifyAnswer,
} from './x402/schemas'

/**
 * What the client reads of an answer. A `Response` has all of it; so does the lighter answer of
 * `createNodeFetch()` (`@plangate/node`), which skips building a `Response` per call.
 */
export interface FetchResponse {
  readonly ok: boolean
  readonly status: number
  readonly headers: { get(name: string): string | null }
  /** `null` once the body has been read in full (nothing left to cancel). */
  readonly body: { cancel(reason?: unknown): Promise<void> } | null
  json(): Promise<unknown>
}

/**
 * How the client reaches the API: `globalThis.fetch` by default. It is always called with an
 * absolute URL and an init of `method`, `headers` (a plain object), `body` (a string or
 * undefined) and `signal`, so `fetch`, a `fetch` handler (the local ledger's, a service
 * binding's) or `createNodeFetch()` all fit.
 */
export type FetchLike = (url: string, init: RequestInit) => Promise<FetchResponse>

export interface NeverminedClientOptions {
  /** e.g. `https://api.sandbox.nevermined.app/api/v1` (no trailing slash needed). */
  baseUrl: string
  fetch?: FetchLike
  /** Per call, covering the response body too. */
  timeoutMs: number
}

export interface RedeemRequest {
  planId: string
  holderAddress: string
  amount: number
  /** Stable per lease or batch, so a retry is recognisably the same redemption. */
  proof: string
}

/** The body of `POST /x402/verify` and `POST /x402/settle` (field names as the SDK sends them). */
export interface FacilitatorRequest {
  paymentRequired: PaymentRequired
  x402AccessToken: string
  /** Credits, as a decimal string. */
  maxAmount: string
  agentRequestId?: string
}

/** The body of `POST /delegation/create`. */
export interface DelegationRequest {
  provider: 'erc4337'
  spendingLimitCents: number
  durationSecs: number
  currency: 'usdc'
  planId: string
}

/** The body of `POST /x402/permissions`. */
export interface PermissionRequest {
  accepted: { scheme: string; network: string; planId: string; extra: { agentId?: string } }
  delegationConfig: { delegationId: string }
}

export type Call = 'order' | 'balance' | 'redeem' | 'plan' | 'verify' | 'settle' | 'delegation' | 'permission'

/**
 * The Nevermined calls plangate makes: the published order, balance and redeem, the plan's
 * metadata, and x402's delegation, permission, verify and settle (each is listed in
 * docs/LOCAL-LEDGER.md, 'What it answers'), with zod-checked answers, a time-out per call, and
 * failures mapped to the coded errors the adapters answer with.
 *
 * @example
 * const client = new NeverminedClient({ baseUrl: ENVIRONMENTS.sandbox, timeoutMs: 5000 })
 * const balance = await client.balance('7', '0xabc…', subscriberKey)
 */
export class NeverminedClient {
  readonly baseUrl: string
  readonly timeoutMs: number
  readonly #fetch: FetchLike

  constructor(options: NeverminedClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '')
    this.timeoutMs = options.timeoutMs
    const custom = options.fetch
    // Looked up per call so a test or polyfill that replaces globalThis.fetch later is honoured.
    this.#fetch = custom ?? ((input, init) => globalThis.fetch(input, init))
  }

  /** `POST /protocol/plans/{planId}/order` with the subscriber's key. */
  order(planId: string, subscriberKey: string): Promise<OrderResponse> {
    return this.#call('order', 'POST', `/protocol/plans/${planId}/order`, subscriberKey, undefined, orderResponseSchema)
  }

  /** `GET /protocol/plans/{planId}/balance/{holderAddress}` with the subscriber's key. */
  balance(planId: string, holderAddress: string, subscriberKey: string): Promise<NeverminedBalance> {
    return this.#call(
      'balance',
      'GET',
      `/protocol/plans/${planId}/balance/${holderAddress}`,
      subscriberKey,
      undefined,
      balanceSchema,
      readBalance,
    )
  }

  /** `POST /protocol/plans/redeem` with the agent's (plan owner's) key. */
  redeem(request: RedeemRequest, agentKey: string): Promise<RedeemResponse> {
    return this.#call('redeem', 'POST', '/protocol/plans/redeem', agentKey, request, redeemResponseSchema)
  }

  /** `GET /protocol/plans/{planId}`: how the plan is paid for (crypto or card). */
  plan(planId: string, apiKey: string): Promise<PlanAnswer> {
    return this.#call('plan', 'GET', `/protocol/plans/${planId}`, apiKey, undefined, planAnswerSchema)
  }

  /** `POST /x402/verify` with the agent's key: may this token spend `maxAmount` credits? */
  verify(request: FacilitatorRequest, agentKey: string): Promise<VerifyAnswer> {
    return this.#call('verify', 'POST', '/x402/verify', agentKey, request, verifyAnswerSchema, readVerify)
  }

  /** `POST /x402/settle` with the agent's key: burn `maxAmount` credits (ordering first if short). */
  settle(request: FacilitatorRequest, agentKey: string): Promise<SettleAnswer> {
    return this.#call('settle', 'POST', '/x402/settle', agentKey, request, settleAnswerSchema, readSettle)
  }

  /** `POST /delegation/create` with the subscriber's key. */
  createDelegation(request: DelegationRequest, subscriberKey: string): Promise<{ delegationId: string }> {
    return this.#call('delegation', 'POST', '/delegation/create', subscriberKey, request, delegationAnswerSchema, readDelegation)
  }

  /** `POST /x402/permissions` with the subscriber's key: an x402 access token for the plan. */
  createPermission(request: PermissionRequest, subscriberKey: string): Promise<{ accessToken: string; expiresAt: number | undefined }> {
    return this.#call('permission', 'POST', '/x402/permissions', subscriberKey, request, permissionAnswerSchema, readPermission)
  }

  /**
   * `read`, where given, is the hand-checked reader of the answer (./answers.ts): what it returns
   * is what `schema` would, and when it returns nothing `schema` decides.
   */
  async #call<T>(call: Call, method: string, path: string, apiKey: string, body: unknown, schema: ZodType<T>, read?: (json: unknown) => T | undefined): Promise<T> {
    const headers: Record<string, string> = {
      Accept: 'application/json',
      'Nevermined-Version': '1.1',
      Authorization: `Bearer ${apiKey}`,
    }
    if (body !== undefined) headers['Content-Type'] = 'application/json'

    // One timer per call covers the response and its body. It aborts the fetch (freeing the
    // connection) and also rejects `deadline`, which every wait races against: a custom fetch (an
    // in-process handler, a service binding) may ignore the signal.
    const controller = new AbortController()
    let timer: ReturnType<typeof setTimeout> | undefined
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort()
        reject(new UpstreamUnavailableError(`Nevermined ${call} timed out after ${this.timeoutMs} ms.`))
      }, this.timeoutMs)
    })
    try {
      let response: FetchResponse
      try {
        const request = this.#fetch(this.baseUrl + path, {
          method,
          headers,
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: controller.signal,
        })
        response = await Promise.race([request, deadline])
      } catch (cause) {
        throw this.#unreachable(call, controller.signal.aborted, cause)
      }
      if (!response.ok) {
        // Drain so the connection can be reused; the body of an error is not trusted for anything.
        await response.body?.cancel().catch(() => {})
        throw statusError(call, response)
      }
      let json: unknown
      try {
        json = await Promise.race([response.json(), deadline])
      } catch (cause) {
        if (controller.signal.aborted) {
          response.body?.cancel().catch(() => {})
          throw this.#unreachable(call, true, cause)
        }
        throw new UpstreamUnavailableError(`Nevermined ${call} answered ${response.status} with a body that is not JSON.`)
      }
      const fast = read?.(json)
      if (fast !== undefined) return fast
      const parsed = schema.safeParse(json)
      if (!parsed.success) {
        const issue = parsed.error.issues[0]
        const where = issue && issue.path.length > 0 ? ` at "${issue.path.join('.')}"` : ''
        throw new UpstreamUnavailableError(
          `Nevermined ${call} answered with a body that breaks the contract${where}: ${issue?.message ?? 'invalid'}.`,
        )
      }
      return parsed.data
    } finally {
      clearTimeout(timer)
      // Nobody may be racing it any more; a rejection after this point must not go unhandled.
      deadline.catch(() => {})
    }
  }

  #unreachable(call: Call, timedOut: boolean, cause: unknown): PlanGateError {
    if (cause instanceof PlanGateError) return cause
    return timedOut
      ? new UpstreamUnavailableError(`Nevermined ${call} timed out after ${this.timeoutMs} ms.`)
      : new UpstreamUnavailableError(`Nevermined ${call} could not be reached (network error).`, { cause })
  }
}

const REFUSED: Partial<Record<Call, string>> = {
  redeem: "Nevermined refused the agent's API key (STATUS) when redeeming credits.",
  verify: "Nevermined refused the agent's API key or the x402 token (STATUS) when verifying it.",
  settle: "Nevermined refused the agent's API key or the x402 token (STATUS) when settling credits.",
}
const UNPAID: Partial<Record<Call, string>> = {
  order: 'The plan could not be ordered: the payment failed (is the wallet funded?).',
  redeem: 'Nevermined says the holder has too few credits to redeem.',
  verify: 'Nevermined says the x402 token cannot pay for this request.',
  settle: "Nevermined could not settle: the holder's credits and delegation cannot cover it (exhausted or expired).",
  delegation: 'Nevermined refused to create a delegation for the holder (402).',
  permission: 'Nevermined refused to issue an x402 token for the holder (402).',
}

function statusError(call: Call, response: FetchResponse): PlanGateError {
  const status = response.status
  if (status === 401 || status === 403) {
    return new CredentialInvalidError((REFUSED[call] ?? 'Nevermined refused the API key (STATUS).').replace('STATUS', String(status)))
  }
  if (status === 402) return new PaymentRequiredError(UNPAID[call] ?? `Nevermined answered 402 on ${call}.`)
  if (status === 404) return new PlanNotFoundError(`Nevermined says the plan does not exist (404 on ${call}).`)
  const retryAfter = Number(response.headers.get('retry-after'))
  return new UpstreamUnavailableError(`Nevermined ${call} answered ${status}.`, {
    retryAfterSeconds: Number.isInteger(retryAfter) && retryAfter > 0 ? Math.min(retryAfter, 300) : undefined,
    upstreamStatus: status,
  })
}

/** The published base URLs, what `environment: 'sandbox'` and `'live'` name (docs/reference/options.md, `environment`). */
export const ENVIRONMENTS = {
  sandbox: 'https://api.sandbox.nevermined.app/api/v1',
  live: 'https://api.live.nevermined.app/api/v1',
} as const
