/**
 * One server of the MCP section in its own process (the load generator must not share its event
 * loop): Express 5 serving a stateless Streamable HTTP endpoint at POST /mcp with one tool `t`,
 * unpaid, paid through plangate's `requirePlan`, or paid in Nevermined's paywall pattern
 * (sections/mcp/nevermined.ts), all against the stand-in API (lib/peers/upstream.ts).
 */
import type { AddressInfo } from 'node:net'
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { createPlanGate } from '@plangate/core'
import { requirePlan } from '@plangate/mcp'
import { statelessHandler } from '@plangate/mcp/node'
import express from 'express'
import { z } from 'zod'
import { config, serveCommands } from '../../lib/servers/child'
import { neverminedPaywall } from './nevermined'
import type { McpServerConfig } from './protocol'

const settings = config<McpServerConfig>()
const inputSchema = { q: z.string() }
const tool = async ({ q }: { q: string }) => ({ content: [{ type: 'text' as const, text: `answer to ${q}` }] })

const gate =
  settings.kind === 'plangate'
    ? createPlanGate({
        apiKey: settings.agentKey,
        environment: settings.baseUrl,
        agentId: settings.agentId,
        cache: { max: Math.max(10_000, settings.holders) },
        settle: { batchMs: settings.batchMs },
      })
    : undefined
const paywall = settings.kind === 'nevermined' ? neverminedPaywall(settings) : undefined

function createServer(): McpServer {
  const server = new McpServer({ name: 'bench-tools', version: '1.0.0' })
  if (gate) server.registerTool('t', { inputSchema }, requirePlan(settings.planId, { gate, cost: 1 }, tool))
  else if (paywall) server.registerTool('t', { inputSchema }, paywall(tool))
  else server.registerTool('t', { inputSchema }, tool)
  return server
}

const app = express()
app.post('/mcp', express.json(), statelessHandler(() => createServer()))
const listener = app.listen(0, '127.0.0.1')
await new Promise<void>((resolve) => listener.once('listening', resolve))
const port = (listener.address() as AddressInfo).port

serveCommands({ type: 'ready', port, keys: [] }, async (command) => {
  switch (command.type) {
    case 'close':
      listener.close()
      listener.closeAllConnections()
      await gate?.close()
      setImmediate(() => process.exit(0))
      return {}
    default:
      return {}
  }
})
