import { serve, type ServerType } from '@hono/node-server'
import { Hono, type Context, type MiddlewareHandler } from 'hono'
import { HTTPException } from 'hono/http-exception'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { sharedGate } from '@plangate/core'
import { CredentialMissingError, requirePlan, type PlanGate, type PlanVariables } from '@plangate/hono'
import { expectProblem, secretsOf, sleep, subscribe, world } from './helpers'

const auth = (apiKey: string) => ({ headers: { Authorization: `Bearer ${apiKey}` } })

/** Routes behind `mw`: one that serves, ones that fail, one that throws. */
function appWith(mw: MiddlewareHandler<{ Variables: PlanVariables }>) {
  const app = new Hono<{ Variables: PlanVariables }>()
  app.use('/paid/*', mw)
  app.get('/paid/ok', (c) => c.json(c.get('balance')))
  app.get('/paid/bad', (c) => c.json({ error: 'bad input' }, 400))
  app.get('/paid/fail', (c) => c.json({ error: 'failed' }, 500))
  app.get('/paid/throw', () => {
    throw new Error('route failed')
  })
  app.get('/paid/http-exception', () => {
    throw new HTTPException(404, { message: 'no such thing' })
  })
  // A response whose headers are immutable, as fetch() returns them.
  app.get('/paid/proxied', () => Response.redirect('https://example.com/', 302))
  app.get('/paid/fetched', async () => fetch('data:application/json,{"from":"fetch"}'))
  return app
}

const gates: PlanGate[] = []
function track<T extends { gate: PlanGate }>(w: T): T {
  gates.push(w.gate)
  return w
}
afterEach(async () => {
  vi.restoreAllMocks()
  await Promise.all(gates.splice(0).map((gate) => gate.close()))
})

describe('success', () => {
  it('lets the request through with c.get("balance") and the credit headers', async () => {
    const { ledger, alice, planId, gate } = track(world())
    await subscribe(ledger, planId, alice)
    const res = await appWith(requirePlan(planId, { gate })).request('/paid/ok', auth(alice.apiKey))
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ planId, holderAddress: alice.address, remaining: 1, cost: 1, expiresAt: null })
    expect(res.headers.get('X-Credits-Remaining')).toBe('1')
    expect(res.headers.get('X-Plan-Id')).toBe(planId)
  })

  it('omits the headers with headers: false', async () => {
    const { ledger, alice, planId, gate } = track(world())
    await subscribe(ledger, planId, alice)
    const res = await appWith(requirePlan(planId, { gate, headers: false })).request('/paid/ok', auth(alice.apiKey))
    expect(res.status).toBe(200)
    expect(res.headers.get('X-Credits-Remaining')).toBeNull()
    expect(res.headers.get('X-Plan-Id')).toBeNull()
  })

  it('adds the headers to a response whose headers are immutable (a fetch() response)', async () => {
    const { ledger, alice, planId, gate } = track(world())
    await subscribe(ledger, planId, alice)
    const res = await appWith(requirePlan(planId, { gate })).request('/paid/fetched', auth(alice.apiKey))
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ from: 'fetch' })
    expect(res.headers.get('X-Credits-Remaining')).toBe('1')
  })

  it('types and exposes the balance through ContextVariableMap too (plain new Hono())', async () => {
    const { ledger, alice, planId, gate } = track(world())
    await subscribe(ledger, planId, alice)
    const app = new Hono()
    app.get('/x', requirePlan(planId, { gate }), (c) => c.text(String(c.get('balance').remaining)))
    expect(await (await app.request('/x', auth(alice.apiKey))).text()).toBe('1')
  })
})

