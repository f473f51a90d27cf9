import { PaymentRequiredError } from '../errors'
import type { PlanGateLogger } from '../options'
import type { Payer } from '../settle/burner'
import type { PaidResource } from '../x402/payment-required'
import { describe } from './books'

/**
 * What the gate's parts pass each other about a request that could not be answered from the
 * cache at once: who pays, for which plan, and whether the API has accepted its key yet.
 */

/** A request on its way to credits (see Gate.reserveNow). */
export interface Caller {
  key: string
  plan: string
  address: string
  payer: Payer
  fingerprint: string
  verified: boolean
  resource: PaidResource
}

export const NO_RESOURCE: PaidResource = { url: '', method: '' }

/** The holder's own key, for the calls only it may make (order); x402 payers never get here. */
export function subscriberKey(who: Caller): string {
  if (who.payer.kind !== 'key') throw new PaymentRequiredError('An x402 payer cannot be ordered for with a key.')
  return who.payer.apiKey
}

/** Waits for store work; a store that fails is logged, not thrown. */
export async function quietly(logger: PlanGateLogger, work: unknown): Promise<void> {
  try {
    await work
  } catch (error) {
    logger.error(`balance store failed: ${describe(error)}`)
  }
}

/** Store work under way that close() must wait for; a failure is logged, never thrown. */
export class StoreWrites {
  readonly #writes = new Set<Promise<void>>()
  constructor(private readonly logger: PlanGateLogger) {}

  track(work: Promise<unknown>): Promise<void> {
    const tracked = quietly(this.logger, work).finally(() => this.#writes.delete(tracked))
    this.#writes.add(tracked)
    return tracked
  }

  /** Resolves once nothing is under way, writes started meanwhile included. */
  async settled(): Promise<void> {
    while (this.#writes.size > 0) await Promise.all(this.#writes)
  }
}
