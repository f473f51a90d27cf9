/**
 * `@plangate/core`: the gate and what a user of it meets (README, docs/reference/). Adapter
 * authors: `@plangate/core/adapter`; store authors: `@plangate/core/store` and
 * `@plangate/core/testing`; the offline Nevermined: `@plangate/core/local`.
 *
 * @example
 * ```ts
 * import { createPlanGate } from '@plangate/core'
 * const gate = createPlanGate({ apiKey: process.env.NVM_API_KEY })
 * const lease = await gate.reserve(7, callerKey, 1)
 * await lease.commit()
 * ```
 */
export { ENVIRONMENTS, NeverminedClient, type FetchLike, type FetchResponse, type NeverminedClientOptions, type RedeemRequest } from './client'
export {
  CostInvalidError,
  CredentialInvalidError,
  CredentialMissingError,
  GateMisconfiguredError,
  isPlanGateError,
  PaymentRequiredError,
  PlanGateError,
  PlanNotFoundError,
  StoreUnavailableError,
  UpstreamUnavailableError,
  type PlanGateErrorCode,
} from './errors'
export { createPlanGate, type PlanGate } from './gate/plan-gate'
export type { Credential, Lease, PlanBalance, SettlementReceipt } from './lease'
export { UsageError } from './charge'
export type { AutoOrderOptions, PlanGateHooks, PlanGateLogger, PlanGateOptions, X402Options } from './options'
export type { PlanId } from './plan-id'
export type { ProblemDetails } from './problem'
export type { FixedCost, UsageCost } from './require-plan'
export type { PaymentRequired, PaymentScheme } from './x402/payment-required'
export { parseX402Token, type X402TokenClaims } from './x402/token'
export type { NeverminedBalance } from './schemas'
export type { BalanceStore } from './store/balance-store'
export { MemoryBalanceStore, type MemoryStoreOptions } from './store/memory-store'