describe('settlement', () => {
  it('a 2xx burns the cost through x402 settle with the agent key', async () => {
    const { ledger, owner, alice, planId, gate, calls } = world()
    await subscribe(ledger, planId, alice)
    const res = await appWith(requirePlan(planId, { gate, cost: 2 })).request('/paid/ok', auth(alice.apiKey))
    expect(res.status).toBe(200)
    await gate.close()
    expect(ledger.redeemed(planId)).toBe(2)
    const redeems = calls.filter((call) => call.url.endsWith('/x402/settle'))
    expect(redeems.length).toBeGreaterThan(0)
    for (const call of redeems) expect(call.authorization).toBe(`Bearer ${owner.apiKey}`)
    expect(ledger.balance(planId, alice.address).remaining).toBe(0)
  })

  it.each(['/paid/bad', '/paid/fail', '/paid/throw', '/paid/http-exception', '/paid/proxied'])(
    '%s redeems nothing and gives the credits back',
    async (path) => {
      vi.spyOn(console, 'error').mockImplementation(() => {}) // Hono's default error handler logs the throw
      const { ledger, alice, planId, gate } = world()
      await subscribe(ledger, planId, alice)
      const app = appWith(requirePlan(planId, { gate }))
      const failed = await app.request(path, auth(alice.apiKey))
      expect(failed.status).toBeGreaterThanOrEqual(300)
      expect(failed.headers.get('X-Credits-Remaining')).toBeNull()
      const first = await app.request('/paid/ok', auth(alice.apiKey))
      const second = await app.request('/paid/ok', auth(alice.apiKey))
      expect([(await first.json()).remaining, (await second.json()).remaining]).toEqual([1, 0])
      await gate.close()
      expect(ledger.redeemed(planId)).toBe(2)
      expect(ledger.orders(planId)).toBe(1)
    },
  )

  it('hands each settlement to executionCtx.waitUntil: Workers drop work left when the response is sent', async () => {
    const { ledger, alice, planId, gate } = track(world())
    await subscribe(ledger, planId, alice)
    const app = appWith(requirePlan(planId, { gate }))
    const waited: Array<Promise<unknown>> = []
    const executionCtx = { waitUntil: (work: Promise<unknown>) => void waited.push(work), passThroughOnException: () => {}, props: {} }
    const ok = await app.request('/paid/ok', auth(alice.apiKey), undefined, executionCtx)
    const bad = await app.request('/paid/bad', auth(alice.apiKey), undefined, executionCtx)
    expect([ok.status, bad.status]).toEqual([200, 400])
    expect(waited).toHaveLength(2)
    await Promise.all(waited)
    expect(ledger.redeemed(planId)).toBe(1) // no gate.close(): what waitUntil got covers the redemption
  })

  it('charges nothing when the success headers cannot be added (Hono < 4.7.7 threw on immutable headers)', async () => {
    const { ledger, alice, planId, gate } = track(world())
    await subscribe(ledger, planId, alice)
    const mw = requirePlan(planId, { gate })
    const immutable = new TypeError('immutable')
    const c = {
      req: { header: (name: string) => (name.toLowerCase() === 'authorization' ? `Bearer ${alice.apiKey}` : undefined) },
      set: vi.fn(),
      res: await fetch('data:text/plain,ok'), // a 200 whose headers are immutable, as fetch() answers are
      header: () => {
        throw immutable
      },
    } as unknown as Context
    await expect(mw(c, async () => {})).rejects.toBe(immutable)
    const res = await appWith(mw).request('/paid/ok', auth(alice.apiKey))
    expect((await res.json()).remaining).toBe(1) // the failed request's credit came back
  })

  it('releases and rethrows when next() throws (no error handler in between)', async () => {
    const { ledger, alice, planId, gate } = world()
    await subscribe(ledger, planId, alice)
    const mw = requirePlan(planId, { gate })
    const c = { req: { header: (name: string) => (name.toLowerCase() === 'authorization' ? `Bearer ${alice.apiKey}` : undefined) }, set: vi.fn(), header: vi.fn() } as unknown as Context
    const boom = new Error('downstream')
    await expect(mw(c, () => Promise.reject(boom))).rejects.toBe(boom)
    expect(c.set).toHaveBeenCalledWith('balance', expect.objectContaining({ remaining: 1 }))
    const res = await appWith(mw).request('/paid/ok', auth(alice.apiKey))
    expect((await res.json()).remaining).toBe(1) // the thrown request's credit came back
    await gate.close()
    expect(ledger.redeemed(planId)).toBe(1)
  })
})

