import { X402_HEADERS, type Denial } from '@plangate/core/adapter'
import { fromHeaderValue } from './x402-meta'

/** A tool call that is not paid for, as x402's MCP transport answers it: in band, never thrown. */
export interface PaymentRequiredResult {
  [key: string]: unknown
  isError: true
  /** The x402 PaymentRequired (x402Version 2, `accepts` from the gate), with `error` the problem's stable code. */
  structuredContent: Record<string, unknown> & { x402Version: 2; error: string }
  content: Array<{ type: 'text'; text: string }>
}

/**
 * The in-band result for a denial: the gate's offer (the `payment-required` it would send on
 * HTTP) when it has one, else just what went wrong, with the problem's stable `code` as `error`
 * (CREDENTIAL_MISSING, CREDENTIAL_INVALID, PAYMENT_REQUIRED, UPSTREAM_UNAVAILABLE, …) and its
 * `detail`, which never holds a key or a stack.
 */
export function paymentRequiredResult(denial: Denial): PaymentRequiredResult {
  const offer = fromHeaderValue(denial.headers[X402_HEADERS.paymentRequired])
  const structuredContent = { accepts: [], ...offer, x402Version: 2 as const, error: denial.body.code, detail: denial.body.detail }
  return { isError: true, structuredContent, content: [{ type: 'text', text: JSON.stringify(structuredContent) }] }
}
