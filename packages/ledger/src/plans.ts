import type { Accounts } from './accounts'
import { addGrant, emptyHolding, isExpired, remaining, settle, view, type Holding } from './holding'
import { randomTxHash } from './random'
import type { LedgerBalance } from './types'
import { toAddress, toCount, toDuration, toMoney } from './validate'

export interface Plan {
  id: string
  credits: number
  price: number
  owner: string
  /** Milliseconds, or null when credits never expire. */
  durationMs: number | null
  /** Paid by card (fiat) rather than in crypto: the x402 scheme is `nvm:card-delegation`. */
  fiat: boolean
}

export type OrderResult =
  | { kind: 'ok'; txHash: string; balance: LedgerBalance }
  | { kind: 'not-found' }
  | { kind: 'payment-failed' }

export type RedeemResult =
  | { kind: 'ok'; creditsRedeemed: number; remainingBalance: number }
  | { kind: 'not-found' }
  | { kind: 'insufficient'; reason: string }
  | { kind: 'proof-conflict' }

export interface Redemption {
  planId: string
  holder: string
  amount: number
  proof: string
}

/**
 * Plans and what every holder has of them: ordering, balances and redemptions, without any HTTP.
 * Addresses are canonical (lower-case) here; plan ids are canonical decimal strings.
 */
export class PlanBook {
  readonly #plans = new Map<string, Plan>()
  readonly #holdings = new Map<string, Holding>()
  // Per plan: proof → the redemption it applied, so a retried redeem is recognised, not re-applied.
  readonly #proofs = new Map<string, Map<string, { holder: string; amount: number }>>()
  readonly #orders = new Map<string, number>()
  readonly #redeemed = new Map<string, number>()
  readonly #accounts: Accounts
  readonly #now: () => number

  constructor(accounts: Accounts, now: () => number) {
    this.#accounts = accounts
    this.#now = now
  }

  create(options: { credits: number; price: number; owner: string; durationSeconds?: number; fiat?: boolean }): string {
    if (typeof options !== 'object' || options === null) throw new TypeError('local ledger: createPlan needs options')
    const plan: Plan = {
      id: String(this.#plans.size + 1),
      credits: toCount(options.credits, 'createPlan credits', 1),
      price: toMoney(options.price, 'createPlan price'),
      owner: toAddress(options.owner, 'createPlan owner'),
      durationMs:
        options.durationSeconds === undefined ? null : toDuration(options.durationSeconds, 'createPlan durationSeconds', true) * 1000,
      fiat: options.fiat === true,
    }
    this.#plans.set(plan.id, plan)
    return plan.id
  }

  get(planId: string): Plan | undefined {
    return this.#plans.get(planId)
  }

  /** Charges `holder` the plan's price (paid to the owner) and grants its credits, `lagMs` late. */
  order(planId: string, holder: string, lagMs = 0): OrderResult {
    const plan = this.#plans.get(planId)
    if (!plan) return { kind: 'not-found' }
    if (!this.#accounts.pay(holder, plan.owner, plan.price)) return { kind: 'payment-failed' }
    const now = this.#now()
    const holding = this.#holding(planId, holder, true)
    addGrant(holding, {
      credits: plan.credits,
      orderedAt: now,
      visibleAt: now + lagMs,
      expiresAt: plan.durationMs === null ? null : now + plan.durationMs,
    }, now)
    this.#orders.set(planId, (this.#orders.get(planId) ?? 0) + 1)
    return { kind: 'ok', txHash: randomTxHash(), balance: view(holding) }
  }

  /** What the balance call answers now, or undefined for an unknown plan. */
  balance(planId: string, holder: string): LedgerBalance | undefined {
    if (!this.#plans.has(planId)) return undefined
    return view(this.#holding(planId, holder, false))
  }

  /** Takes `amount` credits from the holder, once per proof. The owner check is the caller's. */
  redeem({ planId, holder, amount, proof }: Redemption): RedeemResult {
    if (!this.#plans.has(planId)) return { kind: 'not-found' }
    const holding = this.#holding(planId, holder, false)
    const proofs = this.#proofs.get(planId) ?? new Map<string, { holder: string; amount: number }>()
    this.#proofs.set(planId, proofs)

    const earlier = proofs.get(proof)
    if (earlier) {
      // The same proof with other figures is not a retry but a bug in the caller: say so.
      if (earlier.holder !== holder || earlier.amount !== amount) return { kind: 'proof-conflict' }
      // A retry: already applied. Report the current remainder, which is the truth now (the one
      // answered the first time may be stale if the holder redeemed since).
      return { kind: 'ok', creditsRedeemed: amount, remainingBalance: holding ? remaining(holding) : 0 }
    }

    const shortBy = this.shortfall(planId, holder, amount)
    if (shortBy !== undefined) return { kind: 'insufficient', reason: shortBy }
    proofs.set(proof, { holder, amount })
    return { kind: 'ok', creditsRedeemed: amount, remainingBalance: this.burn(planId, holder, amount) }
  }

  /** Why the holder cannot spend `amount` credits now, or undefined when it can. */
  shortfall(planId: string, holder: string, amount: number): string | undefined {
    const holding = this.#holding(planId, holder, false)
    if (!holding || !holding.subscribed) return 'the holder has no credits of this plan'
    if (isExpired(holding, this.#now())) return "the holder's credits have expired"
    if (remaining(holding) < amount) return 'the holder has too few credits'
    return undefined
  }

  /** Takes `amount` credits the holder has (check {@link shortfall} first); returns what is left. */
  burn(planId: string, holder: string, amount: number): number {
    const holding = this.#holding(planId, holder, true)
    holding.used += amount
    this.#redeemed.set(planId, (this.#redeemed.get(planId) ?? 0) + amount)
    return remaining(holding)
  }

  /** Successful orders, for one plan or all. */
  orders(planId?: string): number {
    return sum(this.#orders, planId)
  }

  /** Credits redeemed, for one plan or all. */
  redeemed(planId?: string): number {
    return sum(this.#redeemed, planId)
  }

  #holding(planId: string, holder: string, create: true): Holding
  #holding(planId: string, holder: string, create: false): Holding | undefined
  #holding(planId: string, holder: string, create: boolean): Holding | undefined {
    const key = `${planId}/${holder}`
    let holding = this.#holdings.get(key)
    if (!holding && create) {
      holding = emptyHolding()
      this.#holdings.set(key, holding)
    }
    // Every read or write sees lagging grants that have come due by now.
    if (holding) settle(holding, this.#now())
    return holding
  }
}

function sum(counts: Map<string, number>, key: string | undefined): number {
  if (key !== undefined) return counts.get(key) ?? 0
  let total = 0
  for (const count of counts.values()) total += count
  return total
}
