import Koa, { type Middleware, type ParameterizedContext } from 'koa'
import { describe, expectTypeOf, it } from 'vitest'
import { createPlanGate, requirePlan, type KoaRequirePlanOptions, type PlanBalance, type PlanState } from '@plangate/koa'

describe('@plangate/koa types', () => {
  const gate = createPlanGate({ apiKey: 'nvm:x.y.z' })

  it('types ctx.state.balance as PlanBalance on every Koa app (DefaultState)', () => {
    const app = new Koa()
    app.use(requirePlan(7, { gate }))
    app.use((ctx) => {
      expectTypeOf(ctx.state.balance).toEqualTypeOf<PlanBalance>()
      expectTypeOf(ctx.state.balance.remaining).toEqualTypeOf<number>()
      ctx.body = ctx.state.balance
    })
  })

  it('types ctx.state.balance through PlanState on an app with a state of its own', () => {
    const app = new Koa<PlanState & { user: string }>()
    app.use(requirePlan(7, { gate })).use((ctx: ParameterizedContext<PlanState & { user: string }>) => {
      expectTypeOf(ctx.state.balance).toEqualTypeOf<PlanBalance>()
      expectTypeOf(ctx.state.user).toEqualTypeOf<string>()
    })
  })

  it('types the middleware and its options', () => {
    expectTypeOf(requirePlan(7)).toEqualTypeOf<Middleware<PlanState>>()
    expectTypeOf(requirePlan).parameter(0).toEqualTypeOf<number | bigint | string>()
    expectTypeOf<NonNullable<KoaRequirePlanOptions['credential']>>().parameter(0).toEqualTypeOf<Koa.Context>()
    requirePlan(7n, { gate, cost: (ctx) => Number(ctx.query.n), credential: (ctx) => ctx.get('x-api-key'), headers: false })
    requirePlan('7', { cost: async () => 2 })
    // @ts-expect-error onDenied is Express only: Koa answers denials through its error handling
    requirePlan(7, { onDenied: () => {} })
    // @ts-expect-error cost is a number or a function
    requirePlan(7, { cost: '2' })
  })
})
