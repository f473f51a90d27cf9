import { encodeX402Header } from '@plangate/core/adapter'

/**
 * The x402 MCP transport's `_meta` fields (coinbase/x402 specs/transports-v2/mcp.md): a client
 * pays with `_meta["x402/payment"]` on its request, and a paid result carries the settle's
 * receipt in `_meta["x402/payment-response"]`. On HTTP the same objects travel base64-encoded in
 * the `payment-signature` and `payment-response` headers; plangate's gate speaks the header form.
 */
export const PAYMENT_META = 'x402/payment'
export const PAYMENT_RESPONSE_META = 'x402/payment-response'

/** A `payment-signature`-style token from `_meta["x402/payment"]`: a string as it is, an object base64-encoded JSON. */
export function tokenFromMeta(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim() === '' ? undefined : value.trim()
  if (typeof value !== 'object' || value === null) return undefined
  return encodeX402Header(value)
}

/** The object in a base64 JSON header value (a `payment-required` or `payment-response`), or undefined. */
export function fromHeaderValue(value: string | undefined): Record<string, unknown> | undefined {
  if (value === undefined) return undefined
  try {
    const bytes = Uint8Array.from(atob(value), (c) => c.charCodeAt(0))
    const parsed: unknown = JSON.parse(new TextDecoder().decode(bytes))
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}
