import { decodeBase64 } from './util/base64'
import { CredentialInvalidError } from './errors'

/** What plangate learns from an API key without any network call. */
export interface ParsedApiKey {
  /** The key's holder: the JWT payload's `sub`, lower-cased `0x` address. */
  address: string
  /** The prefix before the JWT (`nvm`, `sandbox`, `live`, …), if any. */
  prefix: string | undefined
}

const ADDRESS = /^0x[0-9a-fA-F]{40}$/
const PREFIX = /^[a-z][a-z0-9-]{0,31}$/
const BASE64URL = /^[A-Za-z0-9_-]+$/
// Real keys are well under 2 KiB; a cap keeps a hostile header from costing us a big decode.
const MAX_KEY_LENGTH = 8192

/**
 * Reads the holder address out of a Nevermined API key: `nvm:<jwt>`, `<environment>:<jwt>` or a
 * bare JWT. The signature is not checked here (the Nevermined API checks it); this only lets the
 * gate key its cache by address and refuse garbage before any upstream call.
 *
 * Errors never repeat the key or any part of it.
 *
 * @example parseApiKey('nvm:eyJhbGciOi...').address // '0xabc…'
 */
export function parseApiKey(apiKey: string): ParsedApiKey {
  if (typeof apiKey !== 'string' || apiKey.length === 0) throw invalid('the key is empty')
  if (apiKey.length > MAX_KEY_LENGTH) throw invalid(`the key is longer than ${MAX_KEY_LENGTH} characters`)

  let prefix: string | undefined
  let jwt = apiKey
  const colon = apiKey.indexOf(':')
  if (colon !== -1) {
    prefix = apiKey.slice(0, colon)
    jwt = apiKey.slice(colon + 1)
    if (!PREFIX.test(prefix)) throw invalid('the key prefix (before ":") is not an environment name such as nvm, sandbox or live')
  }

  const parts = jwt.split('.')
  if (parts.length !== 3 || !parts.every((part) => part.length > 0 && BASE64URL.test(part))) {
    throw invalid('the key is not a JWT (three base64url parts separated by dots)')
  }

  let payload: unknown
  try {
    payload = JSON.parse(decodeBase64(parts[1]!))
  } catch {
    throw invalid('the key payload is not base64url-encoded JSON')
  }
  const sub = typeof payload === 'object' && payload !== null ? (payload as { sub?: unknown }).sub : undefined
  if (typeof sub !== 'string' || !ADDRESS.test(sub)) {
    throw invalid('the key payload has no "sub" holder address (0x followed by 40 hex digits)')
  }
  return { address: sub.toLowerCase(), prefix }
}

/** The token of an `Authorization: Bearer <token>` header, or undefined when there is none. */
export function bearerToken(authorization: string | null | undefined): string | undefined {
  if (!authorization) return undefined
  // A character loop was tried for the usual "Bearer <key>": twice as slow as this on a key.
  const match = /^\s*Bearer\s+(\S+)\s*$/i.exec(authorization)
  return match ? match[1] : undefined
}

function invalid(reason: string): CredentialInvalidError {
  return new CredentialInvalidError(`The API key is not a valid Nevermined key: ${reason}.`)
}
