/**
 * What the proxy decides of a request before anything is charged: whether it may be forwarded at
 * all, the path it will be sent with, and its price. One decision, so that the path priced is the
 * path sent and the method priced is every method the upstream may run.
 */
import { asksUpgrade, overrideMethods, saysBody } from './headers'
import type { ResolvedProxyOptions } from './options'
import { canonicalPath, isPlainTarget } from './path'
import { problemResponse } from './problem'
import { dearer } from './routes'

/** A request the proxy will forward. */
export interface Admitted {
  /** The path to send upstream (below its base path), exactly the one priced. */
  pathname: string
  /** Credits to charge (at most, for a route priced by usage); 0 is not gated. */
  cost: number
  /** A route priced by usage: the response header (lower case) the upstream reports what it used in. */
  usageHeader: string | undefined
  /** A CORS preflight let through free (see preflightResponseHeaders). */
  freePreflight: boolean
}

/** Why a path is refused (PATH_AMBIGUOUS). */
export const PATH_REFUSED =
  'The path holds an encoded "/", "\\" or "." (%2F, %5C, %2E), a backslash or a ";", which APIs read in different ways: spell it plainly. Nothing was charged.'

// Methods fetch refuses to send (a CONNECT tunnel is not an HTTP request to forward either).
const UNFORWARDABLE = new Set(['CONNECT', 'TRACE', 'TRACK'])

/**
 * Admits a request, or answers it with a problem (nothing charged, nothing sent upstream).
 * `rawTarget`: the request target as received, where the server gives it (see isPlainTarget).
 *
 * @example admit(new Request('http://proxy/paid/..%2fhealth'), undefined, config) // a 400 Response
 */
export function admit(request: Request, rawTarget: string | undefined, config: ResolvedProxyOptions): Admitted | Response {
  const { method, headers } = request
  if (UNFORWARDABLE.has(method)) {
    return problemResponse('METHOD_NOT_FORWARDED', config.planId, `${method} requests are not forwarded; nothing was charged.`)
  }
  // Forwarded as a plain request, an upgrade would be charged for an answer that is not the one asked for.
  if (asksUpgrade(headers)) {
    return problemResponse('UPGRADE_NOT_FORWARDED', config.planId, 'Protocol upgrades (WebSocket, h2c) are not forwarded: send a plain HTTP/1.1 request. Nothing was charged.')
  }
  const pathname = rawTarget === undefined || isPlainTarget(rawTarget) ? canonicalPath(new URL(request.url).pathname) : undefined
  if (pathname === undefined) {
    return problemResponse('PATH_AMBIGUOUS', config.planId, PATH_REFUSED)
  }

  // With methodOverride on, the upstream may run any method the headers name: the dearest is charged.
  const overrides = config.methodOverride ? overrideMethods(headers) : []
  const preflight = method === 'OPTIONS' && overrides.length === 0 && headers.has('origin') && headers.has('access-control-request-method') && !saysBody(headers)
  let price = config.costOf.priceOf(method, pathname, { preflight })
  for (const other of overrides) price = dearer(price, config.costOf.priceOf(other, pathname))
  return { pathname, cost: price.cost, usageHeader: price.usageHeader, freePreflight: preflight && price.cost === 0 }
}
