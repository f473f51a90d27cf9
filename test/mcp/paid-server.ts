/**
 * What the MCP handler tests share: the local ledger over real HTTP, and an `McpServer` behind
 * Express 5's Streamable HTTP transport on a real port, reached with the official `Client`.
 * `stateless`: a fresh server and transport per request (the SDK's stateless pattern);
 * `sessions`: one server per session, so a client's cancellation (`notifications/cancelled`)
 * reaches the handler it cancels through `extra.signal`.
 */
import { randomUUID } from 'node:crypto'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js'
import { createLocalLedger, type LocalAccount, type LocalLedger } from '@plangate/core/local'
import express from 'express'
import { serveLedger } from '../helpers/serve'

export interface Ledger {
  ledger: LocalLedger
  /** The ledger's API over HTTP: what a gate's `environment` is. */
  url: string
  /** A holder subscribed to the plan (ordered once, with its key, over HTTP). */
  order(planId: string, holder: LocalAccount): Promise<void>
  close(): Promise<void>
}

export async function startLedger(options: { serveRedeem?: boolean } = {}): Promise<Ledger> {
  // Only the path of baseUrl routes; the SDK buyer joins `/api/v1/…` to the origin it is given.
  const ledger = createLocalLedger({ baseUrl: 'http://127.0.0.1/api/v1', ...options })
  const served = await serveLedger(ledger)
  return {
    ledger,
    url: served.baseUrl,
    async order(planId, holder) {
      const res = await fetch(`${served.baseUrl}/protocol/plans/${planId}/order`, { method: 'POST', headers: { Authorization: `Bearer ${holder.apiKey}` } })
      if (res.status !== 200) throw new Error(`order answered ${res.status}`)
    },
    close: served.close,
  }
}

export interface McpApp {
  url: string
  client(headers?: Record<string, string>): Promise<Client>
  close(): Promise<void>
}

/** `before`: middleware run ahead of the transport (e.g. one that sets `req.auth`, as the SDK's bearer-auth middleware does). */
export async function serveMcp(makeServer: () => McpServer, mode: 'stateless' | 'sessions' = 'stateless', options: { before?: express.RequestHandler } = {}): Promise<McpApp> {
  const app = express()
  const sessions = new Map<string, StreamableHTTPServerTransport>()
  const before: express.RequestHandler = options.before ?? ((_req, _res, next) => next())
  app.post('/mcp', express.json(), before, async (req, res) => {
    if (mode === 'stateless') {
      const mcp = makeServer()
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined })
      res.on('close', () => void transport.close().then(() => mcp.close()))
      await mcp.connect(transport)
      await transport.handleRequest(req, res, req.body)
      return
    }
    const id = req.headers['mcp-session-id']
    let transport = typeof id === 'string' ? sessions.get(id) : undefined
    if (transport === undefined) {
      const mcp = makeServer()
      const created = new StreamableHTTPServerTransport({ sessionIdGenerator: randomUUID, onsessioninitialized: (sid) => void sessions.set(sid, created) })
      created.onclose = () => void (created.sessionId && sessions.delete(created.sessionId))
      await mcp.connect(created)
      transport = created
    }
    await transport.handleRequest(req, res, req.body)
  })
  // No standalone SSE stream: the client is told so, and carries on with POSTs.
  app.get('/mcp', (_req, res) => void res.status(405).end())
  const server = http.createServer(app)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`
  const clients: Client[] = []
  return {
    url,
    async client(headers = {}) {
      const c = new Client({ name: 'test-client', version: '1.0.0' })
      await c.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }))
      clients.push(c)
      return c
    },
    async close() {
      await Promise.all(clients.map((c) => c.close()))
      await Promise.all([...sessions.values()].map((t) => t.close()))
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}

/** A promise and its resolver, for a handler to say it started or to wait for the test. */
export function signal<T = void>(): { promise: Promise<T>; resolve(value: T): void } {
  let resolve!: (value: T) => void
  const promise = new Promise<T>((r) => (resolve = r))
  return { promise, resolve }
}
