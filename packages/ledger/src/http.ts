import type { LedgerEndpoint } from './types'

/** A JSON answer. Every answer of the ledger is JSON, as the real API's are. */
export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json', ...headers },
  })
}

/** An error answer: `{ message }`. Messages never contain the key that was sent. */
export function errorResponse(status: number, message: string, headers: Record<string, string> = {}, code?: string): Response {
  return jsonResponse(status, code === undefined ? { message } : { message, code }, headers)
}

/** A request that names one of the calls, with its path parameters still raw. */
export type Route =
  | { endpoint: 'order'; planId: string }
  | { endpoint: 'balance'; planId: string; holder: string }
  | { endpoint: 'plan'; planId: string }
  | { endpoint: 'redeem' | 'verify' | 'settle' | 'delegation' | 'permission' }

export type RouteMatch = { route: Route } | { response: Response }

const METHODS: Record<LedgerEndpoint, string> = {
  order: 'POST',
  balance: 'GET',
  redeem: 'POST',
  plan: 'GET',
  verify: 'POST',
  settle: 'POST',
  delegation: 'POST',
  permission: 'POST',
}

/**
 * Finds the call a request makes from its method and path. Only the path after the base URL's
 * path counts, not the host: the same ledger answers in-process at `http://ledger.local/api/v1`
 * and behind a real server at `http://127.0.0.1:54321/api/v1`.
 */
export function matchRoute(method: string, pathname: string, basePath: string): RouteMatch {
  if (!pathname.startsWith(`${basePath}/`)) return notFound()
  const path = pathname.slice(basePath.length + 1)
  const parts = path.split('/')

  let route: Route
  if (path === 'x402/verify') route = { endpoint: 'verify' }
  else if (path === 'x402/settle') route = { endpoint: 'settle' }
  else if (path === 'x402/permissions') route = { endpoint: 'permission' }
  else if (path === 'delegation/create') route = { endpoint: 'delegation' }
  else if (parts[0] !== 'protocol' || parts[1] !== 'plans') return notFound()
  else if (parts.length === 3 && parts[2] === 'redeem') route = { endpoint: 'redeem' }
  else if (parts.length === 3) route = { endpoint: 'plan', planId: parts[2]! }
  else if (parts.length === 4 && parts[3] === 'order') route = { endpoint: 'order', planId: parts[2]! }
  else if (parts.length === 5 && parts[3] === 'balance') route = { endpoint: 'balance', planId: parts[2]!, holder: parts[4]! }
  else return notFound()

  const allowed = METHODS[route.endpoint]
  if (method !== allowed) {
    return { response: errorResponse(405, `Method ${method} is not allowed here; use ${allowed}.`, { Allow: allowed }) }
  }
  return { route }
}

function notFound(): RouteMatch {
  return { response: errorResponse(404, 'Not found.') }
}

/**
 * Turns fetch's arguments into a Request, the way `fetch` itself would, except that a relative
 * URL resolves against the ledger's base URL. Servers call their handler as `fetch(request, env)`
 * (`@hono/node-server` passes its bindings, workerd a module worker's env): read as a RequestInit,
 * such an env has no known field, so the Request comes through unchanged. The Request may come
 * from a server adapter's own class, so it is duck-typed.
 */
export function toRequest(input: Request | string | URL, init: unknown, baseUrl: string): Request {
  const requestInit = init as RequestInit | undefined
  if (isRequestLike(input)) return requestInit === undefined ? input : new Request(input, requestInit)
  return new Request(new URL(String(input), `${baseUrl}/`), requestInit)
}

function isRequestLike(input: unknown): input is Request {
  return (
    typeof input === 'object' &&
    input !== null &&
    !(input instanceof URL) &&
    typeof (input as Request).url === 'string' &&
    typeof (input as Request).method === 'string' &&
    typeof (input as Request).headers === 'object'
  )
}

/** A request body that must be one JSON object of at most `maxChars`; a string is why it is refused. */
export function jsonObject(text: string, maxChars: number): Record<string, unknown> | string {
  if (text.length > maxChars) return 'The body is too large.'
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    return 'The body is not JSON.'
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'The body must be a JSON object.'
  return body as Record<string, unknown>
}

/** The token of an `Authorization: Bearer <token>` header, or undefined when there is none. */
export function bearerToken(authorization: string | null): string | undefined {
  if (!authorization) return undefined
  const match = /^\s*Bearer\s+(\S+)\s*$/i.exec(authorization)
  return match ? match[1] : undefined
}
