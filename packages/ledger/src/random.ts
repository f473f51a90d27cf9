import { bytesToBase64Url } from './base64url'

/**
 * Randomness for addresses, key ids, signatures and transaction hashes. Web Crypto only, so the
 * ledger runs unchanged on Node, workerd, Deno and Bun.
 */

/** `count` bytes from the platform's cryptographic generator. */
export function randomBytes(count: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(count))
}

/** `count` random bytes as lower-case hex (2 digits per byte). */
export function randomHex(count: number): string {
  let hex = ''
  for (const byte of randomBytes(count)) hex += byte.toString(16).padStart(2, '0')
  return hex
}

/** A random wallet address: `0x` and 20 bytes of lower-case hex. */
export function randomAddress(): string {
  return `0x${randomHex(20)}`
}

/** A random transaction hash: `0x` and 32 bytes of lower-case hex. */
export function randomTxHash(): string {
  return `0x${randomHex(32)}`
}

/** `count` random bytes as unpadded base64url (a JWT signature's alphabet). */
export function randomBase64Url(count: number): string {
  return bytesToBase64Url(randomBytes(count))
}
