/**
 * The Worker of the MCP runtime test (test/runtimes/mcp-worker.test.ts): Hono, an `McpServer`
 * per request through `statelessFetchHandler` from `@plangate/mcp/web`, and a gate built from the
 * bindings on the first request, reaching a local ledger the test serves over loopback
 * (`NVM_ENVIRONMENT`). Its settlement is batched (`SETTLE_BATCH_MS`), so a call's credits are
 * burned after its response is out: only `ctx.waitUntil` keeps that work alive on Workers.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { createPlanGate, type PlanGate } from '@plangate/core'
import { priceMeta, requirePlan } from '@plangate/mcp'
import { statelessFetchHandler } from '@plangate/mcp/web'
import { Hono } from 'hono'
import { z } from 'zod'

type Env = { NVM_API_KEY: string; NVM_ENVIRONMENT: string; NVM_PLAN_ID: string; SETTLE_BATCH_MS: string }

// Built on the first request: workerd forbids timers, I/O and random values at module scope.
let gate: PlanGate | undefined

function createServer(env: Env): McpServer {
  gate ??= createPlanGate({ apiKey: env.NVM_API_KEY, environment: env.NVM_ENVIRONMENT, autoOrder: false, settle: { batchMs: Number(env.SETTLE_BATCH_MS) } })
  const planId = env.NVM_PLAN_ID
  const server = new McpServer({ name: 'paid-worker', version: '1.0.0' })
  server.registerTool('forecast', { inputSchema: { city: z.string() }, _meta: priceMeta(planId, 2) }, requirePlan(planId, { gate, cost: 2 }, async ({ city }) => ({
    content: [{ type: 'text', text: `sunny in ${city}` }],
  })))
  return server
}

const app = new Hono<{ Bindings: Env }>()
app.get('/health', (c) => c.json({ ok: true }))
app.all('/mcp', statelessFetchHandler<Env>(({ env }) => createServer(env!)))

export default { fetch: app.fetch }
