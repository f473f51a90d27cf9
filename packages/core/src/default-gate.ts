import { parseApiKey } from './api-key'
import { processEnv } from './env'
import { GateMisconfiguredError } from './errors'
import { createPlanGate, type PlanGate } from './gate/plan-gate'

// One gate per agent key and environment for the whole process: two gates for one holder would
// each think the credits are theirs to hand out. Keyed by address, never by the key.
const shared = new Map<string, PlanGate>()

/**
 * The gate the adapters use when none is passed: built from `NVM_API_KEY` and `NVM_ENVIRONMENT`
 * in `env` (default `process.env`), created on first use and shared.
 *
 * @example app.use(requirePlan(7)) // uses sharedGate() under the hood
 */
export function sharedGate(env: Record<string, string | undefined> = processEnv()): PlanGate {
  const apiKey = env.NVM_API_KEY
  if (!apiKey) {
    throw new GateMisconfiguredError(
      'No payment gate: set NVM_API_KEY (and NVM_ENVIRONMENT) or pass { gate: createPlanGate(…) } to requirePlan.',
    )
  }
  let address: string
  try {
    address = parseApiKey(apiKey).address
  } catch {
    throw new GateMisconfiguredError('NVM_API_KEY is set but is not a Nevermined API key (expected nvm:<jwt>).')
  }
  const id = `${address}|${env.NVM_ENVIRONMENT ?? ''}`
  let gate = shared.get(id)
  if (!gate) {
    gate = createPlanGate({ apiKey, env })
    shared.set(id, gate)
  }
  return gate
}
