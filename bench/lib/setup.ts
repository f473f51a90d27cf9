/**
 * What every benchmark runs on: a local ledger with an agent (the plan's owner), one big plan and
 * `subscribers` holders who already hold plenty of its credits (for a year), so a warm gate never orders.
 */
import { createLocalLedger, type LocalLedger } from '@plangate/core/local'

export interface BenchLedger {
  ledger: LocalLedger
  agentKey: string
  planId: string
  /** Subscriber keys, in the real `nvm:<jwt>` format (about 330 characters). */
  keys: string[]
}

/** Credits per order of the benchmark plan: far more than any run spends. */
export const BIG_PLAN_CREDITS = 1_000_000_000
/** The credits expire a year after the order, as on a time-limited plan: every lease carries an expiry. */
export const PLAN_DURATION_SECONDS = 365 * 24 * 3600

export async function createBenchLedger(options: { subscribers: number; baseUrl?: string; credits?: number }): Promise<BenchLedger> {
  // The redeem call is served for the naive baseline, which burns through it.
  const ledger = createLocalLedger({ serveRedeem: true, ...(options.baseUrl === undefined ? {} : { baseUrl: options.baseUrl }) })
  const agent = ledger.createAccount({ funds: 0 })
  const planId = ledger.createPlan({ credits: options.credits ?? BIG_PLAN_CREDITS, price: 1, owner: agent.address, durationSeconds: PLAN_DURATION_SECONDS })
  const keys: string[] = []
  for (let i = 0; i < options.subscribers; i++) {
    const subscriber = ledger.createAccount({ funds: 1 })
    await order(ledger, planId, subscriber.apiKey)
    keys.push(subscriber.apiKey)
  }
  ledger.resetCounters()
  return { ledger, agentKey: agent.apiKey, planId, keys }
}

/** Orders the plan directly on the ledger, as a subscriber who bought it earlier would have. */
export async function order(ledger: LocalLedger, planId: string, apiKey: string): Promise<void> {
  const response = await ledger.fetch(`${ledger.baseUrl}/protocol/plans/${planId}/order`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${apiKey}` },
  })
  if (!response.ok) throw new Error(`bench setup: order answered ${response.status}`)
  await response.body?.cancel()
}
