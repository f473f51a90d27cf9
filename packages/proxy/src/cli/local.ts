import { createPlanGate, type PlanGate, type PlanGateOptions } from '@plangate/core'
import { createLocalLedger, type LocalLedger } from '@plangate/core/local'
import type { RouteCost } from '../routes'

/** What `--local` runs on: an embedded ledger with a plan, its owner (the proxy) and one funded subscriber. */
export interface LocalSetup {
  ledger: LocalLedger
  planId: string
  gate: PlanGate
  /** A key that works as printed: 100 in the wallet, 10 credits per order of 10. */
  subscriberKey: string
}

export const LOCAL_PLAN = { credits: 10, price: 10 }
export const LOCAL_FUNDS = 100

/**
 * The local ledger (`@plangate/core/local`) in this process: nothing to sign up for, nothing on
 * the network, everything gone when the process ends. For trying the proxy on a fresh machine.
 */
export function localSetup(gateOptions: Partial<PlanGateOptions>): LocalSetup {
  const ledger = createLocalLedger()
  const owner = ledger.createAccount({ funds: 0 })
  const subscriber = ledger.createAccount({ funds: LOCAL_FUNDS })
  const planId = ledger.createPlan({ ...LOCAL_PLAN, owner: owner.address })
  const gate = createPlanGate({ ...gateOptions, apiKey: owner.apiKey, environment: ledger.baseUrl, fetch: ledger.fetch })
  return { ledger, planId, gate, subscriberKey: subscriber.apiKey }
}

/**
 * A curl that spends a credit: the first charged route without parameters, else `/`.
 *
 * @example tryCommand('http://127.0.0.1:3000', { 'POST /v1/chat': 5 }, key) // "curl -i -X POST http://…/v1/chat -H '…'"
 */
export function tryCommand(url: string, routes: Record<string, RouteCost>, key: string): string {
  let method = 'GET'
  let path = '/'
  const literal = Object.entries(routes).find(([pattern, cost]) => (typeof cost === 'object' ? cost.max : cost) > 0 && !/[:*]/.test(pattern))
  if (literal) {
    const parts = literal[0].trim().split(/\s+/)
    path = parts.length > 1 ? parts[1]! : parts[0]!
    method = parts.length > 1 ? parts[0]!.toUpperCase() : 'GET'
  }
  const verb = method === 'GET' ? '' : ` -X ${method}`
  return `curl -i${verb} ${url}${path} -H 'Authorization: Bearer ${key}'`
}
