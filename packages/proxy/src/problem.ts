/**
 * The proxy's own answers, when it refuses a request or the upstream fails it:
 * `application/problem+json` (RFC 9457) in the same shape as the gate's denials, so a client
 * parses one kind of error. Never the upstream's address, never a key.
 */
export type ProxyProblemCode =
  | 'PATH_AMBIGUOUS'
  | 'REQUEST_MALFORMED'
  | 'UPGRADE_NOT_FORWARDED'
  | 'UPSTREAM_UNREACHABLE'
  | 'UPSTREAM_TIMEOUT'
  | 'METHOD_NOT_FORWARDED'
  | 'INTERNAL_ERROR'

const TITLES: Record<ProxyProblemCode, [status: number, title: string]> = {
  PATH_AMBIGUOUS: [400, 'Ambiguous request path'],
  REQUEST_MALFORMED: [400, 'Malformed request'],
  UPGRADE_NOT_FORWARDED: [501, 'Protocol upgrade not forwarded'],
  UPSTREAM_UNREACHABLE: [502, 'Upstream API unreachable'],
  UPSTREAM_TIMEOUT: [504, 'Upstream API timed out'],
  METHOD_NOT_FORWARDED: [501, 'Method not forwarded'],
  INTERNAL_ERROR: [500, 'Internal error'],
}

/** @example problemResponse('UPSTREAM_TIMEOUT', '7', 'The API did not answer within 30000 ms; nothing was charged.') */
export function problemResponse(code: ProxyProblemCode, planId: string, detail: string): Response {
  const [status, title] = TITLES[code]
  const body = { type: `urn:plangate:problem:${code.toLowerCase().replace(/_/g, '-')}`, title, status, detail, code, planId }
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/problem+json', 'Cache-Control': 'no-store' },
  })
}
