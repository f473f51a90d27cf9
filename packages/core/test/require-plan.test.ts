import { describe, expect, it, vi } from 'vitest'
import { CostInvalidError, CredentialInvalidError, CredentialMissingError, GateMisconfiguredError, MemoryBalanceStore, PaymentRequiredError, PlanNotFoundError, StoreUnavailableError, UpstreamUnavailableError, type Lease, type PlanBalance, type PlanGate, type PlanGateError } from '../src/index'
import { admit, bearerToken, isServed, resolveRequirePlan, RequestBalance, toProblem } from '../src/adapter'
import { setup } from './setup'

const PROBLEM_KEYS = ['code', 'detail', 'planId', 'status', 'title', 'type']

describe('toProblem', () => {
  it.each<[string, PlanGateError, number, string, string, Record<string, string>]>([
    ['CREDENTIAL_MISSING', new CredentialMissingError(), 401, 'urn:plangate:problem:credential-missing', 'API key required', { 'WWW-Authenticate': 'Bearer realm="plangate"' }],
    ['CREDENTIAL_INVALID', new CredentialInvalidError('bad key'), 401, 'urn:plangate:problem:credential-invalid', 'API key not accepted', { 'WWW-Authenticate': 'Bearer realm="plangate", error="invalid_token"' }],
    ['PAYMENT_REQUIRED', new PaymentRequiredError('no credits'), 402, 'urn:plangate:problem:payment-required', 'Payment required', {}],
    ['PLAN_NOT_FOUND', new PlanNotFoundError('no plan'), 500, 'urn:plangate:problem:plan-not-found', 'Payment plan not found', {}],
    ['UPSTREAM_UNAVAILABLE', new UpstreamUnavailableError('down', { retryAfterSeconds: 9 }), 503, 'urn:plangate:problem:upstream-unavailable', 'Payments service unavailable', { 'Retry-After': '9' }],
    ['STORE_UNAVAILABLE', new StoreUnavailableError(), 503, 'urn:plangate:problem:store-unavailable', 'Balance store unavailable', { 'Retry-After': '1' }],
    ['COST_INVALID', new CostInvalidError('bad cost'), 500, 'urn:plangate:problem:cost-invalid', 'Request cost could not be determined', {}],
    ['GATE_MISCONFIGURED', new GateMisconfiguredError('no key'), 500, 'urn:plangate:problem:gate-misconfigured', 'Payment gate not configured', {}],
  ])('%s → status, headers and an RFC 9457 body', (code, error, status, type, title, extraHeaders) => {
    const denial = toProblem(error, '42')
    expect(denial.status).toBe(status)
    expect(denial.headers).toEqual({ 'Content-Type': 'application/problem+json', 'Cache-Control': 'no-store', ...extraHeaders })
    expect(Object.keys(denial.body).sort()).toEqual(PROBLEM_KEYS)
    expect(denial.body).toEqual({ type, title, status, detail: error.message, code, planId: '42' })
  })

  it('answers any other error as a 500 INTERNAL_ERROR that reveals nothing', () => {
    const secret = 'postgres://admin:hunter2@db.internal/prod'
    for (const thrown of [new Error(`connection to ${secret} refused`), new TypeError(secret), secret, { message: secret }, undefined, null]) {
      const denial = toProblem(thrown, '7')
      expect(denial.status).toBe(500)
      expect(denial.headers).toEqual({ 'Content-Type': 'application/problem+json', 'Cache-Control': 'no-store' })
      expect(Object.keys(denial.body).sort()).toEqual(PROBLEM_KEYS)
      expect(denial.body).toMatchObject({ code: 'INTERNAL_ERROR', status: 500, type: 'urn:plangate:problem:internal-error', title: 'Internal error', planId: '7' })
      expect(denial.body.detail).toMatch(/not charged/)
      expect(JSON.stringify(denial)).not.toContain('hunter2')
    }
  })

  it('does not trust a look-alike object: only real PlanGateErrors set the status', () => {
    const fake = { code: 'PAYMENT_REQUIRED', status: 402, message: 'pay me at evil.example', headers: { 'Set-Cookie': 'x=1' } }
    const denial = toProblem(fake, '7')
    expect(denial.status).toBe(500)
    expect(denial.body.code).toBe('INTERNAL_ERROR')
    expect(denial.headers).not.toHaveProperty('Set-Cookie')
    expect(denial.body.detail).not.toContain('evil.example')
  })

  it('the body survives a JSON round trip unchanged (plain data only)', () => {
    const denial = toProblem(new PaymentRequiredError('x'), '7')
    expect(JSON.parse(JSON.stringify(denial.body))).toEqual(denial.body)
  })
})