describe('cost', () => {
  it('takes a number', async () => {
    const { ledger, alice, planId, gate } = track(world({ credits: 5 }))
    await subscribe(ledger, planId, alice)
    const res = await appWith(requirePlan(planId, { gate, cost: 3 })).request('/paid/ok', auth(alice.apiKey))
    expect(await res.json()).toMatchObject({ remaining: 2, cost: 3 })
  })

  it('takes an async function of the context', async () => {
    const { ledger, alice, planId, gate } = world({ credits: 5 })
    await subscribe(ledger, planId, alice)
    const cost = async (c: Context) => {
      await sleep(1)
      return Number(c.req.query('n'))
    }
    const res = await appWith(requirePlan(planId, { gate, cost })).request('/paid/ok?n=4', auth(alice.apiKey))
    expect(await res.json()).toMatchObject({ remaining: 1, cost: 4 })
    await gate.close()
    expect(ledger.redeemed(planId)).toBe(4)
  })

  it.each([
    ['-1', () => -1],
    ['1.5', () => 1.5],
    ["'x'", () => 'x' as unknown as number],
    ['a throw', () => {
      throw new Error('no price list')
    }],
    ['a rejection', async () => {
      throw new Error('no price list')
    }],
  ])('a cost function returning %s answers 500 COST_INVALID and charges nothing', async (_what, cost) => {
    const { ledger, alice, planId, gate } = world()
    await subscribe(ledger, planId, alice)
    const route = vi.fn((c: Context) => c.text('served'))
    const app = new Hono()
    app.get('/x', requirePlan(planId, { gate, cost }), route)
    const body = await expectProblem(await app.request('/x', auth(alice.apiKey)), 500, 'COST_INVALID', planId, secretsOf(alice.apiKey))
    expect(body.detail).not.toContain('no price list')
    expect(route).not.toHaveBeenCalled()
    await gate.close()
    expect(ledger.redeemed(planId)).toBe(0)
    expect(ledger.balance(planId, alice.address).remaining).toBe(2)
  })
})

