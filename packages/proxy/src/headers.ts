/**
 * What crosses the proxy in each direction. Hop-by-hop headers (RFC 9110 §7.6.1) describe one
 * connection and never cross; the caller's credential stops here, so the upstream never holds a
 * key it could spend or leak.
 */

const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']

/** The caller's credentials: the API key (`Authorization`) and an x402 access token. */
const CREDENTIALS = ['authorization', 'payment-signature']

// `host` is the upstream's (fetch sets it); `expect` is one fetch refuses (and Node has already
// answered the 100-continue); `accept-encoding` is replaced, see upstreamRequestHeaders.
const NOT_FORWARDED = ['host', 'expect', 'accept-encoding']

/**
 * Headers that make an upstream (Express's method-override, Hono's methodOverride, Rails,
 * Symfony…) run another method than the one priced: `POST` with `DELETE` in one of them.
 */
export const METHOD_OVERRIDE = ['x-http-method-override', 'x-http-method', 'x-method-override']

/** Headers the proxy itself sets or extends; the caller's are kept (see docs/PROXY.md). */
const PROXY_SET = ['x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto']

/** Content codings Node's fetch decodes itself, so their header no longer describes the body. */
const DECODED_BY_FETCH = new Set(['gzip', 'x-gzip', 'deflate', 'br', ...(hasZstd() ? ['zstd'] : [])])

/** Node's fetch decodes zstd exactly where node:zlib can (Node 23.8 and later). */
function hasZstd(): boolean {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process
  const zlib = proc?.getBuiltinModule?.('node:zlib') as { createZstdDecompress?: unknown } | undefined
  return typeof zlib?.createZstdDecompress === 'function'
}

/** The upstream's request headers, from the caller's. `reserved`: names only the proxy may set (lower case). */
export function upstreamRequestHeaders(
  incoming: Headers,
  context: { reserved: readonly string[]; keepMethodOverride: boolean; clientAddress: string | undefined; host: string; protocol: string },
): Headers {
  const headers = new Headers(incoming)
  const stripped = new Set([...HOP_BY_HOP, ...CREDENTIALS, ...NOT_FORWARDED, ...context.reserved, ...connectionTokens(incoming), ...(context.keepMethodOverride ? [] : METHOD_OVERRIDE)])
  const ownNames = new Set([...stripped, ...METHOD_OVERRIDE, ...PROXY_SET])
  for (const name of [...headers.keys()]) {
    // Python's WSGI (and CGI, PHP) turn `-` into `_`: `X_Plangate_Holder` reaches the same variable
    // as `X-Plangate-Holder`. An underscore spelling of a name the proxy owns is never the caller's to send.
    const dashed = name.replace(/_/g, '-')
    if (stripped.has(dashed) || (dashed !== name && ownNames.has(dashed))) headers.delete(name)
  }
  // Node's fetch decompresses every answer and cannot be told not to: asking for compression
  // would only cost both sides the work, and the caller gets the body decoded either way. (The
  // node:http forwarding of usage-priced routes asks the same, and passes on whatever comes.)
  headers.set('accept-encoding', 'identity')
  // The request URL's host: the Host header on a server, and there even when there is none (a Request built by hand).
  if (!headers.has('x-forwarded-host')) headers.set('x-forwarded-host', context.host)
  if (!headers.has('x-forwarded-proto')) headers.set('x-forwarded-proto', context.protocol)
  if (context.clientAddress) {
    const chain = headers.get('x-forwarded-for')
    headers.set('x-forwarded-for', chain ? `${chain}, ${context.clientAddress}` : context.clientAddress)
  }
  return headers
}

/** The methods the override headers ask for (upper case), in the order found. */
export function overrideMethods(headers: Headers): string[] {
  const methods: string[] = []
  for (const name of METHOD_OVERRIDE) {
    for (const token of (headers.get(name) ?? '').split(',')) if (token.trim() !== '') methods.push(token.trim().toUpperCase())
  }
  return methods
}

/** Whether the caller asks to switch protocols (WebSocket, h2c): an `Upgrade` header, or `upgrade` in `Connection`. */
export function asksUpgrade(headers: Headers): boolean {
  return headers.has('upgrade') || connectionTokens(headers).includes('upgrade')
}

/** HTTP/1.1 (RFC 9112 §6.3): a request has a body when it says a length or a transfer coding. */
export function saysBody(headers: Headers): boolean {
  const length = headers.get('content-length')
  return headers.has('transfer-encoding') || (length !== null && length.trim() !== '0')
}

/**
 * The answer to a free CORS preflight: what a browser reads of one (the Access-Control-*
 * headers, Allow and Vary) and nothing else, so that an upstream that answers every method with
 * its paid handler (app.all, app.use) gives nothing away for free.
 */
export function preflightResponseHeaders(upstream: Headers): Headers {
  const headers = new Headers()
  for (const [name, value] of upstream) {
    if (name.startsWith('access-control-') || name === 'allow' || name === 'vary') headers.append(name, value)
  }
  return headers
}

/** The caller's response headers, from the upstream's answer to `method` as fetch gives it. */
export function callerResponseHeaders(upstream: Response, method: string): Headers {
  const headers = passedOnHeaders(upstream.headers)
  if (bodyWasDecoded(upstream, method)) {
    // The body arrives decoded: its coding and its (encoded) length would both be lies.
    headers.delete('content-encoding')
    headers.delete('content-length')
  }
  return headers
}

/**
 * The upstream's response headers but its hop-by-hop ones (`Trailer` among them: the caller gets
 * no trailers). As they are for a body passed on as received, `Content-Encoding` and `Content-Length` included.
 */
export function passedOnHeaders(upstream: Headers): Headers {
  const headers = new Headers(upstream)
  for (const name of [...HOP_BY_HOP, ...connectionTokens(upstream)]) headers.delete(name)
  return headers
}

/** Mirrors when Node's fetch decodes a body: every listed coding is one it knows, and there is a body. */
function bodyWasDecoded(upstream: Response, method: string): boolean {
  const coding = upstream.headers.get('content-encoding')
  if (!coding || method === 'HEAD' || upstream.body === null) return false
  // Like fetch: one coding it does not know (identity included) and it decodes nothing at all.
  return coding.split(',').every((c) => DECODED_BY_FETCH.has(c.trim().toLowerCase()))
}

/** The names a `Connection` header lists: hop-by-hop for this connection only. */
function connectionTokens(headers: Headers): string[] {
  const value = headers.get('connection')
  if (!value) return []
  return value
    .split(',')
    .map((token) => token.trim().toLowerCase())
    .filter((token) => token !== '')
}
