/**
 * SHA-256, synchronous and Web-API-free, to fingerprint API keys. The gate remembers which keys
 * the Nevermined API has accepted by fingerprint, never by the key itself, and it needs the
 * answer on the hot path without the round trip of `crypto.subtle.digest`.
 */

// First 32 bits of the fractional parts of the square roots (H) and cube roots (K) of the first
// primes, computed rather than transcribed; a test checks the digest against node:crypto.
const PRIMES: number[] = []
for (let n = 2; PRIMES.length < 64; n++) if (PRIMES.every((p) => n % p !== 0)) PRIMES.push(n)
const frac32 = (x: number) => ((x - Math.floor(x)) * 2 ** 32) >>> 0
const H0 = PRIMES.slice(0, 8).map((p) => frac32(Math.sqrt(p)))
const K = Uint32Array.from(PRIMES.map((p) => frac32(Math.cbrt(p))))

const encoder = new TextEncoder()
const W = new Uint32Array(64)
const STATE = new Uint32Array(8)
const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'))

/** Hex SHA-256 of the UTF-8 bytes of `text`. */
export function sha256Hex(text: string): string {
  const bytes = isAscii(text) ? undefined : encoder.encode(text)
  const length = bytes ? bytes.length : text.length
  const byteAt = bytes ? (i: number) => bytes[i]! : (i: number) => text.charCodeAt(i)
  // Message, then 0x80, zeros, and the 64-bit big-endian bit length, in 64-byte blocks.
  const blocks = (length + 9 + 63) >> 6
  const total = blocks * 64
  const bitsHigh = Math.floor(length / 2 ** 29)
  const bitsLow = (length * 8) >>> 0
  const byte = (i: number): number => {
    if (i < length) return byteAt(i)
    if (i === length) return 0x80
    if (i >= total - 4) return (bitsLow >>> ((total - 1 - i) * 8)) & 0xff
    if (i >= total - 8) return (bitsHigh >>> ((total - 5 - i) * 8)) & 0xff
    return 0
  }

  STATE.set(H0)
  for (let offset = 0; offset < total; offset += 64) {
    const fast = offset + 64 <= length
    for (let i = 0; i < 16; i++) {
      const j = offset + i * 4
      W[i] = fast
        ? ((byteAt(j) << 24) | (byteAt(j + 1) << 16) | (byteAt(j + 2) << 8) | byteAt(j + 3)) >>> 0
        : ((byte(j) << 24) | (byte(j + 1) << 16) | (byte(j + 2) << 8) | byte(j + 3)) >>> 0
    }
    compress()
  }
  let out = ''
  for (let i = 0; i < 8; i++) {
    const word = STATE[i]!
    out += HEX[word >>> 24]! + HEX[(word >>> 16) & 0xff]! + HEX[(word >>> 8) & 0xff]! + HEX[word & 0xff]!
  }
  return out
}

function compress(): void {
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

function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false
  return true
}
