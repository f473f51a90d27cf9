/** The paid MCP server the transport tests serve, on a local ledger, with what ran recorded. */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport, type StreamableHTTPClientTransportOptions } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { createPlanGate, type PlanGate } from '@plangate/core'
import { createLocalLedger, type LocalAccount, type LocalLedger } from '@plangate/core/local'
import { balanceOf, priceMeta, requirePlan } from '@plangate/mcp'
import { afterEach } from 'vitest'
import { z } from 'zod'
import { listen, serveFetch } from '../helpers/serve'

export interface PaidWorld {
  ledger: LocalLedger
  alice: LocalAccount
  planId: string
  gate: PlanGate
  /** Tool handlers that ran. */
  ran: string[]
  /** A new server with a paid `forecast` (2 credits), a free `free` and a paid `slow` (3) that runs until cancelled, as `createServer` gives. */
  createServer(): McpServer
  /** Alice orders the plan (20 credits): her key then pays. */
  subscribe(): Promise<void>
}

export function paidWorld(settle: { batchMs: number } = { batchMs: 50 }): PaidWorld {
  const ledger = createLocalLedger()
  const owner = ledger.createAccount()
  const alice = ledger.createAccount({ funds: 100 })
  const planId = ledger.createPlan({ credits: 20, price: 10, owner: owner.address })
  const gate = createPlanGate({ apiKey: owner.apiKey, environment: ledger.baseUrl, fetch: ledger.fetch, autoOrder: false, settle })
  const ran: string[] = []
  const createServer = () => {
    const mcp = new McpServer({ name: 'paid-tools', version: '1.0.0' })
    mcp.registerTool('forecast', { inputSchema: { city: z.string() }, _meta: priceMeta(planId, 2) }, requirePlan(planId, { gate, cost: 2 }, async ({ city }, extra) => {
      ran.push('forecast')
      return { content: [{ type: 'text', text: `sunny in ${city}, ${balanceOf(extra).remaining} left` }] }
    }))
    mcp.registerTool('free', {}, async () => (ran.push('free'), { content: [{ type: 'text', text: 'free' }] }))
    // Works until the call is cancelled (at most 5 s), then says whether it was.
    mcp.registerTool('slow', {}, requirePlan(planId, { gate, cost: 3 }, async (extra) => {
      ran.push('slow')
      await new Promise((resolve) => {
        extra.signal.addEventListener('abort', resolve, { once: true })
        setTimeout(resolve, 5_000)
      })
      if (extra.signal.aborted) ran.push('aborted')
      return { content: [{ type: 'text', text: 'late' }] }
    }))
    return mcp
  }
  const subscribe = async () => {
    const ordered = await ledger.fetch(`${ledger.baseUrl}/protocol/plans/${planId}/order`, { method: 'POST', headers: { Authorization: `Bearer ${alice.apiKey}` } })
    if (ordered.status !== 200) throw new Error(`order failed: ${ordered.status}`)
  }
  return { ledger, alice, planId, gate, ran, createServer, subscribe }
}

/** The official client, connected to `url` (through `fetch` when given: no socket). */
export async function connect(url: string, options: { headers?: Record<string, string>; fetch?: StreamableHTTPClientTransportOptions['fetch'] } = {}): Promise<Client> {
  const client = new Client({ name: 'test-client', version: '1.0.0' })
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: options.headers ?? {} }, fetch: options.fetch }))
  return client
}

type Listener = Parameters<typeof listen>[0]

/**
 * Loopback servers for this file's tests: each `listen` (an Express app) or `serveFetch` (a Hono
 * app's fetch) answers its `/mcp` URL; after each test the world's gate is closed, then every
 * server opened.
 */
export function servedPerTest(world: () => PaidWorld | undefined) {
  let open: Array<{ close(): Promise<void> }> = []
  afterEach(async () => {
    await world()?.gate.close()
    await Promise.all(open.map((server) => server.close()))
    open = []
  })
  const track = (server: { url: string; close(): Promise<void> }) => (open.push(server), `${server.url}/mcp`)
  return {
    listen: async (app: Listener) => track(await listen(app)),
    serveFetch: async (fetch: Parameters<typeof serveFetch>[0]) => track(await serveFetch(fetch)),
  }
}
