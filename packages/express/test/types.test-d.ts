import express, { type NextFunction, type Request, type Response } from 'express'
import { describe, expectTypeOf, it } from 'vitest'
import { createPlanGate, requirePlan, type ExpressRequirePlanOptions, type PlanBalance } from '@plangate/express'

describe('@plangate/express types', () => {
  const gate = createPlanGate({ apiKey: 'nvm:x.y.z' })

  it('types req.balance as PlanBalance on every Express request', () => {
    const app = express()
    app.get('/ask', requirePlan(7, { gate }), (req, res) => {
      expectTypeOf(req.balance).toEqualTypeOf<PlanBalance>()
      expectTypeOf(req.balance.remaining).toEqualTypeOf<number>()
      res.json(req.balance)
    })
    app.use((req: Request, _res: Response, next: NextFunction) => {
      expectTypeOf(req.balance).toEqualTypeOf<PlanBalance>()
      next()
    })
  })

  it('types the options', () => {
    expectTypeOf(requirePlan).parameter(0).toEqualTypeOf<number | bigint | string>()
    expectTypeOf<ExpressRequirePlanOptions['onDenied']>().toEqualTypeOf<
      ((err: unknown, req: Request, res: Response, next: NextFunction) => void) | undefined
    >()
    requirePlan(7, { gate, cost: (req) => Number(req.query.n), credential: (req) => req.get('x-api-key'), headers: false })
    requirePlan('7', { cost: async () => 2, onDenied: (_err, _req, res) => void res.status(402).end() })
    // @ts-expect-error an unknown option
    requirePlan(7, { costs: 2 })
    // @ts-expect-error cost is a number or a function
    requirePlan(7, { cost: '2' })
  })
})
