/**
 * The route under test, bare and behind `requirePlan`, in Express 5 and in Hono. The route does the
 * same tiny work in every variant, so the difference is what plangate costs.
 */
import type { PlanGate } from '@plangate/core'
import type { Route } from '../protocol'
import { requirePlan as expressPlan } from '@plangate/express'
import { requirePlan as honoPlan } from '@plangate/hono'
import express from 'express'
import { Hono } from 'hono'
import { expressFloor, honoFloor } from './floor'

const BODY = { answer: 'ok' }

/**
 * requirePlan with this gate and plan (and its `headers` option, default true); `'noop'`: a
 * middleware that does nothing, asynchronously; or `{ floor }`: the least any per-request plan
 * middleware must do (./floor.ts), for that plan id.
 */
export type Guard = { gate: PlanGate; planId: string; headers?: boolean; metered?: boolean } | 'noop' | { floor: string }

/** requirePlan's options for a guard: `metered` prices by usage (`cost: { max: 1 }`, the route reports `use(1)`). */
function planOptions(guard: { gate: PlanGate; headers?: boolean; metered?: boolean }) {
  return { gate: guard.gate, headers: guard.headers ?? true, ...(guard.metered && { cost: { max: 1 } }) }
}

export function expressApp(guard: Guard | undefined, kind: Route = 'sync'): express.Express {
  const app = express()
  const route: express.RequestHandler =
    kind === 'sync'
      ? (_req, res) => void res.json(BODY)
      : async (_req, res) => {
          await null // stands for the database or model call a real route awaits
          res.json(BODY)
        }
  if (guard === 'noop') app.get('/ask', (_req, _res, next) => void Promise.resolve().then(() => next()), route)
  else if (guard && 'floor' in guard) app.get('/ask', expressFloor(guard.floor), route)
  else if (guard?.metered) app.get('/ask', expressPlan(guard.planId, planOptions(guard)), (req, res) => (req.balance.use(1), res.json(BODY)))
  else if (guard) app.get('/ask', expressPlan(guard.planId, planOptions(guard)), route)
  else app.get('/ask', route)
  return app
}

export function honoApp(guard: Guard | undefined, kind: Route = 'sync'): Hono {
  const app = new Hono()
  if (guard === 'noop') app.use('/ask', async (_c, next) => await next())
  else if (guard && 'floor' in guard) app.use('/ask', honoFloor(guard.floor))
  else if (guard) app.use('/ask', honoPlan(guard.planId, planOptions(guard)))
  if (guard && typeof guard === 'object' && 'gate' in guard && guard.metered) {
    app.get('/ask', (c) => {
      ;(c.get('balance' as never) as { use(n: number): void }).use(1)
      return c.json(BODY)
    })
  } else if (kind === 'sync') app.get('/ask', (c) => c.json(BODY))
  else {
    app.get('/ask', async (c) => {
      await null // stands for the database or model call a real route awaits
      return c.json(BODY)
    })
  }
  return app
}
