import { describe, expect, it } from 'vitest'
import { normalizePlanId } from '../src/adapter'

const UINT256_MAX = (2n ** 256n - 1n).toString() // 78 digits

function typeError(value: unknown): TypeError {
  try {
    normalizePlanId(value)
  } catch (error) {
    expect(error).toBeInstanceOf(TypeError)
    return error as TypeError
  }
  throw new Error('expected normalizePlanId to throw')
}

describe('normalizePlanId: accepted ids', () => {
  it.each([
    [0, '0'],
    [7, '7'],
    [Number.MAX_SAFE_INTEGER, '9007199254740991'],
    [0n, '0'],
    [7n, '7'],
    [2n ** 200n, '1606938044258990275541962092341162602522202993782792835301376'],
    ['7', '7'],
    ['0', '0'],
    [UINT256_MAX, UINT256_MAX],
    ['9007199254740993', '9007199254740993'], // past MAX_SAFE_INTEGER as a string: kept exactly
  ])('%s → %j', (input, expected) => {
    expect(normalizePlanId(input)).toBe(expected)
  })

  it('accepts a 78-digit uint256 id and a 100-digit one', () => {
    expect(UINT256_MAX).toHaveLength(78)
    expect(normalizePlanId(UINT256_MAX)).toBe('115792089237316195423570985008687907853269984665640564039457584007913129639935')
    expect(normalizePlanId('9'.repeat(100))).toBe('9'.repeat(100))
  })

  it.each([
    ['007', '7'],
    ['0007', '7'],
    ['000', '0'],
    ['00', '0'],
    ['0' + UINT256_MAX, UINT256_MAX],
    ['0100', '100'],
  ])('normalises leading zeros: %j → %j', (input, expected) => {
    expect(normalizePlanId(input)).toBe(expected)
  })

  it('gives one id for every spelling of one plan', () => {
    const spellings = [42, 42n, '42', '042', '0000042']
    expect(new Set(spellings.map(normalizePlanId))).toEqual(new Set(['42']))
  })
})

describe('normalizePlanId: refused ids', () => {
  it.each([
    ['7/../x', /decimal digits.*"7\/\.\.\/x"/],
    ['', /decimal digits.*""/],
    [' 7', /decimal digits.*" 7"/],
    ['7 ', /decimal digits.*"7 "/],
    ['0x7', /decimal digits.*"0x7"/],
    ['-1', /decimal digits/],
    ['1.5', /decimal digits/],
    ['1e3', /decimal digits/],
    ['+7', /decimal digits/],
    ['7\n', /decimal digits/],
    ['٧', /decimal digits/], // an Arabic-Indic digit is not an ASCII decimal digit
    ['7%2F..', /decimal digits/],
  ])('string %j → TypeError', (value, message) => {
    expect(typeError(value).message).toMatch(message)
  })

  it.each([
    [-1, /-1 is not a safe non-negative integer/],
    [1.5, /1\.5 is not a safe non-negative integer/],
    [2 ** 60, /1152921504606847000 is not a safe non-negative integer.*decimal string or a bigint/],
    [Number.MAX_SAFE_INTEGER + 1, /not a safe non-negative integer/],
    [Number.NaN, /NaN is not a safe non-negative integer/],
    [Number.POSITIVE_INFINITY, /Infinity is not a safe non-negative integer/],
    [Number.NEGATIVE_INFINITY, /-Infinity is not a safe non-negative integer/],
    [-0.5, /not a safe non-negative integer/],
  ])('number %s → TypeError', (value, message) => {
    expect(typeError(value).message).toMatch(message)
  })

  it('negative bigint → TypeError', () => {
    expect(typeError(-1n).message).toMatch(/must not be negative/)
  })

  it.each([
    [null, /got object/],
    [undefined, /got undefined/],
    [{}, /got object/],
    [[7], /got object/],
    [true, /got boolean/],
    [Symbol('7'), /got symbol/],
    [() => 7, /got function/],
  ])('%s → TypeError naming the accepted types', (value, message) => {
    const error = typeError(value)
    expect(error.message).toMatch(/must be a number, bigint or decimal string/)
    expect(error.message).toMatch(message)
  })

  it('every message starts with "plangate: planId"', () => {
    for (const value of ['x', -1, -1n, null]) expect(typeError(value).message).toMatch(/^plangate: planId /)
  })

  it('refuses a 101-digit string, saying how long it is without echoing it', () => {
    const digits = '1234567890'.repeat(10) + '1'
    const error = typeError(digits)
    expect(error.message).toMatch(/at most 100/)
    expect(error.message).toMatch(/a 101-character string/)
    expect(error.message).not.toContain(digits.slice(0, 20))
    expect(error.message.length).toBeLessThan(200)
  })

  it('does not dump a huge hostile string into the message', () => {
    const hostile = '../'.repeat(100_000)
    const error = typeError(hostile)
    expect(error.message).toContain('a 300000-character string')
    expect(error.message).not.toContain('../../')
    expect(error.message.length).toBeLessThan(200)
  })

  it('quotes a short bad string with JSON escaping, so control characters stay visible', () => {
    expect(typeError('7\r\nX-Evil: 1').message).toContain('"7\\r\\nX-Evil: 1"')
  })

  // Regression: bigint ids have the same 100-digit cap as string ids.
  it('refuses a bigint longer than 100 digits, like the same id as a string', () => {
    expect(() => normalizePlanId('1' + '0'.repeat(150))).toThrow(TypeError)
    expect(() => normalizePlanId(10n ** 150n)).toThrow(TypeError)
  })
})
