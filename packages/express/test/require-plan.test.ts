import http from 'node:http'
import type { AddressInfo } from 'node:net'
import express5, { type Express, type NextFunction, type Request, type RequestHandler, type Response } from 'express'
import express4 from 'express4'
import request from 'supertest'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { sharedGate } from '@plangate/core'
import { CredentialMissingError, GateMisconfiguredError, PlanGateError, requirePlan, type PlanGate } from '@plangate/express'
import { eventually, expectProblem, secretsOf, serveLedger, sleep, subscribe, world } from './helpers'

const auth = (apiKey: string) => ({ Authorization: `Bearer ${apiKey}` })

describe.each([
  ['Express 5', express5],
  ['Express 4', express4],
])('requirePlan on %s', (_name, express) => {
  /** Routes behind `mw`: one that serves, ones that fail, and one that waits. */
  function appWith(mw: RequestHandler, extra?: (app: Express) => void): Express {
    const app = express()
    app.get('/ok', mw, (req, res) => {
      res.json(req.balance)
    })
    app.get('/bad', mw, (_req, res) => {
      res.status(400).json({ error: 'bad input' })
    })
    app.get('/fail', mw, (_req, res) => {
      res.status(500).json({ error: 'failed' })
    })
    app.get('/throw', mw, () => {
      throw new Error('route failed')
    })
    app.get('/next-error', mw, (_req, _res, next) => {
      setTimeout(() => next(new Error('async failure')), 5)
    })
    extra?.(app)
    return app
  }

  const gates: PlanGate[] = []
  const track = <T extends { gate: PlanGate }>(w: T): T => {
    gates.push(w.gate)
    return w
  }
  afterEach(async () => {
    await Promise.all(gates.splice(0).map((gate) => gate.close()))
  })

  describe('success', () => {
    it('lets the request through with req.balance and the credit headers', async () => {
      const { ledger, alice, planId, gate } = track(world())
      await subscribe(ledger, planId, alice)
      const res = await request(appWith(requirePlan(planId, { gate }))).get('/ok').set(auth(alice.apiKey))
      expect(res.status).toBe(200)
      expect(res.body).toEqual({ planId, holderAddress: alice.address, remaining: 1, cost: 1, expiresAt: null })
      expect(res.headers['x-credits-remaining']).toBe('1')
      expect(res.headers['x-plan-id']).toBe(planId)
    })

    it("leaves other routes' headers alone, on every status", async () => {
      // The hook that takes the success headers off failed answers is installed once per app, on
      // its response prototype: it must touch only the responses requirePlan charged.
      const { ledger, alice, planId, gate } = track(world({ credits: 5 }))
      await subscribe(ledger, planId, alice)
      const app = appWith(requirePlan(planId, { gate }), (app) => {
        app.get('/own', (_req, res) => {
          res.set('X-Plan-Id', 'mine').set('X-Credits-Remaining', 'lots').status(503).json({ own: true })
        })
      })
      expect((await request(app).get('/ok').set(auth(alice.apiKey))).headers['x-credits-remaining']).toBe('4')
      const own = await request(app).get('/own')
      expect(own.status).toBe(503)
      expect([own.headers['x-plan-id'], own.headers['x-credits-remaining']]).toEqual(['mine', 'lots'])
      expect((await request(app).get('/bad').set(auth(alice.apiKey))).headers['x-plan-id']).toBeUndefined()
    })

    it('omits the headers with headers: false', async () => {
      const { ledger, alice, planId, gate } = track(world())
      await subscribe(ledger, planId, alice)
      const res = await request(appWith(requirePlan(planId, { gate, headers: false }))).get('/ok').set(auth(alice.apiKey))
      expect(res.status).toBe(200)
      expect(res.body.remaining).toBe(1)
      expect(res.headers['x-credits-remaining']).toBeUndefined()
      expect(res.headers['x-plan-id']).toBeUndefined()
    })
  })

  describe('settlement', () => {
    it('a 2xx burns the cost through x402 settle with the agent key', async () => {
      const { ledger, owner, alice, planId, gate, calls } = world()
      await subscribe(ledger, planId, alice)
      const res = await request(appWith(requirePlan(planId, { gate, cost: 2 }))).get('/ok').set(auth(alice.apiKey))
      expect(res.status).toBe(200)
      await gate.close()
      expect(ledger.redeemed(planId)).toBe(2)
      const redeems = calls.filter((call) => call.url.endsWith('/x402/settle'))
      expect(redeems.length).toBeGreaterThan(0)
      for (const call of redeems) expect(call.authorization).toBe(`Bearer ${owner.apiKey}`)
      expect(ledger.balance(planId, alice.address).remaining).toBe(0)
    })

    it.each(['/bad', '/fail', '/throw', '/next-error'])('%s redeems nothing and gives the credits back', async (path) => {
      const { ledger, alice, planId, gate } = world()
      await subscribe(ledger, planId, alice)
      const app = appWith(requirePlan(planId, { gate }))
      const failed = await request(app).get(path).set(auth(alice.apiKey))
      expect(failed.status).toBeGreaterThanOrEqual(400)
      // Nothing was charged, so nothing says what is left.
      expect(failed.headers['x-credits-remaining']).toBeUndefined()
      expect(failed.headers['x-plan-id']).toBeUndefined()
      // The credit came back: two more requests fit in the plan's 2 credits, with no order.
      const first = await request(app).get('/ok').set(auth(alice.apiKey))
      const second = await request(app).get('/ok').set(auth(alice.apiKey))
      expect([first.body.remaining, second.body.remaining]).toEqual([1, 0])
      await gate.close()
      expect(ledger.redeemed(planId)).toBe(2)
      expect(ledger.orders(planId)).toBe(1)
    })
  })

  describe('cost', () => {
    it('takes a number', async () => {
      const { ledger, alice, planId, gate } = track(world({ credits: 5 }))
      await subscribe(ledger, planId, alice)
      const res = await request(appWith(requirePlan(planId, { gate, cost: 3 }))).get('/ok').set(auth(alice.apiKey))
      expect(res.body).toMatchObject({ remaining: 2, cost: 3 })
    })

    it('takes an async function of the request', async () => {
      const { ledger, alice, planId, gate } = world({ credits: 5 })
      await subscribe(ledger, planId, alice)
      const cost = async (req: Request) => {
        await sleep(1)
        return Number(req.query.n)
      }
      const res = await request(appWith(requirePlan(planId, { gate, cost }))).get('/ok?n=4').set(auth(alice.apiKey))
      expect(res.body).toMatchObject({ remaining: 1, cost: 4 })
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
      const route = vi.fn()
      const app = express()
      app.get('/ok', requirePlan(planId, { gate, cost }), route)
      const res = await request(app).get('/ok').set(auth(alice.apiKey))
      const body = expectProblem(res, 500, 'COST_INVALID', planId, secretsOf(alice.apiKey))
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
      const res = await request(appWith(requirePlan(planId, { gate }))).get('/ok')
      expectProblem(res, 401, 'CREDENTIAL_MISSING', planId)
      expect(res.headers['www-authenticate']).toMatch(/^Bearer\b/)
      expect(Object.entries(ledger.counters).filter(([, n]) => n > 0)).toEqual([])
    })

    it('answers 401 CREDENTIAL_INVALID for a malformed key, with no upstream call', async () => {
      const { planId, gate, ledger } = track(world())
      const before = ledger.counters
      const badKey = 'nvm:eyJhbGciOiJIUzI1NiJ9.bm90LWpzb24.c2lnbmF0dXJl'
      const res = await request(appWith(requirePlan(planId, { gate }))).get('/ok').set(auth(badKey))
      expectProblem(res, 401, 'CREDENTIAL_INVALID', planId, secretsOf(badKey))
      expect(ledger.counters).toEqual(before)
    })

    it('reads the key with a custom credential function', async () => {
      const { ledger, alice, planId, gate } = track(world())
      await subscribe(ledger, planId, alice)
      const app = appWith(requirePlan(planId, { gate, credential: (req) => req.get('x-api-key') }))
      const ok = await request(app).get('/ok').set('x-api-key', alice.apiKey)
      expect(ok.status).toBe(200)
      expect(ok.body.holderAddress).toBe(alice.address)
      const bearerOnly = await request(app).get('/ok').set(auth(alice.apiKey))
      expectProblem(bearerOnly, 401, 'CREDENTIAL_MISSING', planId, secretsOf(alice.apiKey))
    })

    it('a throwing credential function is a 500 problem, not a crash', async () => {
      const { planId, gate } = track(world())
      const credential = () => {
        throw new Error('secret lookup failed')
      }
      const res = await request(appWith(requirePlan(planId, { gate, credential }))).get('/ok')
      const body = expectProblem(res, 500, 'INTERNAL_ERROR', planId)
      expect(body.detail).not.toContain('secret lookup failed')
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
        const res = await request(app).get('/ok').set(auth(alice.apiKey))
        expect(res.status).toBe(200)
        remaining.push(res.body.remaining)
        if (i === 1) expect(ledger.orders(planId)).toBe(1) // not yet: credits 2 cover two requests
      }
      expect(remaining).toEqual([1, 0, 1, 0])
      expect(ledger.orders(planId)).toBe(2) // the 3rd request ordered, once
      const denied = await request(app).get('/ok').set(auth(alice.apiKey))
      const body = expectProblem(denied, 402, 'PAYMENT_REQUIRED', planId, secretsOf(alice.apiKey))
      expect(body.type).toMatch(/^urn:plangate:problem:/)
      expect(ledger.orders(planId)).toBe(2)
    })
  })

  describe('denial answers', () => {
    it('onDenied replaces the default answer', async () => {
      const { planId, gate } = track(world())
      const onDenied = vi.fn((err: unknown, _req: Request, res: Response) => {
        res.status(418).json({ mine: (err as PlanGateError).code })
      })
      const res = await request(appWith(requirePlan(planId, { gate, onDenied }))).get('/ok')
      expect(res.status).toBe(418)
      expect(res.body).toEqual({ mine: 'CREDENTIAL_MISSING' })
      expect(onDenied.mock.calls[0]![0]).toBeInstanceOf(CredentialMissingError)
    })

    it('onDenied may hand the error to the app error handler; a throwing or rejecting onDenied reaches it too', async () => {
      const { planId, gate } = track(world())
      const seen: unknown[] = []
      const errorHandler = (err: unknown, _req: Request, res: Response, _next: NextFunction) => {
        seen.push(err)
        res.status(499).end()
      }
      const viaNext = express()
      viaNext.get('/ok', requirePlan(planId, { gate, onDenied: (err, _req, _res, next) => next(err) }), (_req, res) => res.end())
      viaNext.use(errorHandler)
      expect((await request(viaNext).get('/ok')).status).toBe(499)

      const throwing = express()
      const boom = new Error('onDenied failed')
      throwing.get('/ok', requirePlan(planId, { gate, onDenied: () => { throw boom } }), (_req, res) => res.end())
      throwing.use(errorHandler)
      expect((await request(throwing).get('/ok')).status).toBe(499)
      const rejecting = express()
      const asyncBoom = new Error('async onDenied failed')
      rejecting.get('/ok', requirePlan(planId, { gate, onDenied: async () => Promise.reject(asyncBoom) }), (_req, res) => res.end())
      rejecting.use(errorHandler)
      expect((await request(rejecting).get('/ok')).status).toBe(499)
      expect(seen[0]).toBeInstanceOf(CredentialMissingError)
      expect(seen[1]).toBe(boom)
      expect(seen[2]).toBe(asyncBoom)
    })
  })

  describe('client disconnect', () => {
    let server: http.Server | undefined
    afterEach(async () => {
      await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)))
      server = undefined
    })

    /** Starts `app` on a free port; `abort(path)` sends a request and drops it after `afterMs`. */
    async function listen(app: Express, apiKey: string) {
      server = http.createServer(app)
      await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve))
      const { port } = server.address() as AddressInfo
      const abort = (path: string, afterMs: number) =>
        new Promise<void>((resolve) => {
          const req = http.get({ host: '127.0.0.1', port, path, headers: auth(apiKey), agent: false })
          req.on('error', () => resolve())
          req.on('response', () => resolve())
          setTimeout(() => {
            req.destroy()
            resolve()
          }, afterMs)
        })
      return { abort }
    }

    it('releases the reservation when the client goes away mid-request', async () => {
      const { ledger, alice, planId, gate } = world()
      await subscribe(ledger, planId, alice)
      let started = 0
      let finished = 0
      const mw = requirePlan(planId, { gate })
      const app = appWith(mw, (app) =>
        app.get('/slow', mw, async (_req, res) => {
          started++
          await sleep(400)
          res.json({ late: true })
          finished++
        }),
      )
      const { abort } = await listen(app, alice.apiKey)
      await abort('/slow', 100)
      expect(started).toBe(1)
      // The route is still waiting, yet the credit is back: two requests fit in 2 credits.
      const first = await request(server!).get('/ok').set(auth(alice.apiKey))
      const second = await request(server!).get('/ok').set(auth(alice.apiKey))
      expect([first.body.remaining, second.body.remaining]).toEqual([1, 0])
      expect(finished).toBe(0)
      await eventually(() => expect(finished).toBe(1))
      await sleep(20)
      await gate.close()
      expect(ledger.redeemed(planId)).toBe(2)
      expect(ledger.orders(planId)).toBe(1)
    })

    it('releases the credits and passes the error on when the request cannot be handed on (its head already sent), cold and warm', async () => {
      const { ledger, alice, planId, gate } = track(world())
      await subscribe(ledger, planId, alice)
      const route = vi.fn((_req: Request, res: Response) => res.end())
      const errors: unknown[] = []
      const app = express()
      const early: RequestHandler = (_req, res, next) => {
        res.writeHead(200, { 'content-type': 'text/plain' })
        res.write('early')
        next()
      }
      app.get('/sent', early, requirePlan(planId, { gate }), route)
      app.get('/ok', requirePlan(planId, { gate }), (req, res) => res.json(req.balance))
      app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
        errors.push(err)
        res.end()
      })
      // The first request reads the balance (admitted later), the second is warm (admitted at once).
      await request(app).get('/sent').set(auth(alice.apiKey))
      await request(app).get('/sent').set(auth(alice.apiKey))
      expect(route).not.toHaveBeenCalled()
      expect(errors.map((e) => (e as { code?: string }).code)).toEqual(['ERR_HTTP_HEADERS_SENT', 'ERR_HTTP_HEADERS_SENT'])
      const res = await request(app).get('/ok').set(auth(alice.apiKey))
      expect(res.body.remaining).toBe(1) // both credits were given back
      await gate.close()
      expect(ledger.redeemed(planId)).toBe(1)
    })

    it('releases, and skips the route, when the client left while the balance was being read', async () => {
      const { ledger, alice, planId, gate } = world()
      await subscribe(ledger, planId, alice)
      ledger.inject('balance', { delayMs: 300 })
      const route = vi.fn((_req: Request, res: Response) => res.json({}))
      const app = appWith(requirePlan(planId, { gate }), (app) => app.get('/paid', requirePlan(planId, { gate }), route))
      const { abort } = await listen(app, alice.apiKey)
      await abort('/paid', 100)
      await sleep(400)
      expect(route).not.toHaveBeenCalled()
      const first = await request(server!).get('/ok').set(auth(alice.apiKey))
      const second = await request(server!).get('/ok').set(auth(alice.apiKey))
      expect([first.body.remaining, second.body.remaining]).toEqual([1, 0])
      await gate.close()
      expect(ledger.redeemed(planId)).toBe(2)
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
      ['null', null],
    ])('plan id %s throws a TypeError at creation', (_what, planId) => {
      expect(() => requirePlan(planId as never, { gate })).toThrow(TypeError)
    })

    it.each([
      ['-1', -1],
      ['1.5', 1.5],
      ["'1'", '1'],
    ])('cost %s throws a TypeError at creation', (_what, cost) => {
      expect(() => requirePlan(1, { gate, cost: cost as never })).toThrow(/cost/)
      expect(() => requirePlan(1, { gate, cost: cost as never })).toThrow(TypeError)
    })

    it('an unknown option throws a TypeError naming it', () => {
      expect(() => requirePlan(1, { gate, costs: 2 } as never)).toThrow(/"costs"/)
      expect(() => requirePlan(1, { gate, costs: 2 } as never)).toThrow(TypeError)
    })

    it('a non-function onDenied throws a TypeError', () => {
      expect(() => requirePlan(1, { gate, onDenied: 'json' as never })).toThrow(/onDenied/)
      expect(() => requirePlan(1, { gate, onDenied: 'json' as never })).toThrow(TypeError)
    })

    it('a non-boolean headers, a non-function credential and a fake gate throw TypeErrors', () => {
      expect(() => requirePlan(1, { gate, headers: 'no' as never })).toThrow(TypeError)
      expect(() => requirePlan(1, { gate, credential: 'key' as never })).toThrow(TypeError)
      expect(() => requirePlan(1, { gate: {} as never })).toThrow(TypeError)
    })

    it.each([
      ['a 78-digit string', '1234567890'.repeat(7) + '12345678', '1234567890'.repeat(7) + '12345678'],
      ['a bigint', 2n ** 200n, (2n ** 200n).toString()],
      ['a string with leading zeros', '0042', '42'],
    ])('takes %s as the plan id and sends its exact decimal string', async (_what, id, decimal) => {
      const { alice, gate, calls } = world()
      const res = await request(appWith(requirePlan(id, { gate }))).get('/ok').set(auth(alice.apiKey))
      // The ledger has no such plan: the server is misconfigured, and says so without the key.
      expectProblem(res, 500, 'PLAN_NOT_FOUND', decimal, secretsOf(alice.apiKey))
      expect(calls.length).toBeGreaterThan(0)
      for (const call of calls) expect(new URL(call.url).pathname).toContain(`/protocol/plans/${decimal}/`)
      await gate.close()
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

    it('throws at creation, naming NVM_API_KEY, when there is no gate and no NVM_API_KEY', () => {
      delete process.env.NVM_API_KEY
      expect(() => requirePlan(1)).toThrow(/NVM_API_KEY/)
      expect(() => requirePlan(1)).toThrow(GateMisconfiguredError)
    })

    it('uses NVM_API_KEY and NVM_ENVIRONMENT when set, with no I/O at creation', async () => {
      const { owner, alice, ledger, planId } = world()
      const served = await serveLedger(ledger)
      try {
        await subscribe(ledger, planId, alice)
        process.env.NVM_API_KEY = owner.apiKey
        process.env.NVM_ENVIRONMENT = served.baseUrl
        const before = ledger.counters
        const mw = requirePlan(planId)
        expect(mw.name).toBe('requirePlanMiddleware')
        expect(ledger.counters).toEqual(before)
        const res = await request(appWith(mw)).get('/ok').set(auth(alice.apiKey))
        expect(res.status).toBe(200)
        expect(res.body.remaining).toBe(1)
        await sharedGate({ NVM_API_KEY: owner.apiKey, NVM_ENVIRONMENT: served.baseUrl }).close()
        expect(ledger.redeemed(planId)).toBe(1)
      } finally {
        await served.close()
      }
    })
  })
})
