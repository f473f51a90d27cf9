import { parseX402Token, type Credential } from '@plangate/core'
import { credentialFrom, headerValue } from '@plangate/core/adapter'
import { PAYMENT_META, tokenFromMeta } from './x402-meta'

/** What a tool handler's `extra` says of the caller, as far as paying goes. */
export interface CallerExtra {
  _meta?: Record<string, unknown>
  authInfo?: { token?: string }
  requestInfo?: { headers?: Record<string, string | string[] | undefined> }
}

/**
 * Who pays for a call, in this order: `_meta["x402/payment"]` (x402's MCP transport), the HTTP
 * request's `payment-signature` header, its `Authorization: Bearer` (an API key or an x402
 * token), and `extra.authInfo.token` (the SDK's bearer-auth middleware ran).
 *
 * @example
 * credentialOf({ requestInfo: { headers: { authorization: 'Bearer nvm:eyJ…' } } }) // 'nvm:eyJ…'
 */
export function credentialOf(extra: CallerExtra | undefined): Credential | undefined {
  const fromMeta = tokenFromMeta(extra?._meta?.[PAYMENT_META])
  if (fromMeta !== undefined) return { x402Token: fromMeta }
  const headers = extra?.requestInfo?.headers
  const fromHeaders = credentialFrom(headerValue(headers?.authorization), headerValue(headers?.['payment-signature']))
  if (fromHeaders !== undefined) return bearer(fromHeaders)
  const token = extra?.authInfo?.token
  return typeof token === 'string' && token !== '' ? bearer(token) : undefined
}

/**
 * A bearer token as what it is: an API key is a JWT (dotted), so a dotless token that reads as
 * an x402 PaymentPayload pays as one. Anything else stays a key, for the gate to judge (and
 * refuse with the key's own message).
 */
function bearer(credential: Credential): Credential {
  if (typeof credential !== 'string' || credential.includes('.')) return credential
  try {
    parseX402Token(credential)
    return { x402Token: credential }
  } catch {
    return credential
  }
}
