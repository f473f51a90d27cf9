import { Accounts } from './accounts'
import { Facilitator } from './facilitator'
import { abortReason, delay, faultAnswer, FaultQueue, replacesAnswer } from './faults'
import { handle, type LedgerState } from './handlers'
import { matchRoute, toRequest, type Route } from './http'
import { PlanBook } from './plans'
import type { LedgerBalance, LedgerEndpoint, LedgerFault, LocalLedger, LocalLedgerOptions } from './types'
import { toAddress } from './validate'

const DEFAULT_BASE_URL = 'http://ledger.local/api/v1'

/**
 * Creates a Nevermined-compatible API in memory (see docs/LOCAL-LEDGER.md). It starts no timer and does no I/O, so
 * it is safe at module scope in a Cloudflare Worker; its `fetch` can be given to the gate
 * in-process or served over HTTP (`serve({ fetch: ledger.fetch, port })`).
 *
 * @example
 * const ledger = createLocalLedger()
 * const owner = ledger.createAccount()
 * const alice = ledger.createAccount({ funds: 25 })
 * const planId = ledger.createPlan({ credits: 2, price: 10, owner: owner.address })
 * const gate = createPlanGate({ apiKey: owner.apiKey, environment: ledger.baseUrl, fetch: ledger.fetch })
 */
export function createLocalLedger(options: LocalLedgerOptions = {}): LocalLedger {
  const baseUrl = normalizeBaseUrl(options.baseUrl ?? DEFAULT_BASE_URL)
  const basePath = new URL(baseUrl).pathname.replace(/\/+$/, '')
  const now = options.now ?? Date.now

  const accounts = new Accounts(now)
  const plans = new PlanBook(accounts, now)
  const state: LedgerState = {
    accounts,
    plans,
    facilitator: new Facilitator(accounts, plans, now),
    serveRedeem: options.serveRedeem === true,
    balanceShape: options.balanceShape === 'live' ? 'live' : 'published',
  }
  const faults = new FaultQueue()
  let counters: Record<LedgerEndpoint, number> = zeroCounters()

  // An async function, so that every failure (a bad URL, a network fault, an abort) is a
  // rejection, never a synchronous throw: exactly what callers of fetch expect. `init` may also be
  // a server's env (see the overloads of LocalLedger.fetch); it then changes nothing.
  async function fetch(input: Request | string | URL, init?: unknown): Promise<Response> {
    const request = toRequest(input, init, baseUrl)
    const signal = request.signal
    if (signal.aborted) throw abortReason(signal)

    const match = matchRoute(request.method, new URL(request.url).pathname, basePath)
    if ('response' in match) return match.response
    const { route } = match
    counters[route.endpoint] += 1

    const fault = faults.take(route.endpoint)
    if (fault === undefined) return handle(state, request, route)
    return faulty(request, route, fault, signal)
  }

  async function faulty(request: Request, route: Route, fault: LedgerFault, signal: AbortSignal): Promise<Response> {
    // afterApply: the operation happens, then its answer is delayed, lost or garbled.
    const real = fault.afterApply ? await handle(state, request, route, fault.lagMs) : undefined
    if (fault.delayMs) await delay(fault.delayMs, signal)
    if (replacesAnswer(fault)) {
      await real?.body?.cancel()
      return faultAnswer(fault)
    }
    return real ?? handle(state, request, route, fault.lagMs)
  }

  return {
    baseUrl,
    fetch,
    createAccount: (accountOptions) => accounts.create(accountOptions),
    createPlan: (planOptions) => plans.create(planOptions),
    fund: (address, amount) => accounts.fund(address, amount),
    wallet: (address) => accounts.wallet(address),
    balance(planId: string, address: string): LedgerBalance {
      const holder = toAddress(address, 'balance address')
      const found = plans.balance(String(planId), holder)
      if (found === undefined) throw new TypeError(`local ledger: there is no plan ${JSON.stringify(planId)}`)
      return found
    },
    get counters() {
      // A frozen snapshot: callers compare before and after without aliasing the live numbers.
      return Object.freeze({ ...counters })
    },
    resetCounters: () => {
      counters = zeroCounters()
    },
    inject: (endpoint, fault) => faults.inject(endpoint, fault),
    clearFaults: () => faults.clear(),
    redeemed: (planId) => plans.redeemed(planId),
    orders: (planId) => plans.orders(planId),
  }
}

function zeroCounters(): Record<LedgerEndpoint, number> {
  return { order: 0, balance: 0, redeem: 0, plan: 0, verify: 0, settle: 0, delegation: 0, permission: 0 }
}

function normalizeBaseUrl(baseUrl: string): string {
  let url: URL
  try {
    url = new URL(baseUrl)
  } catch {
    throw new TypeError('local ledger: baseUrl must be an absolute URL, e.g. http://ledger.local/api/v1')
  }
  if (url.search || url.hash) throw new TypeError('local ledger: baseUrl must not have a query or a fragment')
  return url.href.replace(/\/+$/, '')
}
