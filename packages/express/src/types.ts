import type { PlanBalance } from '@plangate/core'
import type { RequirePlanOptions } from '@plangate/core/adapter'
import type { NextFunction, Request, Response } from 'express'

declare global {
  // Express's own way to type what middleware adds to the request: `req.balance` is typed in
  // every route, with no cast (docs/reference/frameworks.md, 'Express (4 and 5)').
  namespace Express {
    interface Request {
      /** The caller's plan balance after this request's cost, set by `requirePlan()`. */
      balance: PlanBalance
    }
  }
}

/**
 * The options of `requirePlan` for Express: the common ones, plus `onDenied`. A usage cost's
 * `usage` gets `(req, res)` once the answer is sent: `cost: { max: 50, usage: (req, res) => res.locals.tokens }`.
 */
export interface ExpressRequirePlanOptions extends RequirePlanOptions<Request, [Request, Response]> {
  /**
   * Replaces the default answer to a denial (a `PlanGateError`, or anything unexpected), e.g. to
   * render it your way or hand it to your error handler with `next(err)`.
   *
   * @example requirePlan(7, { onDenied: (err, req, res, next) => next(err) })
   */
  onDenied?: (err: unknown, req: Request, res: Response, next: NextFunction) => void
}