describe('credentials', () => {
  it('answers 401 CREDENTIAL_MISSING with WWW-Authenticate without a key', async () => {
    const { planId, gate, ledger } = track(world())
    const res = await appWith(requirePlan(planId, { gate })).request('/paid/ok')
    await expectProblem(res, 401, 'CREDENTIAL_MISSING', planId)
    expect(res.headers.get('WWW-Authenticate')).toMatch(/^Bearer\b/)
    expect(Object.entries(ledger.counters).filter(([, n]) => n > 0)).toEqual([])
  })

  it('answers 401 CREDENTIAL_INVALID for a malformed key, with no upstream call', async () => {
    const { planId, gate, ledger } = track(world())
    const before = ledger.counters
    const badKey = 'nvm:eyJhbGciOiJIUzI1NiJ9.bm90LWpzb24.c2lnbmF0dXJl'
    const res = await appWith(requirePlan(planId, { gate })).request('/paid/ok', auth(badKey))
    await expectProblem(res, 401, 'CREDENTIAL_INVALID', planId, secretsOf(badKey))
    expect(ledger.counters).toEqual(before)
  })

  it('reads the key with a custom credential function', async () => {
    const { ledger, alice, planId, gate } = track(world())
    await subscribe(ledger, planId, alice)
    const app = appWith(requirePlan(planId, { gate, credential: (c) => c.req.header('x-api-key') }))
    const ok = await app.request('/paid/ok', { headers: { 'x-api-key': alice.apiKey } })
    expect(ok.status).toBe(200)
    expect((await ok.json()).holderAddress).toBe(alice.address)
    await expectProblem(await app.request('/paid/ok', auth(alice.apiKey)), 401, 'CREDENTIAL_MISSING', planId, secretsOf(alice.apiKey))
  })

  it('on @hono/node-server, reads the key from the Node request in its bindings, as c.req.header() would', async () => {
    const { ledger, alice, planId, gate } = track(world())
    await subscribe(ledger, planId, alice)
    const app = appWith(requirePlan(planId, { gate }))
    const bindings = (...rawHeaders: string[]) => ({ incoming: { rawHeaders: ['Host', 'localhost', ...rawHeaders] } })
    const ok = await app.request('/paid/ok', {}, bindings('authorization', `Bearer ${alice.apiKey}`))
    expect(ok.status).toBe(200)
    expect((await ok.json()).holderAddress).toBe(alice.address)
    // Two Authorization headers join into one value that is no Bearer token, as with c.req.header().
    const twice = await app.request('/paid/ok', {}, bindings('Authorization', `Bearer ${alice.apiKey}`, 'authorization', 'Bearer x'))
    await expectProblem(twice, 401, 'CREDENTIAL_MISSING', planId, secretsOf(alice.apiKey))
    await expectProblem(await app.request('/paid/ok', {}, bindings()), 401, 'CREDENTIAL_MISSING', planId)
  })
})

describe('ordering and payment', () => {
  it('orders exactly once when the credits run out, then answers 402 once the wallet is empty', async () => {
    // Wallet 25, price 10: the first order leaves 15, the automatic one 5, and a third cannot be paid.
    const { ledger, alice, planId, gate } = track(world({ credits: 2, price: 10 }, 25))
    await subscribe(ledger, planId, alice)
    const app = appWith(requirePlan(planId, { gate }))
    const remaining: number[] = []
    for (let i = 0; i < 4; i++) {
      const res = await app.request('/paid/ok', auth(alice.apiKey))
      expect(res.status).toBe(200)
      remaining.push((await res.json()).remaining)
      if (i === 1) expect(ledger.orders(planId)).toBe(1)
    }
    expect(remaining).toEqual([1, 0, 1, 0])
    expect(ledger.orders(planId)).toBe(2)
    const body = await expectProblem(await app.request('/paid/ok', auth(alice.apiKey)), 402, 'PAYMENT_REQUIRED', planId, secretsOf(alice.apiKey))
    expect(body.type).toMatch(/^urn:plangate:problem:/)
    expect(ledger.orders(planId)).toBe(2)
  })
})

describe('denial answers', () => {
  it('throws an HTTPException carrying the problem response, which app.onError can replace', async () => {
    const { planId, gate } = track(world())
    const app = appWith(requirePlan(planId, { gate }))
    const seen: unknown[] = []
    app.onError((err, c) => {
      seen.push(err)
      if (err instanceof HTTPException) return c.json({ mine: err.status, cause: (err.cause as CredentialMissingError).code }, 418)
      return c.text('other', 500)
    })
    const res = await app.request('/paid/ok')
    expect(res.status).toBe(418)
    expect(await res.json()).toEqual({ mine: 401, cause: 'CREDENTIAL_MISSING' })
    const err = seen[0] as HTTPException
    expect(err).toBeInstanceOf(HTTPException)
    expect(err.cause).toBeInstanceOf(CredentialMissingError)
    expect(err.getResponse().headers.get('content-type')).toBe('application/problem+json')
  })

  it('an onError that returns err.getResponse() keeps the problem answer', async () => {
    const { planId, gate } = track(world())
    const app = appWith(requirePlan(planId, { gate }))
    app.onError((err) => (err instanceof HTTPException ? err.getResponse() : new Response('other', { status: 500 })))
    await expectProblem(await app.request('/paid/ok'), 401, 'CREDENTIAL_MISSING', planId)
  })
})

