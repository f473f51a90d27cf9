import type { Accepted } from './facilitator'
import type { LedgerState } from './handlers'
import { errorResponse, jsonObject, jsonResponse } from './http'
import { canonicalPlanId } from './plan-id'

// Bodies here are a PaymentRequired and a token of a few KiB; anything this big is not one.
const MAX_BODY_CHARS = 64 * 1024
const USDC_DECIMALS = 6

/** `GET /protocol/plans/{planId}`: the fields the SDK reads (price kind, fiat provider), and a few more. */
export function planInfo(state: LedgerState, planId: string | undefined): Response {
  const plan = planId === undefined ? undefined : state.plans.get(planId)
  if (plan === undefined) return errorResponse(404, 'Plan not found.')
  return jsonResponse(200, {
    id: plan.id,
    registry: {
      owner: plan.owner,
      price: { isCrypto: !plan.fiat, amounts: [String(Math.round(plan.price * 10 ** USDC_DECIMALS))], receivers: [plan.owner] },
      credits: { amount: String(plan.credits), durationSecs: plan.durationMs === null ? '0' : String(plan.durationMs / 1000) },
    },
    metadata: { plan: plan.fiat ? { fiatPaymentProvider: 'stripe' } : {} },
  })
}

/** `POST /delegation/create` with the holder's key. */
export async function createDelegation(state: LedgerState, request: Request, caller: string): Promise<Response> {
  const body = await jsonBody(request)
  if (typeof body === 'string') return errorResponse(400, body)
  const { provider, spendingLimitCents, durationSecs, currency, planId } = body
  if (provider !== 'erc4337') {
    return errorResponse(400, 'provider must be erc4337: the local ledger has no card payment methods.', {}, 'BCK.DELEGATION.PROVIDER')
  }
  if (!isCount(spendingLimitCents)) return errorResponse(400, 'spendingLimitCents must be a positive integer.')
  if (!isCount(durationSecs)) return errorResponse(400, 'durationSecs must be a positive integer.')
  if (typeof currency !== 'string' || currency.length === 0) return errorResponse(400, 'currency is required (e.g. usdc).')
  let plan: string | undefined
  if (planId !== undefined) {
    plan = stringPlanId(planId)
    if (plan === undefined || state.plans.get(plan) === undefined) return errorResponse(404, 'Plan not found.')
  }
  const delegation = state.facilitator.createDelegation(caller, { spendingLimitCents, durationSecs, planId: plan })
  return jsonResponse(200, { delegationId: delegation.id, status: 'Active', expiresAt: new Date(delegation.expiresAt).toISOString() })
}

/** `POST /x402/permissions` with the holder's key: an access token for a plan, backed by a delegation. */
export async function createPermission(state: LedgerState, request: Request, caller: string): Promise<Response> {
  const body = await jsonBody(request)
  if (typeof body === 'string') return errorResponse(400, body)
  const accepted = body.accepted as Record<string, unknown> | undefined
  const delegationConfig = body.delegationConfig as Record<string, unknown> | undefined
  if (typeof accepted !== 'object' || accepted === null) return errorResponse(400, 'accepted is required: {scheme, network, planId, extra}.')
  const planId = stringPlanId(accepted.planId)
  if (planId === undefined) return errorResponse(400, 'accepted.planId must be a decimal string.')
  const plan = state.plans.get(planId)
  if (plan === undefined) return errorResponse(404, 'Plan not found.')
  const scheme = plan.fiat ? 'nvm:card-delegation' : 'nvm:erc4337'
  if (accepted.scheme !== undefined && accepted.scheme !== scheme) return errorResponse(400, `accepted.scheme must be ${scheme} for this plan.`)
  const delegationId = delegationConfig?.delegationId
  if (typeof delegationId !== 'string') return errorResponse(400, 'delegationConfig.delegationId is required: create a delegation first.')
  const delegation = state.facilitator.delegation(delegationId)
  if (delegation === undefined || delegation.holder !== caller) return errorResponse(404, 'Delegation not found.')
  if (delegation.planId !== undefined && delegation.planId !== planId) return errorResponse(400, 'The delegation is bound to another plan.')
  const extra = accepted.extra as Record<string, unknown> | undefined
  const agentId = typeof extra?.agentId === 'string' && extra.agentId.length > 0 ? extra.agentId : undefined
  const network = typeof accepted.network === 'string' ? accepted.network : plan.fiat ? 'stripe' : 'eip155:84532'
  const accessToken = state.facilitator.issueToken(caller, { scheme, network, planId, agentId }, delegation.id)
  return jsonResponse(200, { accessToken })
}

