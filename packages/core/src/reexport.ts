/**
 * What every adapter package re-exports from core, so that a user imports the gate, the errors and
 * the types from the one package they installed (`@plangate/express`, `@plangate/hono`, …). One
 * list, here: an adapter writes `export * from '@plangate/core/reexport'`, never its own copy.
 */
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
export { UsageError } from './charge'
export { createPlanGate, type PlanGate } from './gate/plan-gate'
export type { PlanBalance } from './lease'
export type { PlanGateOptions } from './options'
export type { PlanId } from './plan-id'
export type { ProblemDetails } from './problem'
export type { FixedCost, UsageCost } from './require-plan'
