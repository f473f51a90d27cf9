/**
 * `@plangate/mcp/web`: the SDK's stateless pattern (a fresh `McpServer` and transport per
 * request) on `WebStandardStreamableHTTPServerTransport`, for Hono and every runtime with `fetch`
 * handlers: Cloudflare Workers, Deno, Bun, Node. Web APIs only.
 */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { WebStandardStreamableHTTPServerTransport, type WebStandardStreamableHTTPServerTransportOptions } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js'
import { collectWork } from './keep-alive'
import type { ProtectedResource } from './oauth'

export { protectedResource, type ProtectedResource, type ProtectedResourceMetadata, type ProtectedResourceOptions } from './oauth'

/** What `createServer` is given for each request. */
export interface FetchServerContext<Env = unknown> {
  request: Request
  /** Hono's `c.env`, or a Worker's `env` (its bindings: build the gate from them). */
  env: Env | undefined
}

/** Something that keeps a request's work going after its response: a Worker's `ctx`. */
export interface WaitUntil {
  waitUntil(work: Promise<unknown>): void
}

/** `statelessFetchHandler`'s options. */
export interface StatelessFetchOptions {
  /**
   * Where the commit of a call's credits goes when the runtime gives no execution context of its
   * own (on Workers and with Hono there, `ctx.waitUntil` is found by itself): e.g. Vercel's
   * `waitUntil`. Nothing is needed on Node, Deno or Bun, which carry on after a response.
   */
  waitUntil?: (work: Promise<unknown>) => void
  /** The transport's options (`enableJsonResponse`, `allowedHosts`, …); it is always stateless. */
  transport?: Omit<WebStandardStreamableHTTPServerTransportOptions, 'sessionIdGenerator'>
  /** Answers a request without a bearer token 401 with MCP's authorization pointers. Off by default. */
  oauth?: ProtectedResource
}

/** What a Hono `Context` is, as far as this module reads it. */
export interface FetchContextLike {
  req: { raw: Request }
  env?: unknown
  readonly executionCtx?: unknown
}

/** Serves MCP over Streamable HTTP: as a Hono handler `(c)`, or a Worker's `fetch(request, env, ctx)`. */
export type StatelessFetchHandler = (input: Request | FetchContextLike, envOrNext?: unknown, ctx?: unknown) => Promise<Response>

/**
 * A handler for an MCP endpoint that makes a new server per request with `createServer` (the
 * SDK's stateless pattern: no sessions, no state shared between callers, which a server holding
 * per-call payment state must not share). POST carries JSON-RPC; GET and DELETE are answered 405,
 * as the SDK does in this pattern (there is no session to stream to or end).
 *
 * On Workers, the commit of each paid call is handed to `ctx.waitUntil`: a batched settle still
 * happens after the response is out.
 *
 * @example
 * // Hono (Node, Bun, Deno, Workers)
 * app.all('/mcp', statelessFetchHandler(() => createMcpServer()))
 * // A Worker without Hono
 * export default { fetch: statelessFetchHandler(({ env }) => createMcpServer(env)) }
 */
export function statelessFetchHandler<Env = unknown>(createServer: (context: FetchServerContext<Env>) => McpServer | Promise<McpServer>, options: StatelessFetchOptions = {}): StatelessFetchHandler {
  if (typeof createServer !== 'function') throw new TypeError('plangate: statelessFetchHandler(createServer) needs a function that returns a new McpServer.')
  if (options.waitUntil !== undefined && typeof options.waitUntil !== 'function') throw new TypeError('plangate: statelessFetchHandler({ waitUntil }) must be a function.')
  if ((options.transport as { sessionIdGenerator?: unknown } | undefined)?.sessionIdGenerator !== undefined) {
    throw new TypeError('plangate: statelessFetchHandler is stateless: leave sessionIdGenerator out of { transport }.')
  }
  return async function mcp(input, envOrNext, ctx) {
    const hono = isContext(input)
    const request = hono ? input.req.raw : (input as Request)
    const env = (hono ? input.env : envOrNext) as Env | undefined
    if (request.method !== 'POST') return jsonRpcError(405, -32000, 'Method not allowed: this stateless MCP server takes POST only.', { Allow: 'POST' })
    if (options.oauth && !options.oauth.hasCredential(request.headers)) return options.oauth.unauthorized()
    const waitUntil = executionContext(hono ? input : undefined, ctx) ?? options.waitUntil
    let server: McpServer | undefined
    let transport: WebStandardStreamableHTTPServerTransport | undefined
    const close = () => void Promise.allSettled([transport?.close(), server?.close()])
    // A caller that leaves is not served: closing the server aborts its calls' `extra.signal`
    // (in this pattern a cancellation notification reaches another server, not the one at work).
    request.signal?.addEventListener('abort', close, { once: true })
    try {
      server = await createServer({ request, env })
      transport = new WebStandardStreamableHTTPServerTransport({ ...options.transport, sessionIdGenerator: undefined })
      await server.connect(transport)
      if (waitUntil) collectWork(transport, waitUntil)
      const response = await transport.handleRequest(request)
      return closeWhenDone(response, close)
    } catch {
      close()
      // The app's own failure: no detail, which could hold anything.
      return jsonRpcError(500, -32603, 'Internal server error')
    }
  }
}

/** A Hono `Context` has `req.raw`; a `Request` has no `req`. */
function isContext(input: Request | FetchContextLike): input is FetchContextLike {
  return typeof (input as Partial<FetchContextLike>).req === 'object' && (input as FetchContextLike).req !== null
}

/** A Worker's `ctx` (third argument), or Hono's `c.executionCtx` (whose getter throws off Workers). */
function executionContext(c: FetchContextLike | undefined, ctx: unknown): ((work: Promise<unknown>) => void) | undefined {
  let candidate: unknown = ctx
  if (c !== undefined) {
    try {
      candidate = c.executionCtx
    } catch {
      return undefined
    }
  }
  const waitUntil = (candidate as Partial<WaitUntil> | undefined)?.waitUntil
  return typeof waitUntil === 'function' ? (work) => waitUntil.call(candidate, work) : undefined
}

/** The server and transport are closed once the response's body has been sent, or abandoned. */
function closeWhenDone(response: Response, close: () => void): Response {
  if (response.body === null) {
    close()
    return response
  }
  const reader = response.body.getReader()
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await reader.read()
      if (!done) return controller.enqueue(value)
      controller.close()
      close()
    },
    cancel(reason) {
      close()
      return reader.cancel(reason)
    },
  })
  return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers })
}

function jsonRpcError(status: number, code: number, message: string, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }), { status, headers: { 'Content-Type': 'application/json', ...headers } })
}
