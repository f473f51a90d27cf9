/**
 * What only Koa does: denials thrown as Koa's own HttpError, which a middleware above may answer
 * its own way, and errors thrown below never charged. Everything every adapter does the same way
 * is in the shared table, test/adapters/cases.ts, run on Koa 3 and 2 by test/adapters/adapters.test.ts.
 */
import http from 'node:http'
import Koa3, { HttpError, type Middleware } from 'koa'
import Koa2 from 'koa2'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { CredentialMissingError, requirePlan, type PlanDeniedError, type PlanGate } from '@plangate/koa'
import { auth, expectProblem, get, listenOn, probe, type RunningApp } from '../../../test/adapters/index'
import { secretsOf, subscribe, world } from '../../../test/helpers/world'

describe.each([
  ['Koa 3', Koa3],
  ['Koa 2', Koa2],
])('requirePlan on %s', (_name, Koa) => {
  const apps: RunningApp[] = []
  const gates: PlanGate[] = []
  afterEach(async () => {
    vi.restoreAllMocks()
    await Promise.all(apps.splice(0).map((app) => app.close()))
    await Promise.all(gates.splice(0).map((gate) => gate.close()))
  })

  /** `above` (an error handler, say), then requirePlan, then `route`, on loopback. */
  async function serve(gate: PlanGate, planId: string, above: Middleware | undefined, route: Middleware) {
    const app = new Koa()
    if (above) app.use(above)
    app.use(requirePlan(planId, { gate }))
    app.use(route)
    const running = await listenOn(http.createServer(app.callback()), probe())
    apps.push(running)
    return { app, url: running.url }
  }

  const served: Middleware = (ctx) => void (ctx.body = ctx.state.balance)

  it("throws the denial as Koa's HttpError: exposed, with its status, headers, problem body and cause", async () => {
    const w = world()
    gates.push(w.gate)
    const caught: unknown[] = []
    const above: Middleware = async (ctx, next) => {
      try {
        await next()
      } catch (error) {
        caught.push(error)
        ctx.status = 418
        ctx.body = { mine: (error as PlanDeniedError).code }
      }
    }
    const { url } = await serve(w.gate, w.planId, above, served)
    const res = await get(url, '/')
    expect([res.status, res.json()]).toEqual([418, { mine: 'CREDENTIAL_MISSING' }])
    const error = caught[0] as PlanDeniedError
    expect(error).toBeInstanceOf(HttpError)
    expect(error).toMatchObject({ status: 401, statusCode: 401, expose: true, code: 'CREDENTIAL_MISSING' })
    expect(error.headers['WWW-Authenticate']).toMatch(/^Bearer\b/)
    expect(error.body).toMatchObject({ status: 401, code: 'CREDENTIAL_MISSING', planId: w.planId })
    expect(error.message).toBe(error.body.detail)
    expect(error.cause).toBeInstanceOf(CredentialMissingError)
  })

  it('a denial that reaches Koa is answered as problem+json, and is not logged as a crash', async () => {
    const w = world()
    gates.push(w.gate)
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {})
    const { app, url } = await serve(w.gate, w.planId, undefined, served)
    const events: unknown[] = []
    app.on('error', (error: unknown) => events.push(error))
    const key = 'nvm:eyJhbGciOiJIUzI1NiJ9.bm90LWpzb24.c2lnbmF0dXJl'
    const res = await get(url, '/', auth(key))
    expectProblem(res, 401, 'CREDENTIAL_INVALID', w.planId, secretsOf(key))
    expect(res.headers.get('www-authenticate')).toMatch(/invalid_token/)
    expect(Number(res.headers.get('content-length'))).toBe(Buffer.byteLength(res.text))
    expect(events).toHaveLength(1) // as Koa tells of every error it answers
    expect(logged).not.toHaveBeenCalled()
  })

  it('rethrown as it is, the denial is still answered as problem+json; another error, as Koa answers it', async () => {
    const w = world()
    gates.push(w.gate)
    let replace = false
    const above: Middleware = async (_ctx, next) => {
      try {
        await next()
      } catch (error) {
        throw replace ? Object.assign(new Error('replaced'), { status: 409, expose: true }) : error
      }
    }
    const { app, url } = await serve(w.gate, w.planId, above, served)
    app.silent = true
    expectProblem(await get(url, '/'), 401, 'CREDENTIAL_MISSING', w.planId)
    replace = true
    const other = await get(url, '/')
    expect([other.status, other.headers.get('content-type'), other.text]).toEqual([409, 'text/plain; charset=utf-8', 'replaced'])
  })

  it('an error thrown below is never charged, even when a middleware above answers it 200', async () => {
    const { ledger, alice, planId, gate } = world()
    await subscribe(ledger, planId, alice)
    const above: Middleware = async (ctx, next) => {
      try {
        await next()
      } catch {
        ctx.body = { recovered: true }
      }
    }
    const { url } = await serve(gate, planId, above, (ctx) => {
      if (ctx.path === '/throw') throw new Error('route failed')
      ctx.body = ctx.state.balance
    })
    const recovered = await get(url, '/throw', auth(alice.apiKey))
    expect([recovered.status, recovered.json()]).toEqual([200, { recovered: true }])
    expect(recovered.headers.get('x-credits-remaining')).toBeNull()
    const next = await get(url, '/', auth(alice.apiKey))
    expect(next.json().remaining).toBe(1) // the credit came back
    await gate.close()
    expect(ledger.redeemed(planId)).toBe(1)
  })

  it('onDenied is an unknown option (Koa answers denials through its error handling): a TypeError naming it', () => {
    const { gate } = world()
    gates.push(gate)
    expect(() => requirePlan(1, { gate, onDenied: () => {} } as never)).toThrow(/"onDenied"/)
    expect(() => requirePlan(1, { gate, onDenied: () => {} } as never)).toThrow(TypeError)
  })
})
