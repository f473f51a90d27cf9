/**
 * Unpadded base64url (RFC 4648 §5), the alphabet of JWT parts: how the ledger mints API keys and
 * x402 tokens in the real formats. Encoding only, with Web APIs only (btoa, TextEncoder).
 */

/** Bytes to unpadded base64url. */
export function bytesToBase64Url(bytes: Uint8Array): string {
  let binary = ''
  for (const byte of bytes) binary += String.fromCharCode(byte)
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

/** UTF-8 text to unpadded base64url. @example encodeBase64Url('{"alg":"ES256K"}') // 'eyJhbGciOiJFUzI1NksifQ' */
export function encodeBase64Url(text: string): string {
  return bytesToBase64Url(new TextEncoder().encode(text))
}