describe('options', () => {
  const { gate } = track(world())

  it.each([
    ['7/../x', '7/../x'],
    ['-1', -1],
    ['1.5', 1.5],
    ['2 ** 60', 2 ** 60],
    ["''", ''],
  ])('plan id %s throws a TypeError at creation', (_what, planId) => {
    expect(() => requirePlan(planId as never, { gate })).toThrow(TypeError)
  })

  it.each([
    ['-1', -1],
    ['1.5', 1.5],
    ["'1'", '1'],
  ])('cost %s throws a TypeError at creation', (_what, cost) => {
    expect(() => requirePlan(1, { gate, cost: cost as never })).toThrow(TypeError)
  })

  it('an unknown option (onDenied is Express only) throws a TypeError naming it', () => {
    expect(() => requirePlan(1, { gate, onDenied: () => {} } as never)).toThrow(/"onDenied"/)
    expect(() => requirePlan(1, { gate, costs: 1 } as never)).toThrow(TypeError)
  })

  it.each([
    ['a 78-digit string', '1234567890'.repeat(7) + '12345678', '1234567890'.repeat(7) + '12345678'],
    ['a bigint', 2n ** 200n, (2n ** 200n).toString()],
  ])('takes %s as the plan id and sends its exact decimal string', async (_what, id, decimal) => {
    const { alice, gate, calls } = track(world())
    const res = await appWith(requirePlan(id, { gate })).request('/paid/ok', auth(alice.apiKey))
    await expectProblem(res, 500, 'PLAN_NOT_FOUND', decimal, secretsOf(alice.apiKey))
    expect(calls.length).toBeGreaterThan(0)
    for (const call of calls) expect(new URL(call.url).pathname).toContain(`/protocol/plans/${decimal}/`)
  })
})

describe('the gate from the environment', () => {
  let saved: Record<string, string | undefined>
  beforeEach(() => {
    saved = { NVM_API_KEY: process.env.NVM_API_KEY, NVM_ENVIRONMENT: process.env.NVM_ENVIRONMENT }
  })
  afterEach(() => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name]
      else process.env[name] = value
    }
  })

  it('creating the middleware without a gate needs no NVM_API_KEY; requests get 500 GATE_MISCONFIGURED', async () => {
    delete process.env.NVM_API_KEY
    const { alice, planId } = world()
    const app = appWith(requirePlan(planId))
    const res = await app.request('/paid/ok', auth(alice.apiKey), {})
    const body = await expectProblem(res, 500, 'GATE_MISCONFIGURED', planId, secretsOf(alice.apiKey))
    expect(body.detail).toMatch(/NVM_API_KEY/)
  })

  it('builds the gate on the first request from NVM_API_KEY and NVM_ENVIRONMENT', async () => {
    const { ledger, owner, alice, planId } = world()
    await subscribe(ledger, planId, alice)
    let server: ServerType | undefined
    const port = await new Promise<number>((resolve) => {
      server = serve({ fetch: ledger.fetch, port: 0, hostname: '127.0.0.1' }, (info) => resolve(info.port))
    })
    try {
      const env = { NVM_API_KEY: owner.apiKey, NVM_ENVIRONMENT: `http://127.0.0.1:${port}/api/v1` }
      const before = ledger.counters
      delete process.env.NVM_API_KEY
      const app = appWith(requirePlan(planId))
      Object.assign(process.env, env)
      expect(ledger.counters).toEqual(before) // nothing happened at creation
      const res = await app.request('/paid/ok', auth(alice.apiKey))
      expect(res.status).toBe(200)
      expect((await res.json()).remaining).toBe(1)
      await sharedGate(env).close()
      expect(ledger.redeemed(planId)).toBe(1)
    } finally {
      await new Promise((resolve) => server!.close(resolve))
    }
  })
})
