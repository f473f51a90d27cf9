import { describe, expect, it } from 'vitest'
import { CredentialInvalidError, parseX402Token } from '../src/index'
import { encodeX402Header } from '../src/adapter'
import { MAX_X402_TOKEN_LENGTH } from '../src/x402/token'

// Tokens are built here from scratch (not with the library's encoder), so a bug in the
// library's base64 code cannot cancel itself out.
const encoder = new TextEncoder()
function base64(text: string): string {
  let binary = ''
  for (const byte of encoder.encode(text)) binary += String.fromCharCode(byte)
  return btoa(binary)
}
const base64url = (text: string) => base64(text).replace(/\+/g, '-').replace(/\//g, '_')
const unpadded = (text: string) => text.replace(/=+$/, '')
const fromBase64 = (text: string) => new TextDecoder().decode(Uint8Array.from(atob(text), (c) => c.charCodeAt(0)))

const FROM = '0xAbCdEf0123456789aBcDeF0123456789AbCdEf01'

/** An x402 v2 PaymentPayload as `POST /x402/permissions` issues it, with fields overridable. */
function payload(overrides: { from?: unknown; planId?: unknown; scheme?: unknown; network?: unknown; note?: string } = {}): string {
  return JSON.stringify({
    x402Version: 2,
    accepted: {
      scheme: 'scheme' in overrides ? overrides.scheme : 'nvm:erc4337',
      network: 'network' in overrides ? overrides.network : 'eip155:84532',
      planId: 'planId' in overrides ? overrides.planId : '42',
      extra: { version: '1', agentId: 'agent-1' },
    },
    payload: {
      signature: `0x${'ab'.repeat(65)}`,
      authorization: { from: 'from' in overrides ? overrides.from : FROM, sessionKeysProvider: 'test', sessionKeys: [] },
    },
    extensions: {},
    ...(overrides.note === undefined ? {} : { note: overrides.note }),
  })
}

/** Calls parse and returns the CredentialInvalidError it must throw. */
function refusal(token: string): CredentialInvalidError {
  let thrown: unknown
  try {
    parseX402Token(token)
  } catch (error) {
    thrown = error
  }
  expect(thrown).toBeInstanceOf(CredentialInvalidError)
  return thrown as CredentialInvalidError
}

/** The error message must not contain the token, nor a recognisable piece of it. */
function expectNoLeak(error: Error, token: string): void {
  expect(error.message).not.toContain(token)
  if (token.length >= 24) expect(error.message).not.toContain(token.slice(0, 24))
  expect(JSON.stringify(error)).not.toContain(token.slice(0, Math.min(24, token.length)) || '\u0000')
}

describe('parseX402Token', () => {
  it('reads holder (lower-cased), plan, scheme and network from standard base64 with padding', () => {
    // A note whose length forces padding: both '=' and '==' endings are exercised below.
    for (const note of ['', 'x', 'xy']) {
      const token = base64(payload({ note }))
      expect(parseX402Token(token)).toEqual({ holderAddress: FROM.toLowerCase(), planId: '42', scheme: 'nvm:erc4337', network: 'eip155:84532' })
    }
    expect(base64(payload({ note: 'x' })).endsWith('=') || base64(payload({ note: 'xy' })).endsWith('=')).toBe(true)
  })

  it('reads base64url, and either alphabet with the padding left off', () => {
    // '?>' and '~~' in the JSON put '/', '+' (or '_', '-') into the encoding.
    const json = payload({ note: '??>>~~~' })
    expect(base64(json)).toMatch(/[+/]/)
    for (const token of [base64url(json), unpadded(base64url(json)), unpadded(base64(json))]) {
      expect(parseX402Token(token).holderAddress).toBe(FROM.toLowerCase())
      expect(parseX402Token(token).planId).toBe('42')
    }
  })

  it('normalises the plan id (leading zeros) and leaves scheme and network undefined when absent', () => {
    const claims = parseX402Token(base64(payload({ planId: '0007', scheme: undefined, network: 42 })))
    expect(claims).toEqual({ holderAddress: FROM.toLowerCase(), planId: '7', scheme: undefined, network: undefined })
  })

  it('accepts a token of exactly the maximum length and refuses one a character longer', () => {
    const base = payload({ note: '' })
    // Grow the note until the encoding is exactly at the limit (base64 grows in steps of 4).
    const room = Math.floor(((MAX_X402_TOKEN_LENGTH - base64(base).length) * 3) / 4)
    const atLimit = unpadded(base64url(payload({ note: 'n'.repeat(room) })))
    expect(atLimit.length).toBeLessThanOrEqual(MAX_X402_TOKEN_LENGTH)
    expect(atLimit.length).toBeGreaterThan(MAX_X402_TOKEN_LENGTH - 4)
    expect(parseX402Token(atLimit).planId).toBe('42')
    const over = base64(payload({ note: 'n'.repeat(MAX_X402_TOKEN_LENGTH) }))
    const error = refusal(over)
    expect(error.message).toMatch(/longer than 16384/)
    expectNoLeak(error, over)
  })

  const bad: Array<[string, string, RegExp]> = [
    ['empty', '', /empty/],
    ['not base64 (spaces, punctuation)', 'this is not base64!', /not base64/],
    ['not base64 (a JWT-like dotted value)', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln', /not base64/],
    ['padding in the middle', `${base64('{"a":1}')}QQ==`.replace('=', 'A=') + 'A', /not base64/],
    ['base64 of text that is not JSON', base64('hello, this is plain text and not JSON at all'), /not base64-encoded JSON/],
    ['base64 of bytes that are not UTF-8', btoa(String.fromCharCode(0xff, 0xfe, 0xfd, 0x7b, 0x7d)), /not base64-encoded JSON/],
    ['JSON that is not an object', base64('"just a string"'), /not a JSON object/],
    ['JSON null', base64('null'), /not a JSON object/],
    ['no payload.authorization.from', base64(payload({ from: undefined })), /no payer address/],
    ['from is not an address (too short)', base64(payload({ from: '0x1234' })), /no payer address/],
    ['from is not an address (not hex)', base64(payload({ from: `0x${'g'.repeat(40)}` })), /no payer address/],
    ['from is not an address (no 0x)', base64(payload({ from: 'ab'.repeat(20) })), /no payer address/],
    ['from is a number', base64(payload({ from: 1234 })), /no payer address/],
    ['no accepted.planId', base64(payload({ planId: undefined })), /names no plan/],
    ['planId is a number, not a string', base64(payload({ planId: 42 })), /names no plan/],
    ['planId is not decimal', base64(payload({ planId: '0x2a' })), /names no plan/],
  ]
  it.each(bad)('refuses a token that is %s, with a CredentialInvalidError that does not repeat it', (_what, token, reason) => {
    const error = refusal(token)
    expect(error.code).toBe('CREDENTIAL_INVALID')
    expect(error.status).toBe(401)
    expect(error.message).toMatch(reason)
    expect(error.message).toMatch(/^The x402 access token \(payment-signature header\) is not valid: /)
    if (token !== '') expectNoLeak(error, token)
  })

  it('refuses a value that is not a string without throwing anything else', () => {
    for (const value of [undefined, null, 42, {}]) {
      expect(() => parseX402Token(value as unknown as string)).toThrow(CredentialInvalidError)
    }
  })

  it('never repeats a secret-looking field of the token in its message', () => {
    const secret = `0x${'5e'.repeat(20)}`
    // A valid-looking token whose plan id is missing, with a signature we can look for.
    const token = base64(JSON.stringify({ accepted: {}, payload: { signature: secret, authorization: { from: FROM } } }))
    const error = refusal(token)
    expect(error.message).not.toContain(secret)
    expect(error.message).not.toContain(FROM)
  })
})

describe('encodeX402Header', () => {
  it('is standard padded base64 of the JSON, and decodes back to the same value (unicode too)', () => {
    const values = [
      { x402Version: 2, resource: { url: '/ask?q=ünïcødé ✓' }, accepts: [{ scheme: 'nvm:erc4337', network: 'eip155:84532', planId: '1', extra: { version: '1' } }], extensions: {} },
      { success: true, transaction: '0xabc', network: 'eip155:84532', creditsRedeemed: 3, remainingBalance: 0 },
      { note: 'x' },
      { note: 'xy' },
    ]
    for (const value of values) {
      const header = encodeX402Header(value)
      expect(header).toMatch(/^[A-Za-z0-9+/]*={0,2}$/)
      expect(header.length % 4).toBe(0)
      expect(JSON.parse(fromBase64(header))).toEqual(value)
      expect(header).toBe(base64(JSON.stringify(value)))
    }
  })

  it('round-trips through parseX402Token: a token encoded as a header parses to its claims', () => {
    const value = JSON.parse(payload({ note: '✓ unicode survives' })) as unknown
    expect(parseX402Token(encodeX402Header(value))).toEqual({ holderAddress: FROM.toLowerCase(), planId: '42', scheme: 'nvm:erc4337', network: 'eip155:84532' })
  })
})
