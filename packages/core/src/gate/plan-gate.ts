import type { Credential, Lease } from '../lease'
import { resolveGateConfig, type PlanGateOptions } from '../options'
import type { PlanId } from '../plan-id'
import type { BalanceStore } from '../store/balance-store'
import type { PaidResource, PaymentRequired } from '../x402/payment-required'
import { Gate } from './gate'

/**
 * Spends plan credits per request. Framework-free: the adapters call `reserve` and then one of
 * `commit` or `release` on the lease it returns.
 */
export interface PlanGate {
  /**
   * Hold `cost` credits of `planId` for the holder of `credential` (an API key, or `{ x402Token }`),
   * reading the balance or ordering the plan when needed. `resource` is the request being paid
   * for (what settle and any 402 name). Rejects with a `PlanGateError` (401, 402, 500 or 503).
   */
  reserve(planId: PlanId, credential: Credential | undefined, cost?: number, resource?: PaidResource): Promise<Lease>
  /**
   * `reserve` for adapters: the lease itself when the cached balance answers at once (a warm
   * request), else what `reserve` returns. Throws where `reserve` would reject with a bad cost or
   * no key. Optional, so a wrapper around a gate may leave it out (adapters then use `reserve`).
   */
  reserveNow?(planId: PlanId, credential: Credential | undefined, cost?: number, resource?: PaidResource): Lease | Promise<Lease>
  /**
   * The x402 PaymentRequired for a request: what a 402 sends as `payment-required`. Optional,
   * so a wrapper around a gate may leave it out (its 402s then carry only the problem body).
   */
  paymentRequired?(planId: PlanId, resource: PaidResource, options?: { lookup?: boolean }): Promise<PaymentRequired>
  /** Whether a lease's `commit()` burns at once, so an adapter can wait for its receipt. */
  readonly settlesImmediately?: boolean
  /**
   * Whether what a lease commits outlives this process only once it is in the store (a shared
   * store's outbox: another process settles it if this one dies): an adapter then holds a 2xx
   * answer until `lease.stored()` resolves, so no client is served credits the store never saw.
   */
  readonly recordsServed?: boolean
  /**
   * Wait (at most `timeoutMs`) for leases still open to be committed or released, redeem
   * everything gathered, wait for redemptions in flight, stop timers.
   */
  close(): Promise<void>
  readonly store: BalanceStore
}

/**
 * @example
 * const gate = createPlanGate({ apiKey: process.env.NVM_API_KEY, environment: 'sandbox' })
 * const lease = await gate.reserve(7, subscriberKey, 1)
 * try { serve(); lease.commit() } catch { lease.release() }
 */
export function createPlanGate(options: Partial<PlanGateOptions> = {}): PlanGate {
  return new Gate(resolveGateConfig(options))
}
