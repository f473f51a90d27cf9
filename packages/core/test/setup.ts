import { createPlanGate, type PlanGateLogger, type PlanGateOptions } from '../src/index'
import { createLocalLedger, type LocalLedger } from '../src/local/index'

export interface RecordingLogger extends PlanGateLogger {
  lines: string[]
}

export function recordingLogger(): RecordingLogger {
  const lines: string[] = []
  return { lines, warn: (m) => void lines.push(`warn ${m}`), error: (m) => void lines.push(`error ${m}`) }
}

/** A ledger with an owner, one subscriber and one plan, and a gate wired to it. */
export function setup(
  plan: { credits?: number; price?: number; durationSeconds?: number } = {},
  gateOptions: Partial<PlanGateOptions> = {},
  opts: { funds?: number; ledger?: LocalLedger } = {},
) {
  const ledger = opts.ledger ?? createLocalLedger()
  const owner = ledger.createAccount({ funds: 0 })
  const alice = ledger.createAccount({ funds: opts.funds ?? 100 })
  const planId = ledger.createPlan({ credits: plan.credits ?? 5, price: plan.price ?? 10, owner: owner.address, durationSeconds: plan.durationSeconds })
  const logger = recordingLogger()
  const gate = createPlanGate({ apiKey: owner.apiKey, environment: ledger.baseUrl, fetch: ledger.fetch, logger, ...gateOptions })
  return { ledger, owner, alice, planId, gate, logger }
}

/** Reserve and commit one request; resolves with the lease's balance or the error's code. */
export async function spend(gate: ReturnType<typeof setup>['gate'], planId: string, apiKey: string | undefined, cost = 1) {
  try {
    const lease = await gate.reserve(planId, apiKey, cost)
    lease.commit()
    return { ok: true as const, remaining: lease.balance.remaining }
  } catch (error) {
    return { ok: false as const, code: (error as { code?: string }).code, error }
  }
}
