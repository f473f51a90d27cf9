import { Hono, type Context, type MiddlewareHandler } from 'hono'
import { describe, expectTypeOf, it } from 'vitest'
import { createPlanGate, requirePlan, type HonoRequirePlanOptions, type PlanBalance, type PlanVariables } from '@plangate/hono'

describe('@plangate/hono types', () => {
  const gate = createPlanGate({ apiKey: 'nvm:x.y.z' })

  it('types c.get("balance") through ContextVariableMap on a plain Hono app', () => {
    const app = new Hono()
    app.use('/ask/*', requirePlan(7, { gate }))
    app.post('/ask', (c) => {
      expectTypeOf(c.get('balance')).toEqualTypeOf<PlanBalance>()
      return c.json(c.get('balance'))
    })
  })

  it('types c.get("balance") and c.var.balance through PlanVariables', () => {
    const app = new Hono<{ Variables: PlanVariables }>()
    app.get('/ask', requirePlan(7, { gate }), (c) => {
      expectTypeOf(c.get('balance')).toEqualTypeOf<PlanBalance>()
      expectTypeOf(c.var.balance).toEqualTypeOf<PlanBalance>()
      return c.text('ok')
    })
  })

  it('types the middleware and its options', () => {
    expectTypeOf(requirePlan(7)).toEqualTypeOf<MiddlewareHandler<{ Variables: PlanVariables }>>()
    expectTypeOf<NonNullable<HonoRequirePlanOptions['credential']>>().parameter(0).toEqualTypeOf<Context>()
    requirePlan(7n, { gate, cost: (c) => Number(c.req.query('n')), credential: (c) => c.req.header('x-api-key'), headers: false })
    requirePlan('7', { cost: async () => 2 })
    // @ts-expect-error onDenied is Express only: Hono uses app.onError
    requirePlan(7, { onDenied: () => {} })
  })
})