/** `POST /x402/verify` with the agent's key (the plan's owner). */
export async function verify(state: LedgerState, request: Request, caller: string): Promise<Response> {
  const parsed = await facilitatorBody(state, request, caller)
  if (parsed instanceof Response) return parsed
  const result = state.facilitator.verify(parsed.token, parsed.accepted, parsed.amount)
  if (!result.isValid) return jsonResponse(200, { isValid: false, invalidReason: result.reason, ...(result.holder ? { payer: result.holder } : {}) })
  return jsonResponse(200, { isValid: true, payer: result.holder, network: result.network, agentRequestId: crypto.randomUUID() })
}

/** `POST /x402/settle` with the agent's key: burns, ordering first within the delegation if short. */
export async function settle(state: LedgerState, request: Request, caller: string): Promise<Response> {
  const parsed = await facilitatorBody(state, request, caller)
  if (parsed instanceof Response) return parsed
  const result = state.facilitator.settle(parsed.token, parsed.accepted, parsed.amount)
  if (result.kind === 'failed') return errorResponse(result.failure.status, result.failure.message, {}, result.failure.code)
  return jsonResponse(200, {
    success: true,
    payer: result.holder,
    transaction: result.transaction,
    network: result.network,
    creditsRedeemed: String(result.credits),
    remainingBalance: String(result.remaining),
    ...(result.orderTx ? { orderTx: result.orderTx } : {}),
  })
}

/** The verify/settle body: `{paymentRequired, x402AccessToken, maxAmount}`, checked; the caller must own the plan. */
async function facilitatorBody(state: LedgerState, request: Request, caller: string): Promise<Response | { token: string; accepted: Accepted; amount: number }> {
  const body = await jsonBody(request)
  if (typeof body === 'string') return errorResponse(400, body)
  const { paymentRequired, x402AccessToken, maxAmount } = body
  if (typeof x402AccessToken !== 'string' || x402AccessToken.length === 0) return errorResponse(400, 'x402AccessToken is required.')
  const accepts = (paymentRequired as { accepts?: unknown } | undefined)?.accepts
  const first = Array.isArray(accepts) ? (accepts[0] as Record<string, unknown> | undefined) : undefined
  if ((paymentRequired as { x402Version?: unknown } | undefined)?.x402Version !== 2 || typeof first !== 'object' || first === null) {
    return errorResponse(400, 'paymentRequired must be an x402 v2 PaymentRequired with one accepted scheme.')
  }
  const planId = stringPlanId(first.planId)
  if (planId === undefined) return errorResponse(400, 'paymentRequired.accepts[0].planId must be a decimal string.')
  const plan = state.plans.get(planId)
  if (plan === undefined) return errorResponse(404, 'Plan not found.')
  if (plan.owner !== caller) return errorResponse(401, "Only the plan owner's (agent's) key may verify or settle its credits.")
  // The SDK sends maxAmount as a decimal string; absent means 1 credit.
  const amount = maxAmount === undefined ? 1 : typeof maxAmount === 'string' && /^[0-9]{1,15}$/.test(maxAmount) ? Number(maxAmount) : NaN
  if (!Number.isSafeInteger(amount) || amount < 1) return errorResponse(400, 'maxAmount must be a positive integer as a decimal string.')
  const extra = first.extra as Record<string, unknown> | undefined
  return { token: x402AccessToken, accepted: { planId, agentId: typeof extra?.agentId === 'string' ? extra.agentId : undefined }, amount }
}

async function jsonBody(request: Request): Promise<Record<string, unknown> | string> {
  return jsonObject(await request.text(), MAX_BODY_CHARS)
}

function stringPlanId(value: unknown): string | undefined {
  // The SDK sends plan ids in x402 payloads as strings only.
  return typeof value === 'string' ? canonicalPlanId(value) : undefined
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0
}

