import type { PlanBalance, PlanId } from '@plangate/core'
import type { RequirePlanOptions } from '@plangate/core/adapter'
import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify'

declare module 'fastify' {
  // Fastify's own way to type what a plugin adds to the request: `request.balance` is typed in
  // every route, with no cast (docs/reference/frameworks.md, 'Fastify (5)').
  interface FastifyRequest {
    /** The caller's plan balance after this request's cost, set by `requirePlan()` (null on routes it does not guard). */
    balance: PlanBalance
  }
  interface FastifyInstance {
    /**
     * A `preHandler` that charges a route `cost` credits of `planId`, added by the `plangate`
     * plugin to the scope it is registered in (and its children): the guard exists only where
     * the plugin's hooks can settle what it admits. Throws a `TypeError` for a bad plan id or
     * option, when it is created.
     *
     * @example
     * await app.register(plangate)
     * app.post('/ask', { preHandler: app.requirePlan(7, { cost: 2 }) }, async (request) => request.balance)
     */
    requirePlan(planId: PlanId, options?: FastifyRequirePlanOptions): preHandlerAsyncHookHandler
  }
}

/**
 * The options of `requirePlan` for Fastify; `cost` and `credential` get the `FastifyRequest`, a
 * usage cost's `usage` gets `(request, reply)` once the answer is sent.
 */
export interface FastifyRequirePlanOptions extends RequirePlanOptions<FastifyRequest, [FastifyRequest, FastifyReply]> {}

/** The plugin's options: with a `planId`, every route of the scope it is registered in is charged. */
export interface PlangateOptions extends FastifyRequirePlanOptions {
  planId?: PlanId
}
