import type { PlanBalance } from '@plangate/core'
import type { RequirePlanOptions } from '@plangate/core/adapter'
import type { Context } from 'koa'

/** What `requirePlan` adds to `ctx.state`. For `new Koa<PlanState>()` or `Router<PlanState>`. */
export interface PlanState {
  /** The caller's plan balance after this request's cost. */
  balance: PlanBalance
}

declare module 'koa' {
  // Koa's own way to type what middleware adds to ctx.state: `ctx.state.balance` is typed on
  // every app (docs/reference/frameworks.md, 'Koa (2 and 3)').
  interface DefaultState extends PlanState {}
}

/** The options of `requirePlan` for Koa; `cost` and `credential` get the `Context`. */
export interface KoaRequirePlanOptions extends RequirePlanOptions<Context> {}
