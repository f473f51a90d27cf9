/**
 * An x402 payer on MCP: a token made by Nevermined's own SDK buyer (../shared/vendor), sent in
 * `_meta["x402/payment"]` as x402's MCP transport says, pays a tool settled at once, and the
 * result carries the settle's receipt in `_meta["x402/payment-response"]`. The official client
 * over Streamable HTTP, Express on a real port, the local ledger over HTTP.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js'
import { createPlanGate } from '@plangate/core'
import { createLocalLedger, type LocalLedger } from '@plangate/core/local'
import { requirePlan } from '@plangate/mcp'
import express from 'express'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { serveLedger } from '../helpers/serve'
import { loadSdk, originOf, sdkTests, type BuyerSdk } from '../x402/sdk'

const AGENT_ID = 'agent-mcp'
let ledger: LocalLedger
let ledgerUrl: string
let closeLedger: (() => Promise<void>) | undefined
let sdk: BuyerSdk

beforeAll(async () => {
  if (!sdkTests) return
  ledger = createLocalLedger({ baseUrl: 'http://127.0.0.1/api/v1' })
  const served = await serveLedger(ledger)
  ledgerUrl = served.baseUrl
  closeLedger = served.close
  sdk = await loadSdk<BuyerSdk>('nvm-sdk-buyer', originOf(ledgerUrl))
})
afterAll(() => closeLedger?.())

describe.runIf(sdkTests)('an x402 payer on MCP (Nevermined SDK buyer)', () => {
  it('pays with _meta["x402/payment"] and gets the receipt in _meta["x402/payment-response"]', async () => {
    const owner = ledger.createAccount()
    const alice = ledger.createAccount({ funds: 100 })
    const planId = ledger.createPlan({ credits: 5, price: 2, owner: owner.address })
    const gate = createPlanGate({ apiKey: owner.apiKey, environment: ledgerUrl, agentId: AGENT_ID })
    const ordered = await fetch(`${ledgerUrl}/protocol/plans/${planId}/order`, { method: 'POST', headers: { Authorization: `Bearer ${alice.apiKey}` } })
    expect(ordered.status).toBe(200)
    const { delegationId } = await new sdk.DelegationAPI({ nvmApiKey: alice.apiKey }).createDelegation({ provider: 'erc4337', spendingLimitCents: 10_000, durationSecs: 3600, currency: 'usdc' })
    const { accessToken } = await new sdk.X402TokenAPI({ nvmApiKey: alice.apiKey }).getX402AccessToken(planId, AGENT_ID, { delegationConfig: { delegationId } })

    const app = express()
    app.post('/mcp', express.json(), async (req, res) => {
      const mcp = new McpServer({ name: 'paid', version: '1.0.0' })
      mcp.registerTool('ping', {}, requirePlan(planId, { gate, cost: 2 }, async () => ({ content: [{ type: 'text', text: 'pong' }] })))
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined })
      res.on('close', () => void transport.close().then(() => mcp.close()))
      await mcp.connect(transport)
      await transport.handleRequest(req, res, req.body)
    })
    const server = http.createServer(app)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const client = new Client({ name: 'buyer', version: '1.0.0' })
    try {
      await client.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`)))
      const result = await client.callTool({ name: 'ping', arguments: {}, _meta: { 'x402/payment': accessToken } })
      expect(result.isError).toBeFalsy()
      expect(result.content).toEqual([{ type: 'text', text: 'pong' }])
      expect(result._meta?.['x402/payment-response']).toMatchObject({ success: true, payer: alice.address, creditsRedeemed: '2', remainingBalance: '3' })
      expect(ledger.redeemed(planId)).toBe(2)
      expect(JSON.stringify(result)).not.toContain(accessToken)
    } finally {
      await client.close()
      await gate.close()
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    }
  })
})
