import type { Seed } from './seed'

/**
 * The seed for people: who is who, and how to point a gate and a buyer at the ledger. The keys
 * are printed on purpose: they are throw-away keys of this process's ledger, worthless elsewhere.
 */
export function describeSeed(seed: Seed): string[] {
  const { baseUrl, planId, plan, builder, subscriber } = seed
  return [
    `plangate-ledger: an offline Nevermined API, in memory, at ${baseUrl}`,
    '',
    `  plan        ${planId}: ${plan.credits} credit(s) for $${plan.price} an order`,
    `  builder     ${builder.address} (owns the plan)`,
    `              ${builder.apiKey}`,
    `  subscriber  ${subscriber.address} ($${subscriber.funds} in the wallet)`,
    `              ${subscriber.apiKey}`,
    '',
    'Point a gate at it (the builder\'s key):',
    `  NVM_ENVIRONMENT=${baseUrl} NVM_API_KEY=<builder key> NVM_PLAN_ID=${planId}`,
    `  or createPlanGate({ apiKey: <builder key>, environment: '${baseUrl}' })`,
    'Buy credits as the subscriber:',
    `  curl -X POST ${baseUrl}/protocol/plans/${planId}/order -H 'Authorization: Bearer <subscriber key>'`,
    `  curl ${baseUrl}/protocol/plans/${planId}/balance/${subscriber.address} -H 'Authorization: Bearer <subscriber key>'`,
    '',
    'Everything is lost when it stops (Ctrl-C). --json prints this as one line for scripts.',
  ]
}
