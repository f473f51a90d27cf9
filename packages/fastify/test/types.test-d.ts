import Fastify, { type FastifyRequest, type preHandlerAsyncHookHandler } from 'fastify'
import { describe, expectTypeOf, it } from 'vitest'
import { createPlanGate, plangate, type FastifyRequirePlanOptions, type PlanBalance } from '@plangate/fastify'

describe('@plangate/fastify types', () => {
  const gate = createPlanGate({ apiKey: 'nvm:x.y.z' })

  it('types request.balance as PlanBalance through declaration merging', () => {
    const app = Fastify()
    void app.register(plangate, { planId: 7, gate })
    app.get('/ask', async (request) => {
      expectTypeOf(request.balance).toEqualTypeOf<PlanBalance>()
      return request.balance.remaining
    })
  })

  it('takes app.requirePlan as a preHandler, on routes with typed generics too', () => {
    const app = Fastify()
    void app.register(plangate)
    app.get<{ Querystring: { n: string } }>('/ask', { preHandler: app.requirePlan(7, { gate }) }, async (request) => {
      expectTypeOf(request.query.n).toEqualTypeOf<string>()
      return request.balance
    })
    app.post('/long', { preHandler: [app.requirePlan(7, { gate, cost: 5 })] }, async (request) => request.balance)
  })

  it('types the preHandler and the options', () => {
    const app = Fastify()
    const requirePlan = app.requirePlan.bind(app)
    expectTypeOf(app.requirePlan(7)).toEqualTypeOf<preHandlerAsyncHookHandler>()
    expectTypeOf<NonNullable<FastifyRequirePlanOptions['credential']>>().parameter(0).toEqualTypeOf<FastifyRequest>()
    requirePlan(7n, { gate, cost: (request) => Number((request.query as { n: string }).n), credential: (request) => request.headers['x-api-key'] as string, headers: false })
    void Fastify().register(plangate, { planId: '7', cost: async () => 2 })
    // @ts-expect-error onDenied is Express only
    requirePlan(7, { onDenied: () => {} })
    // @ts-expect-error cost is a number or a function
    void Fastify().register(plangate, { planId: 7, cost: '2' })
  })
})
