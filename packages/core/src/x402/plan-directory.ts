import type { NeverminedClient } from '../client'
import { singleFlight } from '../util/single-flight'
import { defaultNetwork, type PaymentScheme } from './payment-required'
import type { PlanAnswer } from './schemas'

/** What the gate needs to know of a plan to speak x402 about it. */
export interface PlanFacts {
  scheme: PaymentScheme
  creditsPerOrder: number | undefined
  /** One order's price in cents, when the API says (USDC counts as dollars). */
  priceCents: number | undefined
}

// As long as Nevermined's SDK keeps it: a plan's payment kind changes rarely, if ever.
const TTL_MS = 5 * 60 * 1000
const USDC_UNITS_PER_CENT = 10_000n

/**
 * How each plan is paid for, learned from `GET /protocol/plans/{planId}` as the SDK learns it
 * (crypto → `nvm:erc4337`, fiat → `nvm:card-delegation`) and kept five minutes. One read in
 * flight per plan. A plan whose metadata cannot be read counts as crypto, as in the SDK; a
 * scheme and network given in the options are used as they are.
 */
export class PlanDirectory {
  readonly #client: NeverminedClient
  readonly #apiKey: string
  readonly #baseUrl: string
  readonly #given: Partial<PaymentScheme>
  readonly #known = new Map<string, { facts: PlanFacts; at: number }>()
  readonly #reads = new Map<string, Promise<PlanFacts>>()

  constructor(client: NeverminedClient, apiKey: string, given: Partial<PaymentScheme>) {
    this.#client = client
    this.#apiKey = apiKey
    this.#baseUrl = client.baseUrl
    this.#given = given
  }

  /** The plan's facts if known and fresh, without waiting. */
  cached(planId: string): PlanFacts | undefined {
    const known = this.#known.get(planId)
    return known !== undefined && Date.now() - known.at < TTL_MS ? known.facts : undefined
  }

  /**
   * How a plan not looked up yet is paid for, as far as the options say: the scheme given, or
   * nothing. A 401 to a request without a credential must not name a scheme the gate only
   * guesses (a card plan offered as `nvm:erc4337` sends a client to buy the wrong way).
   */
  given(): PaymentScheme | undefined {
    const scheme = this.#given.scheme
    return scheme === undefined ? undefined : { scheme, network: this.#given.network ?? defaultNetwork(scheme, this.#baseUrl) }
  }

  facts(planId: string): Promise<PlanFacts> {
    const cached = this.cached(planId)
    if (cached) return Promise.resolve(cached)
    return singleFlight(this.#reads, planId, () => this.#read(planId))
  }

  async #read(planId: string): Promise<PlanFacts> {
    let answer: PlanAnswer | undefined
    try {
      answer = await this.#client.plan(planId, this.#apiKey)
    } catch {
      answer = undefined
    }
    const scheme = this.#given.scheme ?? (answer?.isCrypto === false ? 'nvm:card-delegation' : 'nvm:erc4337')
    const network = this.#given.network ?? (scheme === 'nvm:card-delegation' ? (answer?.fiatProvider ?? 'stripe') : defaultNetwork(scheme, this.#baseUrl))
    const facts: PlanFacts = { scheme: { scheme, network }, creditsPerOrder: answer?.creditsPerOrder, priceCents: priceCents(answer) }
    // A failed read is not kept: the next request asks again.
    if (answer !== undefined) this.#known.set(planId, { facts, at: Date.now() })
    return facts
  }
}

function priceCents(answer: PlanAnswer | undefined): number | undefined {
  if (answer?.priceUnits === undefined) return undefined
  const cents = answer.isCrypto ? (answer.priceUnits + USDC_UNITS_PER_CENT - 1n) / USDC_UNITS_PER_CENT : answer.priceUnits
  return cents <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(cents) : undefined
}
