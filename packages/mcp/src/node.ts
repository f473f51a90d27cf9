/**
 * `@plangate/mcp/node`: the SDK's stateless pattern (a fresh `McpServer` and transport per
 * request) on `StreamableHTTPServerTransport`, for Node's own request and response: Express,
 * and Koa or Fastify through their raw ones.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { StreamableHTTPServerTransport, type StreamableHTTPServerTransportOptions } from '@modelcontextprotocol/sdk/server/streamableHttp.js'
import type { ProtectedResource } from './oauth'

export { protectedResource, type ProtectedResource, type ProtectedResourceMetadata, type ProtectedResourceOptions } from './oauth'

/** What `createServer` is given for each request. */
export interface NodeServerContext {
  req: IncomingMessage
}

/** `statelessHandler`'s options. */
export interface StatelessOptions {
  /** The transport's options (`enableJsonResponse`, `allowedHosts`, …); it is always stateless. */
  transport?: Omit<StreamableHTTPServerTransportOptions, 'sessionIdGenerator'>
  /** Answers a request without a bearer token 401 with MCP's authorization pointers. Off by default. */
  oauth?: ProtectedResource
}

/**
 * Serves one MCP request: `(req, res)` with the body still unread, `(req, res, body)` with it
 * parsed, or Express's `(req, res, next)` after `express.json()` (the body is then `req.body`).
 * Resolves once the response is handed over; never rejects.
 */
export type StatelessHandler = (req: IncomingMessage, res: ServerResponse, bodyOrNext?: unknown) => Promise<void>

/**
 * A handler for an MCP endpoint that makes a new server per request with `createServer` (the
 * SDK's stateless pattern: no sessions, no state shared between callers). POST carries JSON-RPC;
 * GET and DELETE are answered 405, as the SDK does in this pattern.
 *
 * @example
 * // Express
 * app.all('/mcp', express.json(), statelessHandler(() => createMcpServer()))
 * // Koa
 * router.all('/mcp', (ctx) => { ctx.respond = false; return mcp(ctx.req, ctx.res, ctx.request.body) })
 * // Fastify
 * app.all('/mcp', (request, reply) => { reply.hijack(); return mcp(request.raw, reply.raw, request.body) })
 */
export function statelessHandler(createServer: (context: NodeServerContext) => McpServer | Promise<McpServer>, options: StatelessOptions = {}): StatelessHandler {
  if (typeof createServer !== 'function') throw new TypeError('plangate: statelessHandler(createServer) needs a function that returns a new McpServer.')
  if ((options.transport as { sessionIdGenerator?: unknown } | undefined)?.sessionIdGenerator !== undefined) {
    throw new TypeError('plangate: statelessHandler is stateless: leave sessionIdGenerator out of { transport }.')
  }
  return async function mcp(req, res, bodyOrNext) {
    if (req.method !== 'POST') return jsonRpcError(res, 405, -32000, 'Method not allowed: this stateless MCP server takes POST only.', { Allow: 'POST' })
    if (options.oauth && !options.oauth.hasCredential(req.headers)) return sendWeb(res, options.oauth.unauthorized())
    const body = typeof bodyOrNext === 'function' || bodyOrNext === undefined ? (req as { body?: unknown }).body : bodyOrNext
    let server: McpServer | undefined
    let transport: StreamableHTTPServerTransport | undefined
    const close = () => void Promise.allSettled([transport?.close(), server?.close()])
    // Once the answer is out, or the caller left: closing the server aborts its calls' `extra.signal`
    // (in this pattern a cancellation notification reaches another server, not the one at work).
    res.once('close', close)
    try {
      server = await createServer({ req })
      transport = new StreamableHTTPServerTransport({ ...options.transport, sessionIdGenerator: undefined })
      await server.connect(transport)
      await transport.handleRequest(req, res, body)
    } catch {
      // The app's own failure: no detail, which could hold anything.
      if (!res.headersSent) jsonRpcError(res, 500, -32603, 'Internal server error')
      else res.destroy()
    }
  }
}

function jsonRpcError(res: ServerResponse, status: number, code: number, message: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers }).end(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }))
}

async function sendWeb(res: ServerResponse, response: Response): Promise<void> {
  const headers: Record<string, string> = {}
  response.headers.forEach((value, name) => (headers[name] = value))
  res.writeHead(response.status, headers).end(await response.text())
}
