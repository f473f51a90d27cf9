import { LRUCache } from 'lru-cache'
import type { NeverminedClient } from '../client'
import { singleFlight } from '../util/single-flight'
import type { PlanDirectory } from './plan-directory'

export interface HolderTokenOptions {
  agentId: string | undefined
  /** How long each delegation (and so each token) lasts. */
  delegationSecs: number
  /** The delegation's spending limit for a plan, in cents: what auto top-up may spend at most. */
  spendingLimitCents(planId: string, priceCents: number | undefined): number
  max: number
}

// A token is dropped this long before its delegation ends, so a settle never races the expiry.
const EXPIRY_MARGIN_MS = 60_000

/**
 * x402 access tokens the gate obtains for holders who pay with an API key: a delegation
 * (`POST /delegation/create`) and a token for it (`POST /x402/permissions`), both with the
 * holder's own key, kept per holder and plan until the delegation is about to end. One request
 * for a token in flight per holder and plan. Keyed by the store key (`<plan>:<address>`), never
 * by a key or a token.
 */
export class HolderTokens {
  readonly #client: NeverminedClient
  readonly #plans: PlanDirectory
  readonly #options: HolderTokenOptions
  readonly #tokens: LRUCache<string, { token: string; until: number }>
  readonly #flights = new Map<string, Promise<string>>()

  constructor(client: NeverminedClient, plans: PlanDirectory, options: HolderTokenOptions) {
    this.#client = client
    this.#plans = plans
    this.#options = options
    this.#tokens = new LRUCache({ max: options.max })
  }

  /** The holder's token for the plan: a kept one, or a new one made with `apiKey`. */
  get(key: string, planId: string, apiKey: string): Promise<string> {
    const kept = this.#tokens.get(key)
    if (kept !== undefined && Date.now() < kept.until) return Promise.resolve(kept.token)
    return singleFlight(this.#flights, key, () => this.#obtain(key, planId, apiKey))
  }

  /** The API refused the token (expired, exhausted): the next settle gets a new one. */
  forget(key: string, token: string): void {
    if (this.#tokens.get(key)?.token === token) this.#tokens.delete(key)
  }

  async #obtain(key: string, planId: string, apiKey: string): Promise<string> {
    const facts = await this.#plans.facts(planId)
    const startedAt = Date.now()
    const { delegationId } = await this.#client.createDelegation(
      {
        provider: 'erc4337',
        spendingLimitCents: this.#options.spendingLimitCents(planId, facts.priceCents),
        durationSecs: this.#options.delegationSecs,
        currency: 'usdc',
        planId,
      },
      apiKey,
    )
    const { accessToken, expiresAt } = await this.#client.createPermission(
      {
        accepted: { scheme: facts.scheme.scheme, network: facts.scheme.network, planId, extra: this.#options.agentId ? { agentId: this.#options.agentId } : {} },
        delegationConfig: { delegationId },
      },
      apiKey,
    )
    const ends = Math.min(startedAt + this.#options.delegationSecs * 1000, expiresAt ?? Infinity)
    this.#tokens.set(key, { token: accessToken, until: ends - Math.min(EXPIRY_MARGIN_MS, this.#options.delegationSecs * 500) })
    return accessToken
  }
}
