import type { PlanBalance } from '@plangate/core'
import type { RequirePlanOptions } from '@plangate/core/adapter'
import type { Context } from 'hono'

/** What `requirePlan` adds to the context: `c.get('balance')`. For `new Hono<{ Variables: PlanVariables }>()`. */
export type PlanVariables = { balance: PlanBalance }

declare module 'hono' {
  interface ContextVariableMap extends PlanVariables {}
}

/** The options of `requirePlan` for Hono; `cost`, `credential` and a usage cost's `usage` get the `Context`. */
export interface HonoRequirePlanOptions extends RequirePlanOptions<Context, [Context]> {}
