/**
 * `@plangate/express`: `requirePlan()` for Express 4 and 5 (docs/reference/frameworks.md, 'Express (4 and 5)').
 * Translation only: every decision is `@plangate/core`'s (`admit`, `isServed`, the gate).
 */
export { requirePlan } from './require-plan'
export type { ExpressRequirePlanOptions } from './types'
export * from '@plangate/core/reexport'
