/**
 * Nevermined's paywall pattern for MCP tools, written by hand against the stand-in API (no SDK
 * in the loop): on every call, read the caller's x402 access token from the Authorization header,
 * `POST /x402/verify` it with the agent's key before the tool runs, and `POST /x402/settle` the
 * credit after it answered. Two upstream round trips per call, both awaited, as the pattern has
 * them; the bodies are those of Nevermined's facilitator calls (lib/peers/x402.ts, sections/calls/client.ts).
 */
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js'
import type { CallToolResult, ServerNotification, ServerRequest } from '@modelcontextprotocol/sdk/types.js'
import { paymentRequired } from '../../lib/core-adapter'
import type { McpServerConfig } from './protocol'

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>

const refused = (text: string): CallToolResult => ({ isError: true, content: [{ type: 'text', text }] })

export function neverminedPaywall(settings: McpServerConfig) {
  const required = paymentRequired(settings.planId, { scheme: 'nvm:erc4337', network: 'eip155:84532' }, settings.agentId, { url: 'mcp://bench/tools/t', method: 'POST' })
  const post = async (path: string, token: string): Promise<Record<string, unknown> | undefined> => {
    const response = await fetch(`${settings.baseUrl}${path}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${settings.agentKey}`, 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ paymentRequired: required, x402AccessToken: token, maxAmount: '1' }),
    })
    const body = (await response.json()) as Record<string, unknown>
    return response.ok ? body : undefined
  }
  return <A>(tool: (args: A, extra: Extra) => Promise<CallToolResult>) =>
    async (args: A, extra: Extra): Promise<CallToolResult> => {
      const header = extra.requestInfo?.headers.authorization
      const token = typeof header === 'string' && header.startsWith('Bearer ') ? header.slice(7) : undefined
      if (token === undefined) return refused('payment required')
      const verified = await post('/x402/verify', token)
      if (verified?.isValid !== true) return refused('payment not valid')
      const result = await tool(args, extra)
      const settled = await post('/x402/settle', token)
      if (settled?.success !== true) return refused('settlement failed')
      return result
    }
}
