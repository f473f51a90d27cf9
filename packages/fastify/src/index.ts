/**
 * `@plangate/fastify`: a Fastify 5 plugin and `requirePlan()` preHandler (docs/reference/frameworks.md, 'Fastify (5)').
 * Translation only: every decision is `@plangate/core`'s (`admit`, `isServed`, the gate).
 */
export { plangate } from './plugin'
export { requirePlan } from './require-plan'
export type { FastifyRequirePlanOptions, PlangateOptions } from './types'
export * from '@plangate/core/reexport'
