import type { LocalLedger } from '../types'

/** What the command seeds a fresh ledger with, and prints: enough to run a gate and a buyer against it. */
export interface Seed {
  /** The ledger's base URL: a client's `environment` (NVM_ENVIRONMENT). */
  baseUrl: string
  planId: string
  plan: { credits: number; price: number }
  /** Owns the plan: the key a gate (the API that charges) runs with. */
  builder: { address: string; apiKey: string }
  /** A buyer with `funds` in the wallet: the key a client sends as `Authorization: Bearer …`. */
  subscriber: { address: string; apiKey: string; funds: number }
}

/**
 * Opens the builder's account with the plan and a funded subscriber on `ledger`, which clients
 * reach at `baseUrl` (the ledger routes by path only, so this is where it is actually served).
 *
 * @example seed(createLocalLedger(), { credits: 10, price: 10, funds: 100 }, 'http://127.0.0.1:8787/api/v1').planId // '1'
 */
export function seed(ledger: LocalLedger, options: { credits: number; price: number; funds: number }, baseUrl: string): Seed {
  const builder = ledger.createAccount({ funds: 0 })
  const subscriber = ledger.createAccount({ funds: options.funds })
  const planId = ledger.createPlan({ credits: options.credits, price: options.price, owner: builder.address })
  return {
    baseUrl,
    planId,
    plan: { credits: options.credits, price: options.price },
    builder: { address: builder.address, apiKey: builder.apiKey },
    subscriber: { address: subscriber.address, apiKey: subscriber.apiKey, funds: options.funds },
  }
}
