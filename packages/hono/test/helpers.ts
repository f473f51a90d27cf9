import { createPlanGate, type PlanGateOptions } from '@plangate/core'
import { createLocalLedger, type LocalAccount, type LocalLedger } from '@plangate/core/local'
import { expect } from 'vitest'

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

/** A problem+json denial: exactly {type,title,status,detail,code,planId}, nothing secret anywhere. */
export async function expectProblem(res: Response, status: number, code: string, planId: string, secrets: string[] = []) {
  expect(res.status).toBe(status)
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/)
  const text = await res.text()
  const body = JSON.parse(text) as Record<string, unknown>
  expect(Object.keys(body).sort()).toEqual(['code', 'detail', 'planId', 'status', 'title', 'type'])
  expect(body).toMatchObject({ status, code, planId })
  expect(text).not.toMatch(/\bat .*:\d+:\d+/) // no stack frame
  const everything = text + JSON.stringify([...res.headers])
  for (const secret of secrets) expect(everything).not.toContain(secret)
  return body
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
