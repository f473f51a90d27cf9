import type { Accounts } from './accounts'
import type { Facilitator } from './facilitator'
import { bearerToken, errorResponse, jsonObject, jsonResponse, type Route } from './http'
import { canonicalPlanId } from './plan-id'
import type { PlanBook, Redemption } from './plans'
import type { LedgerBalance } from './types'
import { isAddress } from './validate'
import { createDelegation, createPermission, planInfo, settle, verify } from './x402-handlers'

/** What the handlers work on. */
export interface LedgerState {
  accounts: Accounts
  plans: PlanBook
  facilitator: Facilitator
  /** Whether `POST /protocol/plans/redeem` is served (the live API answers it 404). */
  serveRedeem: boolean
  /** Which of the two balance shapes the balance call answers with. */
  balanceShape: 'published' | 'live'
}

// Redeem bodies are four short fields; anything this big is not one.
const MAX_BODY_CHARS = 16 * 1024
const MAX_PROOF_CHARS = 200

/**
 * Answers one call for real (docs/LOCAL-LEDGER.md, 'What it answers'): authentication, then the plan, then the operation.
 * `lagMs` delays the visibility of an order's credits (an injected fault).
 */
export async function handle(state: LedgerState, request: Request, route: Route, lagMs = 0): Promise<Response> {
  // As on the live API: the published redeem call is not mounted (nevermined-io/payments#307).
  if (route.endpoint === 'redeem' && !state.serveRedeem) return errorResponse(404, 'Cannot POST /api/v1/protocol/plans/redeem')
  const caller = state.accounts.addressOf(bearerToken(request.headers.get('authorization')))
  if (caller === undefined) {
    // The key is never repeated: not here, not anywhere.
    return errorResponse(401, 'Missing or unknown API key.', { 'WWW-Authenticate': 'Bearer' })
  }
  switch (route.endpoint) {
    case 'order':
      return order(state, route.planId, caller, lagMs)
    case 'balance':
      return balance(state, route.planId, route.holder)
    case 'redeem':
      return redeem(state, request, caller)
    case 'plan':
      return planInfo(state, canonicalPlanId(route.planId))
    case 'delegation':
      return createDelegation(state, request, caller)
    case 'permission':
      return createPermission(state, request, caller)
    case 'verify':
      return verify(state, request, caller)
    case 'settle':
      return settle(state, request, caller)
  }
}

function order(state: LedgerState, rawPlanId: string, caller: string, lagMs: number): Response {
  const planId = canonicalPlanId(rawPlanId)
  const result = planId === undefined ? { kind: 'not-found' as const } : state.plans.order(planId, caller, lagMs)
  switch (result.kind) {
    case 'not-found':
      return planNotFound()
    case 'payment-failed':
      return errorResponse(402, "Payment failed: the wallet cannot pay the plan's price.")
    case 'ok':
      return jsonResponse(200, { success: true, txHash: result.txHash, balance: result.balance })
  }
}

function balance(state: LedgerState, rawPlanId: string, rawHolder: string): Response {
  const planId = canonicalPlanId(rawPlanId)
  if (planId === undefined || state.plans.get(planId) === undefined) return planNotFound()
  if (!isAddress(rawHolder)) return errorResponse(400, 'The holder address must be 0x followed by 40 hex digits.')
  const holder = rawHolder.toLowerCase()
  const found = state.plans.balance(planId, holder)!
  return jsonResponse(200, state.balanceShape === 'live' ? liveShape(planId, holder, found) : found)
}

/** The shape the live API has been seen to answer with, and the SDK's `PlanBalance` type names. */
function liveShape(planId: string, holder: string, balance: LedgerBalance): Record<string, unknown> {
  return {
    planId,
    planName: `Plan ${planId}`,
    planType: 'credits',
    holderAddress: holder,
    balance: String(balance.remaining),
    creditsContract: '0x0000000000000000000000000000000000000000',
    isSubscriber: balance.isSubscriber,
    pricePerCredit: 0,
  }
}

async function redeem(state: LedgerState, request: Request, caller: string): Promise<Response> {
  const parsed = parseRedemption(await request.text())
  if (typeof parsed === 'string') return errorResponse(400, parsed)
  const plan = state.plans.get(parsed.planId)
  if (plan === undefined) return planNotFound()
  if (plan.owner !== caller) return errorResponse(401, "Only the plan owner's key may redeem its credits.")

  const result = state.plans.redeem(parsed)
  switch (result.kind) {
    case 'not-found':
      return planNotFound()
    case 'insufficient':
      return errorResponse(402, `Insufficient credits: ${result.reason}.`)
    case 'proof-conflict':
      return errorResponse(409, 'This proof was already used for another holder or amount.')
    case 'ok':
      return jsonResponse(200, {
        success: true,
        creditsRedeemed: result.creditsRedeemed,
        remainingBalance: result.remainingBalance,
      })
  }
}

/** The redeem body, checked field by field; a string is the reason it was refused. */
function parseRedemption(text: string): Redemption | string {
  const body = jsonObject(text, MAX_BODY_CHARS)
  if (typeof body === 'string') return body
  const { planId, holderAddress, amount, proof } = body

  const canonical = canonicalPlanId(planId)
  if (canonical === undefined) return 'planId must be a decimal string or a non-negative integer.'
  if (!isAddress(holderAddress)) return 'holderAddress must be 0x followed by 40 hex digits.'
  if (typeof amount !== 'number' || !Number.isSafeInteger(amount) || amount < 1) {
    return 'amount must be a positive integer.'
  }
  if (typeof proof !== 'string' || proof.length === 0 || proof.length > MAX_PROOF_CHARS) {
    return `proof must be a non-empty string of at most ${MAX_PROOF_CHARS} characters.`
  }
  return { planId: canonical, holder: holderAddress.toLowerCase(), amount, proof }
}

function planNotFound(): Response {
  return errorResponse(404, 'Plan not found.')
}
