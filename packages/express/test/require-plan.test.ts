/**
 * What only Express does. Everything every adapter does the same way (success, settlement, cost,
 * credentials, payment, options, the gate from the environment, clients that leave) is in the
 * shared table, test/adapters/cases.ts, run on Express 5 and 4 by test/adapters/adapters.test.ts.
 */
import express5, { type Express, type NextFunction, type Request, type RequestHandler, type Response } from 'express'
import express4 from 'express4'
import request from 'supertest'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { CredentialMissingError, PlanGateError, requirePlan, type PlanGate } from '@plangate/express'
import { subscribe, world } from './helpers'

const auth = (apiKey: string) => ({ Authorization: `Bearer ${apiKey}` })

describe.each([
  ['Express 5', express5],
  ['Express 4', express4],
])('requirePlan on %s', (_name, express) => {
  /** Routes behind `mw`: one that serves, one that fails, one that fails through next(err) later. */
  function appWith(mw: RequestHandler, extra?: (app: Express) => void): Express {
    const app = express()
    app.get('/ok', mw, (req, res) => {
      res.json(req.balance)
    })
    app.get('/bad', mw, (_req, res) => {
      res.status(400).json({ error: 'bad input' })
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

  it('an error passed to next() later redeems nothing and gives the credits back', async () => {
    const { ledger, alice, planId, gate } = world()
    await subscribe(ledger, planId, alice)
    const app = appWith(requirePlan(planId, { gate }))
    const failed = await request(app).get('/next-error').set(auth(alice.apiKey))
    expect(failed.status).toBe(500)
    expect(failed.headers['x-credits-remaining']).toBeUndefined()
    expect(failed.headers['x-plan-id']).toBeUndefined()
    const first = await request(app).get('/ok').set(auth(alice.apiKey))
    const second = await request(app).get('/ok').set(auth(alice.apiKey))
    expect([first.body.remaining, second.body.remaining]).toEqual([1, 0])
    await gate.close()
    expect(ledger.redeemed(planId)).toBe(2)
    expect(ledger.orders(planId)).toBe(1)
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

  describe('options', () => {
    const { gate } = track(world())

    it('a non-function onDenied throws a TypeError', () => {
      expect(() => requirePlan(1, { gate, onDenied: 'json' as never })).toThrow(/onDenied/)
      expect(() => requirePlan(1, { gate, onDenied: 'json' as never })).toThrow(TypeError)
    })

    it('the middleware is a named function (it shows in Express stack traces and profiles)', () => {
      expect(requirePlan(1, { gate }).name).toBe('requirePlanMiddleware')
    })
  })
})
