import { createPlanGate, type PlanGateOptions } from '@plangate/core'
import { createLocalLedger, type LocalAccount, type LocalLedger } from '@plangate/core/local'
import { expect } from 'vitest'

// What the Express and Hono adapter tests both start from.

export const silent = { warn: () => {}, error: () => {} }

export interface Call {
  url: string
  method: string
  authorization: string | null
}

/** A ledger, a plan owner (the agent), a subscriber with funds, a plan, and a gate that records its upstream calls. */
export function world(plan: { credits?: number; price?: number } = {}, funds = 25, gateOptions: Partial<PlanGateOptions> = {}) {
  const ledger = createLocalLedger()
  const owner = ledger.createAccount({ funds: 0 })
  const alice = ledger.createAccount({ funds })
  const planId = ledger.createPlan({ credits: plan.credits ?? 2, price: plan.price ?? 10, owner: owner.address })
  const calls: Call[] = []
  const fetch = (input: Request | string | URL, init?: RequestInit) => {
    const request = new Request(input, init)
    calls.push({ url: request.url, method: request.method, authorization: request.headers.get('authorization') })
    return ledger.fetch(request)
  }
  const gate = createPlanGate({ apiKey: owner.apiKey, environment: ledger.baseUrl, fetch, logger: silent, ...gateOptions })
  return { ledger, owner, alice, planId, gate, calls }
}

/** Orders the plan once for `account` straight on the ledger (not through a gate). */
export async function subscribe(ledger: LocalLedger, planId: string, account: LocalAccount): Promise<void> {
  const res = await ledger.fetch(`${ledger.baseUrl}/protocol/plans/${planId}/order`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${account.apiKey}` },
  })
  expect(res.status).toBe(200)
}

/** The secret parts of a key: the key itself and its JWT payload segment. */
export function secretsOf(apiKey: string): string[] {
  return [apiKey, apiKey.split('.')[1]!]
}
