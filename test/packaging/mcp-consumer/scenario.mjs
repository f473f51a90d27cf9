// An MCP server as a user writes one with the installed @plangate/mcp and whichever
// @modelcontextprotocol/sdk the app has: a paid tool on the local ledger, served statelessly on
// node:http, called by that same SDK's Client over Streamable HTTP, unpaid and then with a
// subscriber's key. Prints JSON.
/* global console, URL */
import { readFileSync } from 'node:fs'
import http from 'node:http'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { createPlanGate } from '@plangate/core'
import { createLocalLedger } from '@plangate/core/local'
import { balanceOf, priceMeta, requirePlan } from '@plangate/mcp'
import { statelessHandler } from '@plangate/mcp/node'
import { z } from 'zod'

const COST = 2
const sdk = JSON.parse(readFileSync(new URL('./node_modules/@modelcontextprotocol/sdk/package.json', import.meta.url), 'utf8')).version

const ledger = createLocalLedger()
const owner = ledger.createAccount()
const alice = ledger.createAccount({ funds: 10 })
const planId = ledger.createPlan({ credits: 5, price: 10, owner: owner.address })
// autoOrder off: alice subscribes below, so her call is paid from an order she made.
const gate = createPlanGate({ apiKey: owner.apiKey, environment: ledger.baseUrl, fetch: ledger.fetch, autoOrder: false })
const ran = []

function createServer() {
  const mcp = new McpServer({ name: 'weather', version: '1.0.0' })
  mcp.registerTool('forecast', { inputSchema: { city: z.string() }, _meta: priceMeta(planId, COST) }, requirePlan(planId, { gate, cost: COST }, async ({ city }, extra) => {
    ran.push(city)
    return { content: [{ type: 'text', text: `sunny in ${city}, ${balanceOf(extra).remaining} left` }] }
  }))
  return mcp
}

/** The official client from the app's SDK, one tool call, then closed. */
async function call(url, headers, city) {
  const client = new Client({ name: 'consumer', version: '1.0.0' })
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }))
  try {
    return await client.callTool({ name: 'forecast', arguments: { city } })
  } finally {
    await client.close()
  }
}

const server = http.createServer(statelessHandler(createServer))
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
const url = `http://127.0.0.1:${server.address().port}/mcp`
try {
  const listed = await (async () => {
    const client = new Client({ name: 'consumer', version: '1.0.0' })
    await client.connect(new StreamableHTTPClientTransport(new URL(url)))
    try {
      return (await client.listTools()).tools.map((tool) => ({ name: tool.name, price: tool._meta?.['plangate/price'] ?? null }))
    } finally {
      await client.close()
    }
  })()

  const denied = await call(url, {}, 'Oslo')
  const ordered = await ledger.fetch(`${ledger.baseUrl}/protocol/plans/${planId}/order`, { method: 'POST', headers: { Authorization: `Bearer ${alice.apiKey}` } })
  if (ordered.status !== 200) throw new Error(`order failed: ${ordered.status}`)
  const before = ledger.balance(planId, alice.address).remaining
  const paid = await call(url, { Authorization: `Bearer ${alice.apiKey}` }, 'Lima')
  await gate.close() // burns what the paid call used
  console.log(JSON.stringify({
    sdk,
    listed,
    unpaid: {
      isError: denied.isError ?? false,
      x402Version: denied.structuredContent?.x402Version ?? null,
      error: denied.structuredContent?.error ?? null,
      accepts: denied.structuredContent?.accepts?.length ?? 0,
    },
    paid: { isError: paid.isError ?? false, text: paid.content?.[0]?.text ?? null },
    ran,
    balance: { before, after: ledger.balance(planId, alice.address).remaining },
    redeemed: ledger.redeemed(planId),
  }))
} finally {
  server.close()
}
