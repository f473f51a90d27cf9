/** base64 for keys, tokens and x402 headers, with Web APIs only (atob, btoa, TextEncoder). */

/** base64 or base64url, padded or not, to UTF-8 text; throws on anything else. */
export function decodeBase64(text: string): string {
  const base64 = text.replace(/=+$/, '').replace(/-/g, '+').replace(/_/g, '/')
  const binary = atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4))
  const bytes = new Uint8Array(binary.length)
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i)
  return new TextDecoder('utf-8', { fatal: true }).decode(bytes)
}

/** UTF-8 text to standard, padded base64: how x402 headers carry JSON. */
export function encodeBase64(text: string): string {
  const bytes = new TextEncoder().encode(text)
  let binary = ''
  for (const byte of bytes) binary += String.fromCharCode(byte)
  return btoa(binary)
}
