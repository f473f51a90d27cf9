/**
 * The example agent as an MCP server: the same answer as `POST /ask`, as a paid tool `ask` (one
 * credit of the plan), beside a free `about`. `express-agent.ts` serves it on `/mcp` with
 * `statelessHandler` (a fresh server per request); a client pays with its API key as
 * `Authorization: Bearer`, or with an x402 token in `_meta["x402/payment"]`.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import type { PlanGate } from '@plangate/core'
import { paidTool } from '@plangate/mcp'
import { z } from 'zod'
import { answer } from './agent-setup'

/** A new MCP server whose `ask` tool costs one credit of `planId`. */
export function createMcpAgent(options: { gate: PlanGate; planId: string }): McpServer {
  const { gate, planId } = options
  const server = new McpServer({ name: 'plangate-example', version: '1.0.0' })
  // The price goes into tools/list from the same cost the call is charged.
  paidTool(server, 'ask', { description: 'Answers a question; one credit.', inputSchema: { question: z.string().max(200) } }, planId, { gate, cost: 1 }, async ({ question }, extra) => ({
    content: [{ type: 'text', text: `${answer(question)} ${extra.balance.remaining} credit(s) left.` }],
  }))
  server.registerTool('about', { description: 'What this server is; free.' }, async () => ({
    content: [{ type: 'text', text: `An MCP server whose tools are paid from Nevermined plan ${planId}.` }],
  }))
  return server
}

/** What to paste to call the paid tool: a curl of the JSON-RPC (answered as plain JSON), and the SDK's client. */
export function mcpInstructions(url: string, key: string): string {
  const call = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'ask', arguments: { question: 'what does plangate do?' } } })
  return [
    `curl -s -X POST ${url}/mcp -H 'Authorization: Bearer ${key}' -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' -d '${call}'`,
    '',
    "or with the MCP SDK's client (@modelcontextprotocol/sdk):",
    `  const client = new Client({ name: 'me', version: '1.0.0' })`,
    `  await client.connect(new StreamableHTTPClientTransport(new URL('${url}/mcp'), { requestInit: { headers: { Authorization: 'Bearer ${key}' } } }))`,
    `  await client.callTool({ name: 'ask', arguments: { question: 'what does plangate do?' } })`,
  ].join('\n')
}
