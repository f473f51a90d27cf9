/**
 * `@plangate/hono`: `requirePlan()` for Hono on Node, workerd, Deno and Bun (docs/reference/frameworks.md,
 * 'Hono (Node, Cloudflare Workers, Deno, Bun)'; docs/DEPLOY.md). Web APIs only. Translation only: every
 * decision is `@plangate/core`'s (`admit`, `isServed`, the gate).
 */
export { requirePlan } from './require-plan'
export type { HonoRequirePlanOptions, PlanVariables } from './types'
export * from '@plangate/core/reexport'
