import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { portableSha256Hex, sha256Hex as nativeWhereAvailable } from '../src/fingerprint'

const reference = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex')
const utf8Length = (text: string) => new TextEncoder().encode(text).length

// sha256Hex is Node's own hash where the runtime has one: the portable one is checked just as hard.
describe.each([
  ['sha256Hex', nativeWhereAvailable],
  ['portableSha256Hex', portableSha256Hex],
])('%s', (_name, sha256Hex) => {
  it('matches the published test vectors', () => {
    expect(sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855')
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')
    expect(sha256Hex('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')).toBe(
      '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
    )
  })

  it('equals node:crypto for every ASCII length from 0 to 300', () => {
    const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:~!'
    for (let length = 0; length <= 300; length++) {
      let text = ''
      for (let i = 0; i < length; i++) text += alphabet[(i * 7 + length) % alphabet.length]
      expect(sha256Hex(text), `length ${length}`).toBe(reference(text))
    }
  })

  it('equals node:crypto around the padding boundaries (55/56/63/64/119/120/128 bytes)', () => {
    for (const length of [54, 55, 56, 57, 62, 63, 64, 65, 118, 119, 120, 121, 127, 128, 129, 183, 184]) {
      for (const fill of ['a', '\u0000', '\u007f', 'Z']) {
        const text = fill.repeat(length)
        expect(sha256Hex(text), `${length} × ${JSON.stringify(fill)}`).toBe(reference(text))
      }
    }
  })

  it.each([
    ['é', 2],
    ['ÿ', 2], // U+00FF: one char code under 0x100, two UTF-8 bytes (a Latin-1 shortcut would hash 1 byte)
    ['\u0080', 2],
    ['€', 3],
    ['😀', 4],
    ['Zoë says 👋 to 世界', 24],
  ])('hashes the UTF-8 bytes of non-ASCII text: %j', (text, bytes) => {
    expect(utf8Length(text)).toBe(bytes)
    expect(sha256Hex(text)).toBe(reference(text))
  })

  it('equals node:crypto for non-ASCII text whose UTF-8 length crosses 55/56/64', () => {
    for (const [unit, size] of [['é', 2], ['€', 3], ['😀', 4]] as const) {
      for (let count = 1; count <= 40; count++) {
        for (const tail of ['', 'a', 'ab', 'abc']) {
          const text = unit.repeat(count) + tail
          expect(utf8Length(text)).toBe(count * size + tail.length)
          expect(sha256Hex(text), `${count} × ${unit} + ${JSON.stringify(tail)}`).toBe(reference(text))
        }
      }
    }
  })

  it('hashes a lone surrogate as U+FFFD, like node:crypto', () => {
    for (const text of ['\ud800', 'a\udc00b', '😀'.slice(0, 1)]) expect(sha256Hex(text)).toBe(reference(text))
  })

  it('equals node:crypto for long input (1 MB) and for a key-shaped string', () => {
    const long = 'nvm:' + 'x'.repeat(1_000_000)
    expect(sha256Hex(long)).toBe(reference(long))
    const key = 'nvm:eyJhbGciOiJFUzI1NksifQ.eyJzdWIiOiIweGFiYWJhYmFiYWJhYmFiYWJhYmFiYWJhYmFiYWJhYmFiYWJhYmFiYWIifQ.c2ln'
    expect(sha256Hex(key)).toBe(reference(key))
  })

  it('is stateless between calls: the same input gives the same digest after other inputs', () => {
    const first = sha256Hex('alpha')
    sha256Hex('é'.repeat(100))
    sha256Hex('')
    expect(sha256Hex('alpha')).toBe(first)
    expect(first).toBe(reference('alpha'))
    expect(first).toMatch(/^[0-9a-f]{64}$/)
  })
})
