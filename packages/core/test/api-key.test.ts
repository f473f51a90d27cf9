import { describe, expect, it } from 'vitest'
import { CredentialInvalidError } from '../src/index'
import { bearerToken, parseApiKey } from '../src/adapter'

// Keys are built here from scratch (not with the library's own encoder) so a bug in the
// library's base64url code cannot cancel itself out.
const encoder = new TextEncoder()
function b64urlBytes(bytes: Uint8Array): string {
  let binary = ''
  for (const byte of bytes) binary += String.fromCharCode(byte)
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}
const b64url = (text: string) => b64urlBytes(encoder.encode(text))

const HEADER = b64url('{"alg":"ES256K","typ":"JWT"}')
const SIGNATURE = 'c2lnbmF0dXJlLW5vdC1jaGVja2VkLWxvY2FsbHk'
const ADDRESS = '0x' + 'aB'.repeat(20)
const jwtFor = (payload: unknown) => `${HEADER}.${b64url(JSON.stringify(payload))}.${SIGNATURE}`
const JWT = jwtFor({ iss: 'did:nv:issuer', sub: ADDRESS, iat: 1_700_000_000 })

/** Every string the error could carry: message, stack, cause, and its JSON form. */
function leakSurface(error: unknown): string {
  const e = error as Error & { cause?: unknown }
  return [e.message, e.stack, String(e.cause ?? ''), (e.cause as Error | undefined)?.message ?? '', JSON.stringify(e)].join('\n')
}

function rejection(key: string): CredentialInvalidError {
  try {
    parseApiKey(key)
  } catch (error) {
    return error as CredentialInvalidError
  }
  throw new Error(`expected parseApiKey to reject a ${key.length}-character key`)
}

describe('parseApiKey: accepted keys', () => {
  it.each([
    ['nvm', `nvm:${JWT}`],
    ['sandbox', `sandbox:${JWT}`],
    ['live', `live:${JWT}`],
  ])('reads the address of a %s: key, lower-cased, with its prefix', (prefix, key) => {
    expect(parseApiKey(key)).toEqual({ address: ADDRESS.toLowerCase(), prefix })
  })

  it('reads a bare JWT, with no prefix', () => {
    const parsed = parseApiKey(JWT)
    expect(parsed).toEqual({ address: '0x' + 'ab'.repeat(20), prefix: undefined })
    expect('prefix' in parsed).toBe(true)
  })

  it('decodes payloads whose base64url uses - and _ and needs padding', () => {
    // '?>' and '~~' encode to base64 with '/' and '+': their base64url forms hold '_' and '-'.
    for (const filler of ['?>', '~~~', '??>>', 'ÿþ']) {
      const payload = { note: filler.repeat(7), sub: ADDRESS }
      const part = b64url(JSON.stringify(payload))
      expect(part).toMatch(/^[A-Za-z0-9_-]+$/)
      expect(parseApiKey(`nvm:${HEADER}.${part}.${SIGNATURE}`).address).toBe(ADDRESS.toLowerCase())
    }
    expect(b64url(JSON.stringify({ note: '?>'.repeat(7) }))).toMatch(/[_-]/)
  })

  it('accepts a payload with non-ASCII UTF-8 text', () => {
    expect(parseApiKey(`nvm:${jwtFor({ name: 'Zoë 😀', sub: ADDRESS })}`).address).toBe(ADDRESS.toLowerCase())
  })

  it('accepts a key of exactly 8192 characters and refuses 8193', () => {
    const base = `nvm:${HEADER}.${b64url(JSON.stringify({ sub: ADDRESS }))}.`
    const max = base + 'A'.repeat(8192 - base.length)
    expect(max).toHaveLength(8192)
    expect(parseApiKey(max).address).toBe(ADDRESS.toLowerCase())
    const error = rejection(max + 'A')
    expect(error).toBeInstanceOf(CredentialInvalidError)
    expect(error.message).toMatch(/longer than 8192/)
  })
})

