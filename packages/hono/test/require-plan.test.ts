/**
 * What only Hono does. Everything every adapter does the same way (success, settlement, cost,
 * credentials, payment, options, the gate from the environment, clients that leave) is in the
 * shared table, test/adapters/cases.ts, run on Hono over @hono/node-server by
 * test/adapters/adapters.test.ts.
 */
import { serve, type ServerType } from '@hono/node-server'
import { Hono, type Context, type MiddlewareHandler } from 'hono'
import { HTTPException } from 'hono/http-exception'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { sharedGate } from '@plangate/core/adapter'
import { CredentialMissingError, requirePlan, type PlanGate, type PlanVariables } from '@plangate/hono'
import { expectProblem, restoreEnvAfterEach, secretsOf, subscribe, world } from './helpers'

const auth = (apiKey: string) => ({ headers: { Authorization: `Bearer ${apiKey}` } })

/** Routes behind `mw`: one that serves, one that fails, and answers only Hono has. */
function appWith(mw: MiddlewareHandler<{ Variables: PlanVariables }>) {
  const app = new Hono<{ Variables: PlanVariables }>()
  app.use('/paid/*', mw)
  app.get('/paid/ok', (c) => c.json(c.get('balance')))
  app.get('/paid/bad', (c) => c.json({ error: 'bad input' }, 400))
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
  it.each(['/paid/http-exception', '/paid/proxied'])('%s redeems nothing and gives the credits back', async (path) => {
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
  })

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

describe('credentials', () => {
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

it('onDenied is an unknown option (it is Express only): a TypeError naming it', () => {
  const { gate } = track(world())
  expect(() => requirePlan(1, { gate, onDenied: () => {} } as never)).toThrow(/"onDenied"/)
  expect(() => requirePlan(1, { gate, onDenied: () => {} } as never)).toThrow(TypeError)
})

describe('the gate from the environment', () => {
  restoreEnvAfterEach(['NVM_API_KEY', 'NVM_ENVIRONMENT'])

  it('builds the gate on the first request, from NVM_API_KEY and NVM_ENVIRONMENT set after the middleware was created', async () => {
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
