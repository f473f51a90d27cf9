import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createPlanGate, type PlanGate } from '@plangate/core'
import { createLocalLedger, type LocalLedger } from '@plangate/core/local'

/** What an example agent runs on: a gate, the plan it charges for, and who may call it. */
export interface AgentSetup {
  gate: PlanGate
  planId: string
  /** A subscriber key that works as printed (local ledger only). */
  subscriberKey: string | undefined
  ledger: LocalLedger | undefined
  mode: 'local ledger' | 'Nevermined API'
}

/**
 * With NVM_API_KEY set, the real Nevermined API (NVM_ENVIRONMENT, NVM_PLAN_ID). Otherwise an
 * in-process local ledger with an agent that owns a plan (3 credits for 10) and a subscriber
 * with 25 in the wallet: enough for two orders, so the third runs out.
 */
export function agentSetup(env: Record<string, string | undefined> = process.env): AgentSetup {
  if (env.NVM_API_KEY) {
    if (!env.NVM_PLAN_ID) throw new Error('Set NVM_PLAN_ID to the id of your plan to run against the Nevermined API.')
    return { gate: createPlanGate({ env }), planId: env.NVM_PLAN_ID, subscriberKey: undefined, ledger: undefined, mode: 'Nevermined API' }
  }
  const ledger = createLocalLedger()
  const agent = ledger.createAccount({ funds: 0 })
  const subscriber = ledger.createAccount({ funds: 25 })
  const planId = ledger.createPlan({ credits: 3, price: 10, owner: agent.address })
  const gate = createPlanGate({ apiKey: agent.apiKey, environment: ledger.baseUrl, fetch: ledger.fetch })
  return { gate, planId, subscriberKey: subscriber.apiKey, ledger, mode: 'local ledger' }
}

/**
 * Graceful shutdown on SIGTERM and SIGINT: stop taking requests, let those in flight finish, then
 * `gate.close()` — it redeems what is batched and waits for redemptions in flight — and exit 0.
 * On the local ledger it prints how many credits were redeemed (the ledger lives in this process).
 */
export function closeOnSignals(server: Server, setup: AgentSetup): void {
  let closing = false
  const shutdown = (signal: NodeJS.Signals) => {
    if (closing) return
    closing = true
    // Connections left open by keep-alive clients must not hold the shutdown up for long.
    setTimeout(() => server.closeAllConnections(), 5_000).unref()
    server.close(() => {
      void setup.gate.close().then(() => {
        if (setup.ledger) console.log(`plangate: ${setup.ledger.redeemed(setup.planId)} credit(s) redeemed on the local ledger; stopped on ${signal}.`)
        process.exit(0)
      })
    })
  }
  process.on('SIGINT', shutdown)
  process.on('SIGTERM', shutdown)
}

/** The port a server actually listens on (PORT=0 picks a free one). */
export function portOf(server: Server): number {
  return (server.address() as AddressInfo).port
}

/** The agent's "work": a tiny deterministic answer, so the examples need no model. */
export function answer(question: unknown): string {
  const text = typeof question === 'string' && question.trim() ? question.trim().slice(0, 200) : 'nothing'
  return `You asked about ${JSON.stringify(text)}. plangate charged one credit for this answer.`
}
