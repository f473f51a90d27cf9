/**
 * `@plangate/fastify`: a Fastify 5 plugin, which charges a whole scope or adds `app.requirePlan()`
 * for a route's preHandler (docs/reference/frameworks.md, 'Fastify (5)').
 * Translation only: every decision is `@plangate/core`'s (`admit`, `isServed`, the gate).
 */
export { plangate } from './plugin'
export type { FastifyRequirePlanOptions, PlangateOptions } from './types'
export * from '@plangate/core/reexport'
