import type { PlanGate } from '@plangate/core'
import type { PaidResource } from '@plangate/core/adapter'
import type { PaymentRequiredResult } from './denial'

/** The stable `error` of a call whose immediate settle failed: its result was withheld. */
export const SETTLEMENT_FAILED = 'SETTLEMENT_FAILED'

const DETAIL = 'The payment for this call could not be settled, so its result is withheld. Pay again to retry.'

/**
 * What replaces a result whose immediate x402 settle failed (x402's MCP transport: "the server
 * should not return the tool's content - only the payment error"): the PaymentRequired, in the
 * same shape as a denial, with `error: 'SETTLEMENT_FAILED'`. Never rejects: without an offer
 * from the gate, `accepts` is empty.
 */
export async function settlementFailed(gate: PlanGate, planId: string, resource: PaidResource): Promise<PaymentRequiredResult['structuredContent']> {
  let offer: Record<string, unknown> = {}
  try {
    if (gate.paymentRequired) offer = { ...(await gate.paymentRequired(planId, resource)) }
  } catch {
    // The offer is a courtesy; the withholding is what matters.
  }
  return { accepts: [], ...offer, x402Version: 2 as const, error: SETTLEMENT_FAILED, detail: DETAIL }
}

/** A PaymentRequired as x402's in-band tool result: `structuredContent`, and the same JSON as text. */
export function inBandResult(structuredContent: PaymentRequiredResult['structuredContent']): PaymentRequiredResult {
  return { isError: true, structuredContent, content: [{ type: 'text', text: JSON.stringify(structuredContent) }] }
}
