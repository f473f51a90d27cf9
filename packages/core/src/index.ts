export { bearerToken, parseApiKey, type ParsedApiKey } from './api-key'
export { ENVIRONMENTS, NeverminedClient, type FetchLike, type FetchResponse, type NeverminedClientOptions, type RedeemRequest } from './client'
export { sharedGate } from './default-gate'
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
export { abortBalance, RequestBalance } from './request-balance'
export { chargeNow, endLease, UsageError, type Ending, type UsageOf } from './charge'
export type { AutoOrderOptions, PlanGateHooks, PlanGateLogger, PlanGateOptions } from './options'
export { normalizePlanId, type PlanId } from './plan-id'
export { toProblem, type Denial, type ProblemDetails } from './problem'
export {
  admit,
  commitForReceipt,
  credentialFrom,
  isServed,
  paymentResponseHeader,
  resolveRequirePlan,
  X402_HEADERS,
  type Admission,
  type ReceiptWait,
  type FixedCost,
  type RequirePlanConfig,
  type RequirePlanOptions,
  type UsageCost,
} from './require-plan'
export { encodeX402Header, paymentRequired, type PaidResource, type PaymentRequired, type PaymentScheme } from './x402/payment-required'
export { parseX402Token, type X402TokenClaims } from './x402/token'
export type { X402Options } from './options'
export type { NeverminedBalance } from './schemas'
export {
  available,
  type BalanceEntry,
  type BalanceStore,
  type CommitOutcome,
  type EntrySnapshot,
  type MaybePromise,
  type Observation,
  type OrderLock,
  type ReserveOutcome,
  type Settlement,
} from './store/balance-store'
export { MemoryBalanceStore, type MemoryStoreOptions } from './store/memory-store'
export { isOutbox, type OutboxRecord, type SettlementOutbox } from './store/outbox'
export { MemoryOutboxStore, type MemoryOutboxOptions } from './outbox/memory-outbox'
export { commitNowhere, commitTo, countOrder, newEntry, observeOn, releaseFrom, reserveFrom, settleOn, snapshotOf } from './store/entry-steps'
export {
  DEFAULT_RESERVATION_LEASE_MS,
  MAX_RESERVATION_LEASE_MS,
  resolveReservationLeaseMs,
  sweepLeases,
  type ReservationLease,
} from './store/leases'
