/**
 * Who pays for a tool call, and in what order the credentials are read: `_meta["x402/payment"]`,
 * the `payment-signature` header, `Authorization: Bearer` (an API key or an x402 token), then
 * `extra.authInfo.token` (set by the SDK's transport from `req.auth`, as its bearer-auth
 * middleware does). Each x402 token is minted by the local ledger for its holder, as a buyer gets
 * one (a delegation, then `POST /x402/permissions`). Precedence is proven by giving two holders at
 * once and checking whose balance fell. The official client over Streamable HTTP, Express on a
 * real port, the local ledger over HTTP.
 */
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js'
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { createPlanGate, type PlanGate } from '@plangate/core'
import type { LocalAccount } from '@plangate/core/local'
import { requirePlan } from '@plangate/mcp'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { serveMcp, startLedger, type Ledger, type McpApp } from './paid-server'

const AGENT_ID = 'agent-credentials'
const COST = 2
const CREDITS = 20

let world: Ledger
let alice: LocalAccount
let bob: LocalAccount
let planId: string
let gate: PlanGate
let app: McpApp
/** What the middleware ahead of the transport puts in `req.auth.token` (undefined: no `req.auth`). */
let authToken: string | undefined
let ran: number

beforeEach(async () => {
  world = await startLedger()
  const owner = world.ledger.createAccount()
  alice = world.ledger.createAccount({ funds: 100 })
  bob = world.ledger.createAccount({ funds: 100 })
  planId = world.ledger.createPlan({ credits: CREDITS, price: 10, owner: owner.address })
  await world.order(planId, alice)
  await world.order(planId, bob)
  gate = createPlanGate({ apiKey: owner.apiKey, environment: world.url, agentId: AGENT_ID, autoOrder: false })
  authToken = undefined
  ran = 0
  const makeServer = () => {
    const mcp = new McpServer({ name: 'paid', version: '1.0.0' })
    mcp.registerTool('ping', {}, requirePlan(planId, { gate, cost: COST }, async () => (ran++, { content: [{ type: 'text', text: 'pong' }] })))
    return mcp
  }
  app = await serveMcp(makeServer, 'stateless', {
    before: (req, _res, next) => {
      if (authToken !== undefined) (req as { auth?: AuthInfo }).auth = { token: authToken, clientId: 'oauth-client', scopes: [] }
      next()
    },
  })
})
afterEach(async () => {
  await gate.close()
  await app.close()
  await world.close()
})

/** An x402 access token for `holder`, minted by the ledger as Nevermined's API mints one. */
async function tokenFor(holder: LocalAccount): Promise<string> {
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${world.url}${path}`, { method: 'POST', headers: { Authorization: `Bearer ${holder.apiKey}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) })
    if (res.status !== 200) throw new Error(`${path} answered ${res.status}`)
    return (await res.json()) as Record<string, string>
  }
  const { delegationId } = await post('/delegation/create', { provider: 'erc4337', spendingLimitCents: 10_000, durationSecs: 3600, currency: 'usdc' })
  const { accessToken } = await post('/x402/permissions', { accepted: { scheme: 'nvm:erc4337', planId, extra: { agentId: AGENT_ID } }, delegationConfig: { delegationId } })
  return accessToken!
}

/** Calls `ping` once; afterwards the gate is closed (every commit flushed), so the balances are final. */
async function call(options: { headers?: Record<string, string>; meta?: string }) {
  const client = await app.client(options.headers)
  const result = await client.callTool({ name: 'ping', arguments: {}, ...(options.meta === undefined ? {} : { _meta: { 'x402/payment': options.meta } }) })
  await client.close()
  await gate.close()
  return result
}

const remaining = (holder: LocalAccount) => world.ledger.balance(planId, holder.address).remaining

describe('requirePlan: each credential path pays', () => {
  it('a payment-signature header holding an x402 token pays, settled at once with the receipt', async () => {
    const token = await tokenFor(alice)
    const result = await call({ headers: { 'payment-signature': token } })
    expect(result.isError).toBeFalsy()
    expect(result._meta?.['x402/payment-response']).toMatchObject({ success: true, payer: alice.address, creditsRedeemed: String(COST) })
    expect(JSON.stringify(result)).not.toContain(token)
    expect(remaining(alice)).toBe(CREDITS - COST)
    expect(ran).toBe(1)
  })

  it('Authorization: Bearer <x402 token> pays as the token, not as an API key', async () => {
    const token = await tokenFor(alice)
    const result = await call({ headers: { Authorization: `Bearer ${token}` } })
    expect(result.isError).toBeFalsy()
    expect(result._meta?.['x402/payment-response']).toMatchObject({ success: true, payer: alice.address })
    expect(JSON.stringify(result)).not.toContain(token)
    expect(remaining(alice)).toBe(CREDITS - COST)
    expect(ran).toBe(1)
  })

  it('extra.authInfo.token (req.auth, as the bearer-auth middleware sets it) pays when no header does', async () => {
    authToken = alice.apiKey
    const result = await call({})
    expect(result.isError).toBeFalsy()
    expect(remaining(alice)).toBe(CREDITS - COST)
    expect(world.ledger.counters.settle).toBe(1)
    expect(ran).toBe(1)
  })

  it('a bearer that is neither an API key nor an x402 token is refused in band, never echoed', async () => {
    const result = await call({ headers: { Authorization: 'Bearer bm90LWEtdG9rZW4tYXQtYWxsLWp1c3QtZ2FyYmFnZQ' } })
    expect(result.structuredContent).toMatchObject({ x402Version: 2, error: 'CREDENTIAL_INVALID' })
    expect(JSON.stringify(result)).not.toContain('bm90LWEtdG9rZW4tYXQtYWxsLWp1c3QtZ2FyYmFnZQ')
    expect(ran).toBe(0)
  })

  it('without any of them the call is refused in band and the tool never runs', async () => {
    const result = await call({})
    expect(result.structuredContent).toMatchObject({ x402Version: 2, error: 'CREDENTIAL_MISSING' })
    expect(ran).toBe(0)
  })
})

describe('requirePlan: the order of the credentials (two holders, one is charged)', () => {
  it('_meta["x402/payment"] beats an Authorization header', async () => {
    await call({ meta: await tokenFor(alice), headers: { Authorization: `Bearer ${bob.apiKey}` } })
    expect([remaining(alice), remaining(bob)]).toEqual([CREDITS - COST, CREDITS])
  })

  it('_meta["x402/payment"] beats a payment-signature header', async () => {
    await call({ meta: await tokenFor(alice), headers: { 'payment-signature': await tokenFor(bob) } })
    expect([remaining(alice), remaining(bob)]).toEqual([CREDITS - COST, CREDITS])
  })

  it('a payment-signature header beats an Authorization header', async () => {
    await call({ headers: { 'payment-signature': await tokenFor(alice), Authorization: `Bearer ${bob.apiKey}` } })
    expect([remaining(alice), remaining(bob)]).toEqual([CREDITS - COST, CREDITS])
  })

  it('an Authorization header beats extra.authInfo.token', async () => {
    authToken = alice.apiKey
    await call({ headers: { Authorization: `Bearer ${bob.apiKey}` } })
    expect([remaining(alice), remaining(bob)]).toEqual([CREDITS, CREDITS - COST])
  })
})