describe('parseApiKey: refused keys', () => {
  const payloadOf = (text: string) => `${HEADER}.${b64url(text)}.${SIGNATURE}`
  const cases: Array<[string, string, RegExp]> = [
    ['empty', '', /empty/],
    ['over 8192 characters', `nvm:${JWT}.` + 'x'.repeat(8192), /longer than 8192/],
    ['an upper-case prefix', `NVM:${JWT}`, /prefix/],
    ['an empty prefix', `:${JWT}`, /prefix/],
    ['a prefix starting with a digit', `1nvm:${JWT}`, /prefix/],
    ['a prefix with a space', `my env:${JWT}`, /prefix/],
    ['a 33-character prefix', `${'a'.repeat(33)}:${JWT}`, /prefix/],
    ['two parts', `nvm:${HEADER}.${b64url(JSON.stringify({ sub: ADDRESS }))}`, /not a JWT/],
    ['four parts', `nvm:${JWT}.${SIGNATURE}`, /not a JWT/],
    ['an empty signature', `nvm:${HEADER}.${b64url(JSON.stringify({ sub: ADDRESS }))}.`, /not a JWT/],
    ['an empty header', `nvm:.${b64url(JSON.stringify({ sub: ADDRESS }))}.${SIGNATURE}`, /not a JWT/],
    ['a "+" (base64, not base64url)', `nvm:${HEADER}.${b64url(JSON.stringify({ sub: ADDRESS }))}.ab+c`, /not a JWT/],
    ['a "/" in the payload', `nvm:${HEADER}.eyJz/WIiOiIw.${SIGNATURE}`, /not a JWT/],
    ['"=" padding', `nvm:${HEADER}.${b64url(JSON.stringify({ sub: ADDRESS }))}=.${SIGNATURE}`, /not a JWT/],
    ['a space inside', `nvm:${HEADER}.${b64url(JSON.stringify({ sub: ADDRESS }))} .${SIGNATURE}`, /not a JWT/],
    ['a second colon', `nvm:live:${JWT}`, /not a JWT/],
    ['a payload of impossible base64 length', `nvm:${HEADER}.eyJzd.${SIGNATURE}`, /not base64url-encoded JSON/],
    ['a payload that is not JSON', `nvm:${payloadOf('sub=0xabc; definitely not json')}`, /not base64url-encoded JSON/],
    ['truncated JSON', `nvm:${payloadOf(`{"sub":"${ADDRESS}"`)}`, /not base64url-encoded JSON/],
    ['JSON without sub', `nvm:${jwtFor({ iss: 'x', subject: ADDRESS })}`, /"sub"/],
    ['JSON null', `nvm:${payloadOf('null')}`, /"sub"/],
    ['a JSON array', `nvm:${payloadOf(`["${ADDRESS}"]`)}`, /"sub"/],
    ['a JSON string of an address', `nvm:${payloadOf(`"${ADDRESS}"`)}`, /"sub"/],
    ['sub not an address', `nvm:${jwtFor({ sub: 'bob' })}`, /"sub"/],
    ['sub without 0x', `nvm:${jwtFor({ sub: 'ab'.repeat(20) })}`, /"sub"/],
    ['sub with 39 hex digits', `nvm:${jwtFor({ sub: '0x' + 'a'.repeat(39) })}`, /"sub"/],
    ['sub with 41 hex digits', `nvm:${jwtFor({ sub: '0x' + 'a'.repeat(41) })}`, /"sub"/],
    ['sub with a non-hex digit', `nvm:${jwtFor({ sub: '0x' + 'a'.repeat(39) + 'g' })}`, /"sub"/],
    ['sub with a trailing newline', `nvm:${jwtFor({ sub: ADDRESS + '\n' })}`, /"sub"/],
    ['sub as a number', `nvm:${jwtFor({ sub: 0x1234 })}`, /"sub"/],
    ['sub as an object', `nvm:${jwtFor({ sub: { address: ADDRESS } })}`, /"sub"/],
  ]

  it.each(cases)('refuses %s with a 401 CredentialInvalidError', (_name, key, reason) => {
    const error = rejection(key)
    expect(error).toBeInstanceOf(CredentialInvalidError)
    expect(error).toMatchObject({ code: 'CREDENTIAL_INVALID', status: 401 })
    expect(error.message).toMatch(/^The API key is not a valid Nevermined key: /)
    expect(error.message).toMatch(reason)
  })

  it('refuses a payload whose bytes are not UTF-8, even where a lenient decoder would find the address', () => {
    // {"sub":"0x…","n":"<0xff 0xfe>"}: with U+FFFD substitution this would be valid JSON with a valid sub.
    const json = encoder.encode(`{"sub":"${ADDRESS}","n":"`)
    const bytes = new Uint8Array([...json, 0xff, 0xfe, 0x22, 0x7d])
    const key = `nvm:${HEADER}.${b64urlBytes(bytes)}.${SIGNATURE}`
    const error = rejection(key)
    expect(error).toBeInstanceOf(CredentialInvalidError)
    expect(error.message).toMatch(/not base64url-encoded JSON/)
    // A Latin-1 reading of the same bytes is not accepted either: a lone 0xE9 is invalid UTF-8.
    const latin1 = new Uint8Array([...encoder.encode(`{"n":"caf`), 0xe9, ...encoder.encode(`","sub":"${ADDRESS}"}`)])
    expect(rejection(`nvm:${HEADER}.${b64urlBytes(latin1)}.${SIGNATURE}`).message).toMatch(/not base64url-encoded JSON/)
  })

  it('refuses non-string input without throwing a TypeError of its own', () => {
    for (const value of [undefined, null, 42, {}]) {
      expect(() => parseApiKey(value as never)).toThrow(CredentialInvalidError)
    }
  })

  it('never repeats the key or any part of it in the error', () => {
    const secretHeader = b64url('{"alg":"HS256","kid":"secret-kid-1234567890"}')
    const secretSig = 'U2VjcmV0U2lnbmF0dXJlVmFsdWUtOTg3NjU0MzIx'
    const keys = [
      ...cases.map(([, key]) => key),
      // Every rejection shape again, with distinctive parts to look for.
      `nvm:${secretHeader}.${b64url('{"sub":"not-an-address-but-secret"}')}.${secretSig}`,
      `nvm:${secretHeader}.${b64url('this-is-not-json-and-is-secret')}.${secretSig}`,
      `nvm:${secretHeader}.${b64url(`{"sub":"${ADDRESS}"`)}.${secretSig}`,
      `nvm:${secretHeader}.${b64url(`{"sub":"${ADDRESS}"}`)}.${secretSig}.${secretSig}`,
      `nvm:${secretHeader}.${b64url(`{"sub":"${ADDRESS}"}`)}.${secretSig}+`,
      `LIVE:${secretHeader}.${b64url(`{"sub":"${ADDRESS}"}`)}.${secretSig}`,
      `nvm:${secretHeader}.${secretSig}`,
    ]
    for (const key of keys) {
      const surface = leakSurface(rejection(key))
      const jwt = key.slice(key.indexOf(':') + 1)
      const fragments = [key, jwt, ...jwt.split('.')].filter((part) => part.length >= 8)
      for (const part of jwt.split('.')) {
        // The decoded payload text, where there is one.
        try {
          const decoded = new TextDecoder().decode(Uint8Array.from(atob(part.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0)))
          if (decoded.length >= 8) fragments.push(decoded)
        } catch {
          // not base64
        }
      }
      for (const fragment of fragments) expect(surface).not.toContain(fragment)
      expect(surface).not.toContain('secret')
    }
  })
})

describe('bearerToken', () => {
  const key = `nvm:${JWT}`
  it.each([
    [`Bearer ${key}`, key],
    [`bearer ${key}`, key],
    [`BEARER ${key}`, key],
    [`BeArEr ${key}`, key],
    [`Bearer    ${key}`, key],
    [`  Bearer ${key}  `, key],
    [`Bearer\t${key}`, key],
    [`\tBearer ${key}\r\n`, key],
    ['Bearer abc', 'abc'],
  ])('reads %j', (header, token) => {
    expect(bearerToken(header)).toBe(token)
  })

  it.each([
    [undefined],
    [null],
    [''],
    ['   '],
    ['Bearer'],
    ['Bearer '],
    ['Bearer    '],
    [`Basic ${btoa('user:pass')}`],
    [`Token ${key}`],
    [`Bearer${key}`],
    [key],
    [`Bearer ${key} ${key}`],
    ['Bearer one two'],
    [`Bearer ${key}, Bearer ${key}`],
    [`Basic abc Bearer ${key}`],
  ])('finds no token in %j', (header) => {
    expect(bearerToken(header)).toBeUndefined()
  })
})
