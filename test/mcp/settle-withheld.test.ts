/**
 * An x402 payer settled at once gets a paid result only with its receipt: when the settle fails
 * after the handler ran, the result is withheld and replaced by the payment error (x402's MCP
 * transport, "Settlement Failure"). The payer is Nevermined's own SDK buyer (../shared/vendor),
 * paying in `_meta["x402/payment"]`; the official client over Streamable HTTP, Express on a real
 * port, the local ledger over HTTP with settle failures injected.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { McpError } from '@modelcontextprotocol/sdk/types.js'
import { createPlanGate, type PlanGate, type PlanGateOptions } from '@plangate/core'
import type { LocalAccount } from '@plangate/core/local'
import { requirePlan, requirePlanForPrompt, requirePlanForResource } from '@plangate/mcp'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { loadSdk, originOf, sdkTests, type BuyerSdk } from '../x402/sdk'
import { serveMcp, startLedger, type Ledger, type McpApp } from './paid-server'

const AGENT_ID = 'agent-mcp-settle'
const SECRET = 'the paid answer: 42'
let world: Ledger
let sdk: BuyerSdk
const cleanups: Array<() => Promise<void>> = []
/** What the gates logged, and the tokens and keys that must not be in it. */
const logged: string[] = []
const secrets: string[] = []
const logger = { warn: (m: string) => void logged.push(m), error: (m: string) => void logged.push(m) }

beforeAll(async () => {
  if (!sdkTests) return
  world = await startLedger({ serveRedeem: true })
  sdk = await loadSdk<BuyerSdk>('nvm-sdk-buyer', originOf(world.url))
})
afterAll(async () => {
  await world?.close()
  if (!sdkTests) return
  // Failed settles were logged (not vacuous), and never with a token or a key.
  expect(logged.length).toBeGreaterThan(0)
  for (const secret of secrets) expect(logged.join('\n')).not.toContain(secret.slice(20, 80))
})
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!()
  world?.ledger.clearFaults()
})

interface Setup {
  alice: LocalAccount
  planId: string
  gate: PlanGate
  app: McpApp
  token: string
  ran: string[]
}

async function setup(gateOptions: Partial<PlanGateOptions> = {}, credits = 5): Promise<Setup> {
  const { ledger } = world
  const owner = ledger.createAccount()
  const alice = ledger.createAccount({ funds: 100 })
  const planId = ledger.createPlan({ credits, price: 2, owner: owner.address })
  const gate = createPlanGate({ apiKey: owner.apiKey, environment: world.url, agentId: AGENT_ID, logger, settle: { maxRetries: 1 }, ...gateOptions })
  await world.order(planId, alice)
  const { delegationId } = await new sdk.DelegationAPI({ nvmApiKey: alice.apiKey }).createDelegation({ provider: 'erc4337', spendingLimitCents: 10_000, durationSecs: 3600, currency: 'usdc' })
  const { accessToken } = await new sdk.X402TokenAPI({ nvmApiKey: alice.apiKey }).getX402AccessToken(planId, AGENT_ID, { delegationConfig: { delegationId } })
  secrets.push(accessToken, owner.apiKey, alice.apiKey)
  const ran: string[] = []
  const app = await serveMcp(() => {
    const mcp = new McpServer({ name: 'paid', version: '1.0.0' })
    mcp.registerTool('answer', {}, requirePlan(planId, { gate, cost: 2 }, async () => (ran.push('answer'), { content: [{ type: 'text', text: SECRET }], structuredContent: { answer: 42 } })))
    mcp.registerTool('free-today', {}, requirePlan(planId, { gate, cost: { max: 2, usage: () => 0 } }, async () => (ran.push('free-today'), { content: [{ type: 'text', text: SECRET }] })))
    mcp.registerResource('vault', 'vault://answer', {}, requirePlanForResource(planId, { gate, cost: 2 }, async (uri) => (ran.push('vault'), { contents: [{ uri: uri.href, text: SECRET }] })))
    mcp.registerPrompt('oracle', {}, requirePlanForPrompt(planId, { gate, cost: 2 }, async () => (ran.push('oracle'), { messages: [{ role: 'user' as const, content: { type: 'text' as const, text: SECRET } }] })))
    return mcp
  })
  cleanups.push(async () => {
    await app.close()
    await gate.close()
  })
  return { alice, planId, gate, app, token: accessToken, ran }
}

const paying = (token: string) => ({ _meta: { 'x402/payment': token } })

