/**
 * SHA-256, synchronous and Web-API-free, to fingerprint API keys. The gate remembers which keys
 * the Nevermined API has accepted by fingerprint, never by the key itself, and it needs the
 * answer on the hot path without the round trip of `crypto.subtle.digest`.
 */
import { builtinModule } from './env'

// First 32 bits of the fractional parts of the square roots (H) and cube roots (K) of the first
// primes, computed rather than transcribed; a test checks the digest against node:crypto.
const PRIMES: number[] = []
for (let n = 2; PRIMES.length < 64; n++) if (PRIMES.every((p) => n % p !== 0)) PRIMES.push(n)
const frac32 = (x: number) => ((x - Math.floor(x)) * 2 ** 32) >>> 0
const H0 = PRIMES.slice(0, 8).map((p) => frac32(Math.sqrt(p)))
const K = Int32Array.from(PRIMES.map((p) => frac32(Math.cbrt(p))))

const encoder = new TextEncoder()
const W = new Int32Array(64)
const STATE = new Int32Array(8)
const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'))
/** The padded message, reused between calls for anything key-sized. */
const KEPT_BYTES = 16 * 1024
let buffer = new Uint8Array(1024)

interface NodeCrypto {
  /** One-shot (Node ≥ 20.12): about twice as fast as createHash for a key. */
  hash?(algorithm: 'sha256', text: string, encoding: 'hex'): string
  createHash?(algorithm: 'sha256'): { update(text: string, encoding: 'utf8'): { digest(encoding: 'hex'): string } }
}

/**
 * Hex SHA-256 of the UTF-8 bytes of `text`: the runtime's native hash where it has a synchronous
 * one (Node, Bun, Deno: 2 to 5 times as fast for a key), else {@link portableSha256Hex}.
 */
export const sha256Hex: (text: string) => string = nativeSha256Hex(builtinModule<NodeCrypto>('node:crypto')) ?? portableSha256Hex

function nativeSha256Hex(crypto: NodeCrypto | undefined): ((text: string) => string) | undefined {
  const { hash, createHash } = crypto ?? {}
  if (typeof hash === 'function') return (text) => hash('sha256', text, 'hex')
  if (typeof createHash === 'function') return (text) => createHash('sha256').update(text, 'utf8').digest('hex')
  return undefined
}

/** Hex SHA-256 of the UTF-8 bytes of `text`, in plain JavaScript (workerd, browsers). */
export function portableSha256Hex(text: string): string {
  // Room for the UTF-8 bytes (at most 3 per UTF-16 unit), the 0x80, and the length.
  const needed = text.length * 3 + 72
  if (buffer.length < needed && needed <= KEPT_BYTES) buffer = new Uint8Array(needed)
  const bytes = buffer.length < needed ? new Uint8Array(needed) : buffer
  const length = encoder.encodeInto(text, bytes).written
  // Message, then 0x80, zeros, and the 64-bit big-endian bit length, in 64-byte blocks.
  const total = ((length + 9 + 63) >> 6) << 6
  bytes[length] = 0x80
  bytes.fill(0, length + 1, total - 5)
  const bits = length * 8
  bytes[total - 5] = bits / 2 ** 32 // lengths fit in 40 bits: strings are far below 2^32 bytes
  bytes[total - 4] = bits >>> 24
  bytes[total - 3] = bits >>> 16
  bytes[total - 2] = bits >>> 8
  bytes[total - 1] = bits

  STATE.set(H0)
  for (let offset = 0; offset < total; offset += 64) compress(bytes, offset)
  let out = ''
  for (let i = 0; i < 8; i++) {
    const word = STATE[i]!
    out += HEX[word >>> 24]! + HEX[(word >>> 16) & 0xff]! + HEX[(word >>> 8) & 0xff]! + HEX[word & 0xff]!
  }
  return out
}

/** One 64-byte block of `bytes` at `offset` into STATE. */
function compress(bytes: Uint8Array, offset: number): void {
  for (let i = 0, j = offset; i < 16; i++, j += 4) {
    W[i] = (bytes[j]! << 24) | (bytes[j + 1]! << 16) | (bytes[j + 2]! << 8) | bytes[j + 3]!
  }
  for (let i = 16; i < 64; i++) {
    const w15 = W[i - 15]!
    const w2 = W[i - 2]!
    const s0 = rotr(w15, 7) ^ rotr(w15, 18) ^ (w15 >>> 3)
    const s1 = rotr(w2, 17) ^ rotr(w2, 19) ^ (w2 >>> 10)
    W[i] = (W[i - 16]! + s0 + W[i - 7]! + s1) | 0
  }
  let a = STATE[0]!, b = STATE[1]!, c = STATE[2]!, d = STATE[3]!
  let e = STATE[4]!, f = STATE[5]!, g = STATE[6]!, h = STATE[7]!
  for (let i = 0; i < 64; i++) {
    const t1 = (h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[i]! + W[i]!) | 0
    const t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) | 0
    h = g
    g = f
    f = e
    e = (d + t1) | 0
    d = c
    c = b
    b = a
    a = (t1 + t2) | 0
  }
  STATE[0] = STATE[0]! + a
  STATE[1] = STATE[1]! + b
  STATE[2] = STATE[2]! + c
  STATE[3] = STATE[3]! + d
  STATE[4] = STATE[4]! + e
  STATE[5] = STATE[5]! + f
  STATE[6] = STATE[6]! + g
  STATE[7] = STATE[7]! + h
}

function rotr(x: number, n: number): number {
  return (x >>> n) | (x << (32 - n))
}