describe('resolveRequirePlan', () => {
  const defaults = { credential: (req: { auth?: string }) => bearerToken(req.auth) }

  it('fills the defaults: cost 1, the default credential, headers on; and normalises the id', () => {
    const config = resolveRequirePlan('007', undefined, defaults)
    expect(config).toEqual({ planId: '7', cost: 1, usage: undefined, metered: false, credential: defaults.credential, resource: expect.any(Function), headers: true })
    expect(resolveRequirePlan(7n, null, defaults).planId).toBe('7')
    expect(resolveRequirePlan(7, {}, defaults).planId).toBe('7')
  })

  it('keeps given options', () => {
    const cost = (req: { auth?: string }) => (req.auth ? 2 : 1)
    const credential = () => 'k'
    const gate = setup().gate
    expect(resolveRequirePlan('9', { cost, credential, headers: false, gate }, defaults)).toEqual({ planId: '9', cost, usage: undefined, metered: false, credential, resource: expect.any(Function), headers: false })
    expect(resolveRequirePlan('9', { cost: 0 }, defaults).cost).toBe(0)
    expect(resolveRequirePlan('9', { cost: Number.MAX_SAFE_INTEGER }, defaults).cost).toBe(Number.MAX_SAFE_INTEGER)
  })

  it.each([['7/../x'], [-1], [1.5], [2 ** 60], [''], [' 7'], ['0x7'], [null], [{}], [Number.NaN]])('throws a TypeError for plan id %j', (planId) => {
    expect(() => resolveRequirePlan(planId, {}, defaults)).toThrow(TypeError)
    expect(() => resolveRequirePlan(planId, {}, defaults)).toThrow(/^plangate: planId/)
  })

  it.each([[-1], [1.5], [Number.NaN], [Number.POSITIVE_INFINITY], ['1'], [2 ** 60], [true]])('throws a TypeError naming "cost" for cost %j', (cost) => {
    expect(() => resolveRequirePlan('7', { cost }, defaults)).toThrow(TypeError)
    expect(() => resolveRequirePlan('7', { cost }, defaults)).toThrow(/option "cost" must be a non-negative integer, a function of the request, or \{ max, usage \}/)
  })

  it('takes a usage cost { max, usage }: max is reserved, usage kept for after the answer, and the route is metered', () => {
    const usage = () => 3
    const max = (req: { auth?: string }) => (req.auth ? 20 : 10)
    expect(resolveRequirePlan('7', { cost: { max: 50, usage } }, defaults)).toMatchObject({ cost: 50, usage, metered: true })
    expect(resolveRequirePlan('7', { cost: { max } }, defaults)).toMatchObject({ cost: max, usage: undefined, metered: true })
    expect(resolveRequirePlan('7', { cost: { max: 0 } }, defaults)).toMatchObject({ cost: 0, metered: true })
  })

  it.each([
    [{}, /option "cost" as an object needs "max"/],
    [{ usage: () => 1 }, /needs "max"/],
    [{ max: -1 }, /option "cost.max" must be a non-negative integer or a function/],
    [{ max: 1.5 }, /option "cost.max"/],
    [{ max: '5' }, /option "cost.max"/],
    [{ max: 5, usage: 3 }, /option "cost.usage" must be a function/],
    [{ max: 5, maximum: 6 }, /unknown key "maximum" in option "cost"/],
  ])('throws a TypeError naming what is wrong for cost %j', (cost, message) => {
    expect(() => resolveRequirePlan('7', { cost }, defaults)).toThrow(TypeError)
    expect(() => resolveRequirePlan('7', { cost }, defaults)).toThrow(message)
  })

  it.each([['cots'], ['header'], ['planId'], ['apiKey']])('throws a TypeError naming the unknown option %j and listing the known ones', (name) => {
    const error = (() => {
      try {
        resolveRequirePlan('7', { [name]: 1 }, defaults)
      } catch (e) {
        return e as Error
      }
      throw new Error('expected a TypeError')
    })()
    expect(error).toBeInstanceOf(TypeError)
    expect(error.message).toContain(`unknown requirePlan option "${name}"`)
    expect(error.message).toContain('gate, cost, credential, headers')
  })

  it('accepts the extra options an adapter declares, and only those', () => {
    const withExtra = { ...defaults, extraOptions: ['onDenied'] }
    expect(() => resolveRequirePlan('7', { onDenied: () => {} }, withExtra)).not.toThrow()
    expect(() => resolveRequirePlan('7', { onDenied: () => {} }, defaults)).toThrow(/unknown requirePlan option "onDenied"/)
    expect(() => resolveRequirePlan('7', { other: 1 }, withExtra)).toThrow(/the options are gate, cost, credential, headers, onDenied/)
  })

  it.each([['a string'], [42], [() => ({})], [true]])('throws a TypeError when the options are %j, not an object', (options) => {
    expect(() => resolveRequirePlan('7', options, defaults)).toThrow(new TypeError('plangate: requirePlan options must be an object.'))
  })

  it.each([['Bearer x'], [42], [{}], [null]])('throws a TypeError for a credential that is not a function: %j', (credential) => {
    expect(() => resolveRequirePlan('7', { credential }, defaults)).toThrow(TypeError)
    expect(() => resolveRequirePlan('7', { credential }, defaults)).toThrow(/option "credential" must be a function/)
  })

  it.each([['yes'], [1], [0], [null], ['false']])('throws a TypeError for headers that is not a boolean: %j', (headers) => {
    expect(() => resolveRequirePlan('7', { headers }, defaults)).toThrow(TypeError)
    expect(() => resolveRequirePlan('7', { headers }, defaults)).toThrow(/option "headers" must be true or false/)
  })

  it.each([[{}], [null], ['gate'], [{ reserve: 'nope' }]])('throws a TypeError for a gate that is not a gate: %j', (gate) => {
    expect(() => resolveRequirePlan('7', { gate }, defaults)).toThrow(TypeError)
    expect(() => resolveRequirePlan('7', { gate }, defaults)).toThrow(/option "gate" must be a gate/)
  })

  // Regression: `cost: null` once silently meant 1.
  it('throws a TypeError for cost: null, like every other null option', () => {
    expect(() => resolveRequirePlan('7', { cost: null }, defaults)).toThrow(TypeError)
  })
})

