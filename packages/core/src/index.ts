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
// The gate, the errors and the types every adapter also hands its users: one list.
export * from './reexport'
export type { Credential, Lease, SettlementReceipt } from './lease'
export type { AutoOrderOptions, PlanGateHooks, PlanGateLogger, X402Options } from './options'
export type { PaymentRequired, PaymentScheme } from './x402/payment-required'
export { parseX402Token, type X402TokenClaims } from './x402/token'
export type { NeverminedBalance } from './schemas'
export type { BalanceStore } from './store/balance-store'
export { MemoryBalanceStore, type MemoryStoreOptions } from './store/memory-store'
