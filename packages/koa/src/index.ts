/**
 * `@plangate/koa`: `requirePlan()` for Koa 2 and 3 (docs/reference/frameworks.md, 'Koa (2 and 3)'). Translation only:
 * every decision is `@plangate/core`'s (`admit`, `isServed`, the gate).
 */
export { requirePlan } from './require-plan'
export type { KoaRequirePlanOptions, PlanState } from './types'
export type { PlanDeniedError } from './denial'
export * from '@plangate/core/reexport'
