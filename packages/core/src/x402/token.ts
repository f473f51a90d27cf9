import { decodeBase64 } from '../util/base64'
import { CredentialInvalidError } from '../errors'

/** What plangate reads from an x402 access token locally, without any network call. */
export interface X402TokenClaims {
  /** The payer: `payload.authorization.from`, lower-cased `0x` address. */
  holderAddress: string
  /** `accepted.planId`, as a decimal string. */
  planId: string
  /** `accepted.scheme`, e.g. `nvm:erc4337`. */
  scheme: string | undefined
  /** `accepted.network`, e.g. `eip155:84532`. */
  network: string | undefined
}

// Real tokens (a PaymentPayload with a session-key authorization and a signature) are a few KiB;
// a cap keeps a hostile header from costing us a big decode.
export const MAX_X402_TOKEN_LENGTH = 16 * 1024
const ADDRESS = /^0x[0-9a-fA-F]{40}$/
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/
const PLAN_ID = /^[0-9]{1,100}$/

/**
 * Reads holder and plan out of an x402 access token: base64 (or base64url) JSON of an x402 v2
 * PaymentPayload, `{ x402Version, accepted: { scheme, network, planId, … }, payload: {
 * authorization: { from, … }, signature } }`, as Nevermined's `POST /x402/permissions` issues it.
 * The signature is not checked here (the facilitator's verify does that); this only lets the
 * gate key its cache and refuse garbage before any upstream call.
 *
 * Errors never repeat the token or any part of it.
 *
 * @example parseX402Token(req.headers['payment-signature']).holderAddress // '0xabc…'
 */
export function parseX402Token(token: string): X402TokenClaims {
  if (typeof token !== 'string' || token.length === 0) throw invalid('it is empty')
  if (token.length > MAX_X402_TOKEN_LENGTH) throw invalid(`it is longer than ${MAX_X402_TOKEN_LENGTH} characters`)
  if (!BASE64.test(token)) throw invalid('it is not base64-encoded')

  let decoded: unknown
  try {
    decoded = JSON.parse(decodeBase64(token))
  } catch {
    throw invalid('it is not base64-encoded JSON')
  }
  if (typeof decoded !== 'object' || decoded === null) throw invalid('it is not a JSON object')
  const { accepted, payload } = decoded as { accepted?: Record<string, unknown>; payload?: { authorization?: Record<string, unknown> } }
  const from = payload?.authorization?.from
  if (typeof from !== 'string' || !ADDRESS.test(from)) {
    throw invalid('it has no payer address (payload.authorization.from: 0x followed by 40 hex digits)')
  }
  const planId = accepted?.planId
  if (typeof planId !== 'string' || !PLAN_ID.test(planId)) throw invalid('it names no plan (accepted.planId: decimal digits)')
  const scheme = typeof accepted?.scheme === 'string' ? accepted.scheme : undefined
  const network = typeof accepted?.network === 'string' ? accepted.network : undefined
  return { holderAddress: from.toLowerCase(), planId: planId.replace(/^0+(?=\d)/, ''), scheme, network }
}

function invalid(reason: string): CredentialInvalidError {
  return new CredentialInvalidError(`The x402 access token (payment-signature header) is not valid: ${reason}.`)
}


/**
 * Text from the facilitator (an invalid or error reason) as it may be passed on: the token, and
 * anything long enough to be a piece of one or of a key, replaced. Nothing the API says about a
 * token may carry the token itself into a response or a log line.
 */
export function redactReason(text: string, token: string | undefined): string {
  let safe = token ? text.split(token).join('[redacted]') : text
  safe = safe.replace(/[A-Za-z0-9+/_=.:-]{32,}/g, '[redacted]')
  return safe.length > 200 ? `${safe.slice(0, 200)}…` : safe
}
