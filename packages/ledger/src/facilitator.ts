import { encodeBase64Url } from './base64url'
import type { PlanBook } from './plans'
import type { Accounts } from './accounts'
import { randomHex, randomTxHash } from './random'

/** A spending permission a holder gave (`POST /delegation/create`): what auto top-up may spend. */
export interface Delegation {
  id: string
  holder: string
  planId: string | undefined
  spendingLimitCents: number
  spentCents: number
  /** Epoch ms. */
  expiresAt: number
}

/** What an issued x402 access token stands for. */
interface IssuedToken {
  holder: string
  planId: string
  delegationId: string
  agentId: string | undefined
  scheme: string
  network: string
}

export type FacilitatorFailure = { status: number; message: string; code?: string }

export type VerifyResult = { isValid: true; holder: string; network: string } | { isValid: false; reason: string; holder?: string }

export type SettleResult =
  | { kind: 'ok'; holder: string; network: string; credits: number; remaining: number; transaction: string; orderTx: string | undefined }
  | { kind: 'failed'; failure: FacilitatorFailure }

/** What the facilitator is asked to check a token against (the paymentRequired's first accept). */
export interface Accepted {
  planId: string
  agentId: string | undefined
}

// One settle tops up at most this many orders: enough for any cost the gate asks for in tests.
const MAX_TOP_UPS = 100

/**
 * The x402 side of the ledger, as the live API serves it: delegations, access tokens, verify
 * and settle. Settle burns credits and, when the holder has too few, orders the plan first
 * (auto top-up), paid from the holder's wallet within the delegation's spending limit.
 */
export class Facilitator {
  readonly #delegations = new Map<string, Delegation>()
  readonly #tokens = new Map<string, IssuedToken>()
  readonly #accounts: Accounts
  readonly #plans: PlanBook
  readonly #now: () => number

  constructor(accounts: Accounts, plans: PlanBook, now: () => number) {
    this.#accounts = accounts
    this.#plans = plans
    this.#now = now
  }

  createDelegation(holder: string, options: { spendingLimitCents: number; durationSecs: number; planId: string | undefined }): Delegation {
    const delegation: Delegation = {
      id: crypto.randomUUID(),
      holder,
      planId: options.planId,
      spendingLimitCents: options.spendingLimitCents,
      spentCents: 0,
      expiresAt: this.#now() + options.durationSecs * 1000,
    }
    this.#delegations.set(delegation.id, delegation)
    return delegation
  }

  delegation(id: string): Delegation | undefined {
    return this.#delegations.get(id)
  }

  /** Issues a token in the real format: base64url JSON of an x402 v2 PaymentPayload. */
  issueToken(holder: string, accepted: { scheme: string; network: string; planId: string; agentId: string | undefined }, delegationId: string): string {
    const payload = {
      x402Version: 2,
      accepted: { scheme: accepted.scheme, network: accepted.network, planId: accepted.planId, extra: { version: '1', ...(accepted.agentId ? { agentId: accepted.agentId } : {}) } },
      payload: {
        signature: `0x${randomHex(65)}`,
        authorization: { from: holder, sessionKeysProvider: 'plangate-local-ledger', sessionKeys: [`0x${randomHex(20)}`] },
      },
      extensions: {},
    }
    const token = encodeBase64Url(JSON.stringify(payload))
    this.#tokens.set(token, { holder, planId: accepted.planId, delegationId, agentId: accepted.agentId, scheme: accepted.scheme, network: accepted.network })
    return token
  }

  verify(token: string, accepted: Accepted, amount: number): VerifyResult {
    const checked = this.#check(token, accepted)
    if ('reason' in checked) return { isValid: false, reason: checked.reason, holder: checked.holder }
    const { issued, delegation } = checked
    if (this.#plans.shortfall(issued.planId, issued.holder, amount) === undefined) return { isValid: true, holder: issued.holder, network: issued.network }
    // Settle would order first: valid if the delegation and the wallet can pay for enough orders.
    const orders = this.#ordersNeeded(issued, amount)
    const plan = this.#plans.get(issued.planId)!
    const cents = orders * priceCents(plan.price)
    if (delegation.spentCents + cents > delegation.spendingLimitCents) return { isValid: false, reason: 'Insufficient credits and the delegation cannot top up', holder: issued.holder }
    if (this.#accounts.wallet(issued.holder) < orders * plan.price) return { isValid: false, reason: 'Insufficient credits and the wallet cannot pay for a top-up', holder: issued.holder }
    return { isValid: true, holder: issued.holder, network: issued.network }
  }

  settle(token: string, accepted: Accepted, amount: number): SettleResult {
    const checked = this.#check(token, accepted)
    if ('reason' in checked) return { kind: 'failed', failure: { status: checked.status, message: checked.reason, code: checked.code } }
    const { issued, delegation } = checked
    let orderTx: string | undefined
    for (let round = 0; this.#plans.shortfall(issued.planId, issued.holder, amount) !== undefined; round++) {
      const plan = this.#plans.get(issued.planId)!
      const cents = priceCents(plan.price)
      if (round >= MAX_TOP_UPS || delegation.spentCents + cents > delegation.spendingLimitCents) {
        return { kind: 'failed', failure: { status: 402, message: 'The delegation is exhausted: its spending limit cannot pay for a top-up.', code: 'BCK.X402.0005' } }
      }
      const ordered = this.#plans.order(issued.planId, issued.holder)
      if (ordered.kind !== 'ok') {
        return { kind: 'failed', failure: { status: 500, message: 'The top-up order failed: the wallet cannot pay the plan price.', code: 'BCK.X402.0008' } }
      }
      delegation.spentCents += cents
      orderTx = ordered.txHash
    }
    const remaining = this.#plans.burn(issued.planId, issued.holder, amount)
    return { kind: 'ok', holder: issued.holder, network: issued.network, credits: amount, remaining, transaction: randomTxHash(), orderTx }
  }

  #check(token: string, accepted: Accepted): { issued: IssuedToken; delegation: Delegation } | { reason: string; status: number; code?: string; holder?: string } {
    const issued = this.#tokens.get(token)
    if (issued === undefined) return { reason: 'The x402 access token was not issued by this API', status: 401 }
    if (issued.planId !== accepted.planId) return { reason: 'The x402 access token is for another plan', status: 400, holder: issued.holder }
    if (issued.agentId !== undefined && accepted.agentId !== undefined && issued.agentId !== accepted.agentId) {
      return { reason: 'The x402 access token is for another agent', status: 400, holder: issued.holder }
    }
    const delegation = this.#delegations.get(issued.delegationId)
    if (delegation === undefined || delegation.expiresAt <= this.#now()) {
      return { reason: 'The delegation behind the token has expired', status: 402, code: 'BCK.X402.0005', holder: issued.holder }
    }
    return { issued, delegation }
  }

  #ordersNeeded(issued: IssuedToken, amount: number): number {
    const plan = this.#plans.get(issued.planId)!
    const now = this.#plans.balance(issued.planId, issued.holder)!
    const have = now.expiresAt !== null && Date.parse(now.expiresAt) <= this.#now() ? 0 : now.remaining
    return Math.ceil(Math.max(0, amount - have) / plan.credits)
  }
}

/** The ledger's prices are in USD (as USDC): what a delegation's limit in cents counts. */
export function priceCents(price: number): number {
  return Math.round(price * 100)
}
