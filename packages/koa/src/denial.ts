import type { ProblemDetails } from '@plangate/core'
import type { Admission } from '@plangate/core/adapter'
import type { Context } from 'koa'

/**
 * What `requirePlan` throws for a denial: Koa's own `HttpError` (made by `ctx.throw`, so
 * `err instanceof HttpError` holds), exposed, with the problem document as `body`, the denial's
 * headers, its `code`, and the gate's error as `cause`.
 */
export interface PlanDeniedError extends Error {
  status: number
  statusCode: number
  expose: true
  headers: Record<string, string>
  body: ProblemDetails
  code: string
  cause: unknown
}

type Denied = Extract<Admission, { allowed: false }>

/**
 * Throws the denial. If it comes back to Koa unanswered (no middleware above caught it), it is
 * answered as problem+json: Koa's own last handler would answer it as text/plain.
 */
export function throwDenial(ctx: Context, denial: Denied): never {
  const error = httpError(ctx, denial)
  const koaOnerror = ctx.onerror
  // Own property of this request's context only: Koa calls ctx.onerror(err) for what reaches it.
  ctx.onerror = function onerror(this: Context, err: unknown) {
    if (err === error && answerProblem(this, error)) return
    koaOnerror.call(this, err as Error)
  }
  throw error
}

function httpError(ctx: Context, denial: Denied): PlanDeniedError {
  try {
    ctx.throw(denial.status, denial.body.detail, {
      expose: true, // written for the caller; Koa's default logger then leaves it out, as for a 4xx
      headers: denial.headers,
      body: denial.body,
      code: denial.body.code,
      cause: denial.error,
    })
  } catch (error) {
    return error as PlanDeniedError
  }
}

/** As Koa's own last handler does, but with the problem document. False when it is too late. */
function answerProblem(ctx: Context, error: PlanDeniedError): boolean {
  if (ctx.headerSent || !ctx.writable) return false
  ctx.app.emit('error', error, ctx)
  const res = ctx.res
  for (const name of res.getHeaderNames()) res.removeHeader(name)
  for (const name in error.headers) res.setHeader(name, error.headers[name]!)
  const text = JSON.stringify(error.body)
  res.statusCode = error.status
  res.setHeader('Content-Length', Buffer.byteLength(text))
  res.end(text)
  return true
}
