import { afterEach, describe, expect, it, vi } from 'vitest'
import { parseApiKey } from '../../src/api-key'
import { createLocalLedger } from '../../src/local'
import { base64UrlBytes, base64UrlJson, START, setup } from './helpers'

describe('local ledger accounts', () => {
  afterEach(() => vi.useRealTimers())

  it('issues keys in the real nvm:<jwt> format whose sub is the account address', () => {
    const { ledger } = setup()
    const account = ledger.createAccount()

    expect(account.address).toMatch(/^0x[0-9a-f]{40}$/)
    expect(parseApiKey(account.apiKey)).toEqual({ address: account.address, prefix: 'nvm' })

    const [header, payload, signature] = account.apiKey.slice('nvm:'.length).split('.')
    expect(base64UrlJson(header!)).toEqual({ alg: 'ES256K', typ: 'JWT' })
    expect(base64UrlJson(payload!)).toEqual({
      sub: account.address,
      iss: 'plangate-local-ledger',
      iat: Math.floor(START / 1000),
      jti: expect.stringMatching(/^[0-9a-f]{32}$/),
    })
    // An ES256K signature's size: r‖s, 32 bytes each.
    expect(signature).toMatch(/^[A-Za-z0-9_-]+$/)
    expect(base64UrlBytes(signature!)).toHaveLength(64)
  })

  it('gives every account its own random address and key', () => {
    const { ledger } = setup()
    const accounts = Array.from({ length: 20 }, () => ledger.createAccount())
    expect(new Set(accounts.map((a) => a.address)).size).toBe(20)
    expect(new Set(accounts.map((a) => a.apiKey)).size).toBe(20)
  })

  it('uses a given address (lower-cased) and can issue a second key for one wallet', () => {
    const { ledger } = setup()
    const address = '0x' + 'AbCdEf0123'.repeat(4)
    const first = ledger.createAccount({ address, funds: 5 })
    const second = ledger.createAccount({ address, funds: 7 })

    expect(first.address).toBe(address.toLowerCase())
    expect(parseApiKey(second.apiKey).address).toBe(address.toLowerCase())
    expect(second.apiKey).not.toBe(first.apiKey)
    expect(ledger.wallet(address)).toBe(12)
  })

  it.each([
    ['a short address', { address: '0x1234' }],
    ['an address without 0x', { address: 'ab'.repeat(20) }],
    ['negative funds', { funds: -1 }],
    ['funds that are not a number', { funds: '5' as unknown as number }],
    ['infinite funds', { funds: Infinity }],
  ])('refuses %s with a TypeError', (_, options) => {
    const { ledger } = setup()
    expect(() => ledger.createAccount(options)).toThrow(TypeError)
  })

  it('keeps wallets: default 0, fund adds, unknown addresses hold 0', () => {
    const { ledger, alice } = setup()
    const bob = ledger.createAccount()
    expect(ledger.wallet(bob.address)).toBe(0)
    ledger.fund(bob.address, 3)
    ledger.fund(bob.address.toUpperCase().replace('0X', '0x'), 4)
    expect(ledger.wallet(bob.address)).toBe(7)
    expect(ledger.wallet(alice.address)).toBe(25)
    expect(ledger.wallet('0x' + '0'.repeat(40))).toBe(0)
    expect(() => ledger.fund(bob.address, -1)).toThrow(TypeError)
    expect(() => ledger.fund('bob', 1)).toThrow(TypeError)
    expect(() => ledger.wallet('bob')).toThrow(TypeError)
  })
})

describe('local ledger plans', () => {
  it("numbers plans '1', '2', … as strings", () => {
    const ledger = createLocalLedger()
    const owner = ledger.createAccount()
    expect(ledger.createPlan({ credits: 1, price: 1, owner: owner.address })).toBe('1')
    expect(ledger.createPlan({ credits: 5, price: 0, owner: owner.address, durationSeconds: 60 })).toBe('2')
  })

  it.each([
    ['zero credits', { credits: 0 }],
    ['fractional credits', { credits: 1.5 }],
    ['unsafe credits', { credits: 2 ** 53 }],
    ['a negative price', { price: -1 }],
    ['a NaN price', { price: NaN }],
    ['an owner that is an API key', { owner: 'nvm:abc.def.ghi' }],
    ['a zero duration', { durationSeconds: 0 }],
    ['a negative duration', { durationSeconds: -5 }],
  ])('refuses %s with a TypeError', (_, override) => {
    const { ledger, owner } = setup()
    expect(() => ledger.createPlan({ credits: 2, price: 10, owner: owner.address, ...override })).toThrow(TypeError)
  })

  it('does not count a refused plan: the next id is still the next number', () => {
    const { ledger, owner } = setup()
    expect(() => ledger.createPlan({ credits: 0, price: 1, owner: owner.address })).toThrow(TypeError)
    expect(ledger.createPlan({ credits: 1, price: 1, owner: owner.address })).toBe('2')
  })
})

describe('creating a ledger', () => {
  it('starts no timer (safe at module scope in a worker)', () => {
    vi.useFakeTimers()
    const ledger = createLocalLedger()
    const owner = ledger.createAccount({ funds: 1 })
    ledger.createPlan({ credits: 1, price: 1, owner: owner.address, durationSeconds: 1 })
    ledger.inject('order', { delayMs: 1000, lagMs: 1000 })
    expect(vi.getTimerCount()).toBe(0)
  })

  it('refuses a base URL that is not an absolute URL', () => {
    expect(() => createLocalLedger({ baseUrl: '/api/v1' })).toThrow(TypeError)
    expect(() => createLocalLedger({ baseUrl: 'http://x/api?v=1' })).toThrow(TypeError)
  })

  it('drops trailing slashes from the base URL', () => {
    expect(createLocalLedger().baseUrl).toBe('http://ledger.local/api/v1')
    expect(createLocalLedger({ baseUrl: 'http://127.0.0.1:8080/nvm/api/v1//' }).baseUrl).toBe('http://127.0.0.1:8080/nvm/api/v1')
  })
})