interface Req {
  auth?: string
  n?: number
}

function fakeLease(remaining: number, planId = '7'): Lease {
  const balance: PlanBalance = new RequestBalance(planId, '0x' + 'a'.repeat(40), remaining, 1, null)
  return { balance, commit: vi.fn(), release: vi.fn() }
}

function fakeGate(reserve: PlanGate['reserve']): PlanGate & { reserve: ReturnType<typeof vi.fn> } {
  return { reserve: vi.fn(reserve), close: async () => {}, store: new MemoryBalanceStore() }
}

describe('admit', () => {
  const credential = (req: Req) => bearerToken(req.auth)
  const config = (options: object = {}) => resolveRequirePlan<Req>('7', options, { credential })

  it('allows with the lease and X-Credits-Remaining / X-Plan-Id headers', async () => {
    const lease = fakeLease(41)
    const gate = fakeGate(async () => lease)
    const admission = await admit(config(), gate, { auth: 'Bearer key-1' })
    expect(admission).toEqual({ allowed: true, lease, headers: { 'X-Credits-Remaining': '41', 'X-Plan-Id': '7' }, receipt: false })
    expect(gate.reserve).toHaveBeenCalledExactlyOnceWith('7', 'key-1', 1, expect.anything())
  })

  it('headers: false → no headers on success', async () => {
    const admission = await admit(config({ headers: false }), fakeGate(async () => fakeLease(3)), { auth: 'Bearer k' })
    expect(admission.allowed).toBe(true)
    expect(admission.allowed && admission.headers).toEqual({})
  })

  it.each([[{}], [{ auth: '' }], [{ auth: 'Basic dXNlcjpwYXNz' }], [{ auth: 'Bearer' }]])(
    'a request without a key (%j) is a 401 CREDENTIAL_MISSING denial and reserves nothing',
    async (req) => {
      const gate = fakeGate(async () => fakeLease(1))
      const admission = await admit(config(), gate, req)
      expect(admission.allowed).toBe(false)
      if (admission.allowed) return
      expect(admission.status).toBe(401)
      expect(admission.error).toBeInstanceOf(CredentialMissingError)
      expect(admission.headers).toMatchObject({ 'WWW-Authenticate': 'Bearer realm="plangate"', 'Content-Type': 'application/problem+json' })
      expect(admission.body).toMatchObject({ code: 'CREDENTIAL_MISSING', status: 401, planId: '7' })
      expect(gate.reserve).not.toHaveBeenCalled()
    },
  )

  it('a custom credential function may be async, and null/empty from it is a missing key', async () => {
    const gate = fakeGate(async () => fakeLease(1))
    const fromHeader = config({ credential: async (req: Req) => (req.auth ? `nvm:${req.auth}` : null) })
    expect((await admit(fromHeader, gate, { auth: 'abc' })).allowed).toBe(true)
    expect(gate.reserve).toHaveBeenLastCalledWith('7', 'nvm:abc', 1, expect.anything())
    const denied = await admit(fromHeader, gate, {})
    expect(denied).toMatchObject({ allowed: false, status: 401, body: { code: 'CREDENTIAL_MISSING' } })
  })

  it('uses an async cost function of the request', async () => {
    const gate = fakeGate(async () => fakeLease(5))
    const cfg = config({ cost: async (req: Req) => {
      await new Promise((resolve) => setTimeout(resolve, 5))
      return (req.n ?? 0) * 2
    } })
    expect((await admit(cfg, gate, { auth: 'Bearer k', n: 3 })).allowed).toBe(true)
    expect(gate.reserve).toHaveBeenLastCalledWith('7', 'k', 6, expect.anything())
    await admit(cfg, gate, { auth: 'Bearer k' })
    expect(gate.reserve).toHaveBeenLastCalledWith('7', 'k', 0, expect.anything())
  })

  it('a cost function that throws → 500 COST_INVALID that does not leak its message; nothing reserved', async () => {
    const gate = fakeGate(async () => fakeLease(5))
    const thrown = new Error('cannot price: SECRET-TOKEN-123')
    const admission = await admit(config({ cost: () => { throw thrown } }), gate, { auth: 'Bearer k' })
    expect(admission.allowed).toBe(false)
    if (admission.allowed) return
    expect(admission.status).toBe(500)
    expect(admission.body.code).toBe('COST_INVALID')
    expect(admission.error).toBeInstanceOf(CostInvalidError)
    expect((admission.error as Error).cause).toBe(thrown)
    expect(JSON.stringify(admission.body)).not.toContain('SECRET-TOKEN-123')
    expect(gate.reserve).not.toHaveBeenCalled()
  })

  it('an async cost function that rejects is COST_INVALID too', async () => {
    const admission = await admit(config({ cost: async () => Promise.reject(new Error('nope')) }), fakeGate(async () => fakeLease(5)), { auth: 'Bearer k' })
    expect(admission).toMatchObject({ allowed: false, status: 500, body: { code: 'COST_INVALID' } })
  })

  it('a PlanGateError thrown by the cost function is passed through as it is', async () => {
    const admission = await admit(config({ cost: () => { throw new PaymentRequiredError('over budget') } }), fakeGate(async () => fakeLease(5)), { auth: 'Bearer k' })
    expect(admission).toMatchObject({ allowed: false, status: 402, body: { code: 'PAYMENT_REQUIRED', detail: 'over budget' } })
  })

  it.each([
    ['1', /returned string/],
    [-1, /returned -1/],
    [1.5, /returned 1\.5/],
    [Number.NaN, /returned NaN/],
    [undefined, /returned undefined/],
    [null, /returned object/],
    [2 ** 60, /returned 1152921504606847000/],
  ])('a cost function returning %j → COST_INVALID', async (value, message) => {
    const gate = fakeGate(async () => fakeLease(5))
    const admission = await admit(config({ cost: () => value }), gate, { auth: 'Bearer k' })
    expect(admission).toMatchObject({ allowed: false, status: 500, body: { code: 'COST_INVALID' } })
    expect(!admission.allowed && admission.body.detail).toMatch(message)
    expect(gate.reserve).not.toHaveBeenCalled()
  })

  it('a gate refusal becomes the matching denial, with its headers', async () => {
    const gate = fakeGate(async () => {
      throw new UpstreamUnavailableError('Nevermined balance timed out after 5000 ms.', { retryAfterSeconds: 4 })
    })
    const admission = await admit(config(), gate, { auth: 'Bearer k' })
    expect(admission).toMatchObject({
      allowed: false,
      status: 503,
      headers: { 'Retry-After': '4', 'Content-Type': 'application/problem+json' },
      body: { code: 'UPSTREAM_UNAVAILABLE', detail: 'Nevermined balance timed out after 5000 ms.', planId: '7' },
    })
  })

  it('takes the gate lazily from a function, and a gate that cannot be made is a 500 denial, not a rejection', async () => {
    const factory = vi.fn(() => {
      throw new GateMisconfiguredError('NVM_API_KEY is not set.')
    })
    const admission = await admit(config(), factory, { auth: 'Bearer k' })
    expect(admission).toMatchObject({ allowed: false, status: 500, body: { code: 'GATE_MISCONFIGURED' } })
    // No key, no gate needed: the factory is not even called.
    factory.mockClear()
    await admit(config(), factory, {})
    expect(factory).not.toHaveBeenCalled()
  })

  it('an unexpected error anywhere is a 500 INTERNAL_ERROR that never rejects', async () => {
    const broken = config({ credential: () => { throw new Error('header parser exploded: KEY=abc') } })
    const admission = await admit(broken, fakeGate(async () => fakeLease(1)), {})
    expect(admission).toMatchObject({ allowed: false, status: 500, body: { code: 'INTERNAL_ERROR' } })
    expect(JSON.stringify(!admission.allowed && admission.body)).not.toContain('KEY=abc')
  })

  it('against a real gate and the local ledger: admits, reports the credits left, and the lease redeems', async () => {
    const { gate, ledger, alice, planId } = setup({ credits: 5 })
    const cfg = resolveRequirePlan<Req>(planId, { cost: (req: Req) => req.n ?? 1 }, { credential })
    const first = await admit(cfg, gate, { auth: `Bearer ${alice.apiKey}`, n: 2 })
    expect(first.allowed && first.headers).toEqual({ 'X-Credits-Remaining': '3', 'X-Plan-Id': planId })
    if (first.allowed) first.lease.commit()
    const forged = await admit(cfg, gate, { auth: 'Bearer nvm:not.a.key' })
    expect(forged).toMatchObject({ allowed: false, status: 401, body: { code: 'CREDENTIAL_INVALID' } })
    expect(JSON.stringify(forged)).not.toContain('nvm:not.a.key')
    await gate.close()
    expect(ledger.redeemed(planId)).toBe(2)
    expect(ledger.balance(planId, alice.address).remaining).toBe(3)
  })
})

describe('isServed', () => {
  it.each([[200, true], [201, true], [204, true], [299, true], [199, false], [300, false], [304, false], [400, false], [402, false], [500, false]])(
    '%i → %s',
    (status, served) => {
      expect(isServed(status)).toBe(served)
    },
  )
})
