/** base64 for keys, tokens, x402 headers and sealed records, with Web APIs only (atob, btoa, TextEncoder). */

/** Bytes to standard, padded base64. */
export function bytesToBase64(bytes: Uint8Array): string {
  let binary = ''
  for (const byte of bytes) binary += String.fromCharCode(byte)
  return btoa(binary)
}

/** Standard, padded base64 to bytes; throws on anything else. */
export function base64ToBytes(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text)
  const bytes = new Uint8Array(new ArrayBuffer(binary.length))
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i)
  return bytes
}

/** base64 or base64url, padded or not, to UTF-8 text; throws on anything else. */
export function decodeBase64(text: string): string {
  const base64 = text.replace(/=+$/, '').replace(/-/g, '+').replace(/_/g, '/')
  const bytes = base64ToBytes(base64 + '='.repeat((4 - (base64.length % 4)) % 4))
  return new TextDecoder('utf-8', { fatal: true }).decode(bytes)
}

/** UTF-8 text to standard, padded base64: how x402 headers carry JSON. */
export function encodeBase64(text: string): string {
  return bytesToBase64(new TextEncoder().encode(text))
}