describe.runIf(sdkTests)('a failed immediate settle withholds the result', () => {
  it('a tool: the result is replaced by the in-band PaymentRequired with error SETTLEMENT_FAILED; nothing is burned', async () => {
    const { alice, planId, app, token, ran } = await setup()
    const c = await app.client()
    world.ledger.inject('settle', { status: 500, times: 2 }) // the first try and its one retry
    const result = await c.callTool({ name: 'answer', arguments: {}, ...paying(token) })
    expect(ran).toEqual(['answer']) // the tool ran: its content is what is withheld
    expect(result.isError).toBe(true)
    const data = result.structuredContent as { x402Version: number; error: string; accepts: unknown[] }
    expect(data).toMatchObject({ x402Version: 2, error: 'SETTLEMENT_FAILED' })
    expect(JSON.stringify(data.accepts)).toContain(planId)
    expect(result.content).toEqual([{ type: 'text', text: JSON.stringify(data) }])
    expect(JSON.stringify(result)).not.toContain(SECRET)
    expect(JSON.stringify(result)).not.toContain('"answer":42')
    expect(result._meta?.['x402/payment-response']).toBeUndefined()
    expect(JSON.stringify(result)).not.toContain(token.slice(20, 80))
    expect(world.ledger.redeemed(planId)).toBe(0)

    // The same payer, once the settle works again, gets the result and its receipt.
    world.ledger.clearFaults()
    const paid = await c.callTool({ name: 'answer', arguments: {}, ...paying(token) })
    expect(paid.content).toEqual([{ type: 'text', text: SECRET }])
    expect(paid._meta?.['x402/payment-response']).toMatchObject({ success: true, payer: alice.address, creditsRedeemed: '2' })
    expect(world.ledger.redeemed(planId)).toBe(2)
  })

  it('a settle the facilitator refuses (success: false) withholds the result too', async () => {
    const { planId, app, token } = await setup()
    const c = await app.client()
    world.ledger.inject('settle', { body: JSON.stringify({ success: false, errorReason: 'exhausted', transaction: '', network: 'eip155:84532' }) })
    const result = await c.callTool({ name: 'answer', arguments: {}, ...paying(token) })
    expect(result.structuredContent).toMatchObject({ x402Version: 2, error: 'SETTLEMENT_FAILED' })
    expect(JSON.stringify(result)).not.toContain(SECRET)
    expect(world.ledger.redeemed(planId)).toBe(0)
  })

  it('a resource read and a prompt: McpError 402 with the PaymentRequired (SETTLEMENT_FAILED) as data, and no contents', async () => {
    const { planId, app, token, ran } = await setup()
    const c = await app.client()
    for (const call of [() => c.readResource({ uri: 'vault://answer', ...paying(token) }), () => c.getPrompt({ name: 'oracle', ...paying(token) })]) {
      world.ledger.inject('settle', { status: 500, times: 2 })
      const error = await call().then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(error).toBeInstanceOf(McpError)
      expect((error as McpError).code).toBe(402)
      expect((error as McpError).data).toMatchObject({ x402Version: 2, error: 'SETTLEMENT_FAILED' })
      expect(JSON.stringify((error as McpError).data)).toContain(planId)
      expect(`${(error as McpError).message} ${JSON.stringify((error as McpError).data)}`).not.toContain(SECRET)
    }
    expect(ran).toEqual(['vault', 'oracle'])
    expect(world.ledger.redeemed(planId)).toBe(0)
  })

  it('a settle whose answer was lost, but which the balance shows burned, is paid: the result goes out (without a receipt)', async () => {
    const { planId, app, token } = await setup({ settle: { maxRetries: 3 } })
    const c = await app.client()
    world.ledger.inject('settle', { status: 200, afterApply: true, network: true }) // applied upstream, answer lost
    const result = await c.callTool({ name: 'answer', arguments: {}, ...paying(token) })
    expect(result.isError).toBeFalsy()
    expect(result.content).toEqual([{ type: 'text', text: SECRET }])
    expect(result._meta?.['x402/payment-response']).toBeUndefined()
    expect(world.ledger.redeemed(planId)).toBe(2)
  })

  it('10 concurrent paid calls of one x402 payer, settled at once: every one gets its result and a receipt, and the ledger burns exactly their cost', async () => {
    const { alice, planId, app, token } = await setup({}, 30)
    const clients = [await app.client(), await app.client()]
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => clients[i % 2]!.callTool({ name: 'answer', arguments: {}, ...paying(token) })))
    for (const result of results) {
      expect(result.content).toEqual([{ type: 'text', text: SECRET }])
      expect(result._meta?.['x402/payment-response']).toMatchObject({ success: true, payer: alice.address })
    }
    expect(world.ledger.redeemed(planId)).toBe(20)
    expect(world.ledger.balance(planId, alice.address).remaining).toBe(10)
  })

  it('a call charged 0 settles nothing and withholds nothing', async () => {
    const { planId, app, token } = await setup()
    const c = await app.client()
    world.ledger.inject('settle', { status: 500, times: 2 })
    const settles = world.ledger.counters.settle
    const result = await c.callTool({ name: 'free-today', arguments: {}, ...paying(token) })
    expect(result.content).toEqual([{ type: 'text', text: SECRET }])
    expect(world.ledger.counters.settle).toBe(settles)
    expect(world.ledger.redeemed(planId)).toBe(0)
  })

  it("burned through the redeem call (settle: { via: 'redeem' }), which gives no receipt: the result is not withheld", async () => {
    const { planId, gate, app, token } = await setup({ settle: { via: 'redeem', maxRetries: 1 } })
    const c = await app.client()
    const result = await c.callTool({ name: 'answer', arguments: {}, ...paying(token) })
    expect(result.content).toEqual([{ type: 'text', text: SECRET }])
    await gate.close()
    expect(world.ledger.redeemed(planId)).toBe(2)
  })
})
