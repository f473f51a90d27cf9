import { createPlanGate, type PlanGate, type PlanGateOptions } from '@plangate/core'
import { createLocalLedger, type LedgerEndpoint, type LocalAccount, type LocalLedger } from '@plangate/core/local'
import { requirePlan as expressRequirePlan } from '@plangate/express'
import { plangate } from '@plangate/fastify'
import { requirePlan as honoRequirePlan } from '@plangate/hono'
import { requirePlan as koaRequirePlan } from '@plangate/koa'
import Fastify from 'fastify'
import Koa from 'koa'
import { serve as honoServe } from '@hono/node-server'
import express from 'express'
import { Hono } from 'hono'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { eventually, serveLedger } from '../../packages/express/test/helpers'
import { loadSdk, sdkTests, originOf, type BuyerSdk } from './sdk'

/**
 * A Nevermined buyer, driven by Nevermined's own SDK (v1.11.0, vendored): it creates a
 * delegation, gets an x402 access token for it, and calls a route behind `requirePlan` with
 * `payment-signature: <token>`. Everything over real HTTP on loopback: the ledger, the app
 * (Express, and Hono on @hono/node-server), the SDK's calls and the gate's.
 */

const AGENT_ID = 'agent-1'
const PRICE = 2 // USDC per order: 200 cents
const CREDITS = 3 // per order

let ledger: LocalLedger
let ledgerUrl: string
let closeLedger: () => Promise<void>
let sdk: BuyerSdk

beforeAll(async () => {
  if (!sdkTests) return
  // Only the path of baseUrl routes; the SDK joins `/api/v1/…` to the origin it is given.
  ledger = createLocalLedger({ baseUrl: 'http://127.0.0.1/api/v1' })
  const served = await serveLedger(ledger)
  ledgerUrl = served.baseUrl
  closeLedger = served.close
  sdk = await loadSdk<BuyerSdk>('nvm-sdk-buyer', originOf(ledgerUrl))
})
afterAll(async () => {
  await closeLedger?.()
})

/** Everything any client received, and everything any gate logged: no secret may be in either. */
const seen: string[] = []
const logged: string[] = []
const secrets: string[] = []
const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!()
  // A test that failed half-way must not leave its faults to the next one.
  ledger?.clearFaults()
})
afterAll(() => {
  if (!sdkTests) return
  // Not vacuous: every test that ran added its secrets and what its clients received.
  expect(secrets.length).toBeGreaterThan(0)
  expect(seen.length).toBeGreaterThan(0)
  const everything = `${seen.join('\n')}\n${logged.join('\n')}`
  for (const secret of secrets) {
    expect(everything).not.toContain(secret)
    // Nor a recognisable piece: the token's payload part, the key's JWT payload.
    expect(everything).not.toContain(secret.slice(20, 80))
  }
})

interface Reply {
  status: number
  headers: Headers
  body: Record<string, unknown>
}

/**
 * Serves `POST /ask` behind `requirePlan(planId, { gate, cost })`; the route answers `status`, and
 * on a route priced by usage reports the `x-use` request header's credits with `balance.use()`.
 */
type Serve = (planId: string, gate: PlanGate, status?: 200 | 500, cost?: { max: number }) => Promise<string>

// Node's default limit for a request's head (16 KiB) is about the token cap itself (16 KiB): a
// bigger one lets an oversized token reach the gate, as it would behind a proxy that allows it.
const MAX_HEADER_SIZE = 64 * 1024

async function started(server: http.Server): Promise<string> {
  if (!server.listening) await new Promise((resolve) => server.once('listening', resolve))
  cleanups.push(() => {
    server.closeAllConnections()
    return new Promise((resolve) => server.close(() => resolve()))
  })
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

const frameworks: Array<[string, Serve]> = [
  [
    'Express',
    async (planId, gate, status = 200, cost) => {
      const app = express()
      app.post('/ask', expressRequirePlan(planId, { gate, ...(cost && { cost }) }), (req, res) => {
        if (cost) req.balance.use(Number(req.get('x-use')))
        res.status(status).json({ answer: 42, balance: req.balance })
      })
      return started(http.createServer({ maxHeaderSize: MAX_HEADER_SIZE }, app).listen(0, '127.0.0.1'))
    },
  ],
  [
    'Hono',
    async (planId, gate, status = 200, cost) => {
      const app = new Hono()
      app.use('/ask', honoRequirePlan(planId, { gate, ...(cost && { cost }) }))
      app.post('/ask', (c) => {
        if (cost) c.get('balance').use(Number(c.req.header('x-use')))
        return c.json({ answer: 42, balance: c.get('balance') }, status)
      })
      return started(honoServe({ fetch: app.fetch, port: 0, hostname: '127.0.0.1', serverOptions: { maxHeaderSize: MAX_HEADER_SIZE } }) as http.Server)
    },
  ],
  [
    'Koa',
    async (planId, gate, status = 200, cost) => {
      const app = new Koa()
      app.use(koaRequirePlan(planId, { gate, ...(cost && { cost }) }))
      app.use((ctx) => {
        if (cost) ctx.state.balance.use(Number(ctx.get('x-use')))
        ctx.status = status
        ctx.body = { answer: 42, balance: ctx.state.balance }
      })
      return started(http.createServer({ maxHeaderSize: MAX_HEADER_SIZE }, app.callback()).listen(0, '127.0.0.1'))
    },
  ],
  [
    'Fastify',
    async (planId, gate, status = 200, cost) => {
      const app = Fastify({ maxParamLength: 200, http: { maxHeaderSize: MAX_HEADER_SIZE } })
      await app.register(plangate)
      app.post('/ask', { preHandler: app.requirePlan(planId, { gate, ...(cost && { cost }) }) }, async (request, reply) => {
        if (cost) request.balance.use(Number(request.headers['x-use']))
        return reply.code(status).send({ answer: 42, balance: request.balance })
      })
      await app.listen({ port: 0, host: '127.0.0.1' })
      return started(app.server)
    },
  ],
]

function decodeHeader(value: string | null): Record<string, unknown> {
  expect(value).toMatch(/^[A-Za-z0-9+/]+={0,2}$/)
  return JSON.parse(Buffer.from(value!, 'base64').toString('utf8')) as Record<string, unknown>
}

function snapshot(): Record<LedgerEndpoint, number> {
  return { ...ledger.counters }
}

describe.runIf(sdkTests).each(frameworks)('a Nevermined buyer (the SDK) paying a %s route with x402', (_name, serve) => {
  /** A plan of its own, its owner (the agent), a buyer with funds, a gate and the app. */
  async function world(gateOptions: Partial<PlanGateOptions> = {}, cost?: { max: number }) {
    const owner = ledger.createAccount()
    const alice = ledger.createAccount({ funds: 100 })
    const planId = ledger.createPlan({ credits: CREDITS, price: PRICE, owner: owner.address })
    const logger = { warn: (m: string) => void logged.push(m), error: (m: string) => void logged.push(m) }
    const gate = createPlanGate({ apiKey: owner.apiKey, environment: ledgerUrl, agentId: AGENT_ID, logger, ...gateOptions })
    cleanups.push(() => gate.close())
    secrets.push(owner.apiKey, alice.apiKey)
    const url = await serve(planId, gate, 200, cost)
    return { owner, alice, planId, gate, url, logger }
  }

  /** What a buyer does with the SDK: a delegation, then a token for the plan backed by it. */
  async function buyerToken(buyer: LocalAccount, planId: string, spendingLimitCents = 10_000): Promise<string> {
    const { delegationId } = await new sdk.DelegationAPI({ nvmApiKey: buyer.apiKey }).createDelegation({
      provider: 'erc4337',
      spendingLimitCents,
      durationSecs: 3600,
      currency: 'usdc',
    })
    const { accessToken } = await new sdk.X402TokenAPI({ nvmApiKey: buyer.apiKey }).getX402AccessToken(planId, AGENT_ID, { delegationConfig: { delegationId } })
    expect(accessToken).toEqual(expect.any(String))
    secrets.push(accessToken)
    return accessToken
  }

  async function ask(url: string, headers: Record<string, string> = {}): Promise<Reply> {
    const res = await fetch(`${url}/ask`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: '{}' })
    const text = await res.text()
    seen.push(`${res.status} ${JSON.stringify([...res.headers])} ${text}`)
    let body: Record<string, unknown>
    try {
      body = JSON.parse(text) as Record<string, unknown>
    } catch {
      expect.fail(`answer ${res.status} is not JSON: ${text.slice(0, 200)}`)
    }
    return { status: res.status, headers: res.headers, body }
  }

  async function subscribe(buyer: LocalAccount, planId: string): Promise<void> {
    const res = await fetch(`${ledgerUrl}/protocol/plans/${planId}/order`, { method: 'POST', headers: { Authorization: `Bearer ${buyer.apiKey}` } })
    expect(res.status).toBe(200)
  }

  it('serves a paid call: 200, the balance to the route, a payment-response receipt, and one credit burned', async () => {
    const { alice, planId, gate, url } = await world()
    await subscribe(alice, planId)
    const token = await buyerToken(alice, planId)
    const before = snapshot()

    const res = await ask(url, { 'payment-signature': token })
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ answer: 42, balance: { planId, holderAddress: alice.address, remaining: CREDITS - 1, cost: 1, expiresAt: null } })
    expect(res.headers.get('x-credits-remaining')).toBe(String(CREDITS - 1))
    // Settled before the answer went out (immediate settlement), and the receipt says so.
    const receipt = decodeHeader(res.headers.get('payment-response'))
    expect(receipt).toMatchObject({ success: true, payer: alice.address, network: 'eip155:84532', creditsRedeemed: '1', remainingBalance: String(CREDITS - 1) })
    expect(receipt.transaction).toMatch(/^0x[0-9a-f]{64}$/)
    expect(ledger.redeemed(planId)).toBe(1)

    // The same token again: no second verify, one more settle.
    const again = await ask(url, { 'payment-signature': token })
    expect(again.status).toBe(200)
    expect((again.body.balance as { remaining: number }).remaining).toBe(CREDITS - 2)
    expect(decodeHeader(again.headers.get('payment-response'))).toMatchObject({ success: true, creditsRedeemed: '1', remainingBalance: String(CREDITS - 2) })
    await gate.close()
    expect(ledger.redeemed(planId)).toBe(2)
    expect(ledger.balance(planId, alice.address).remaining).toBe(CREDITS - 2)
    const after = snapshot()
    expect(after.verify - before.verify).toBe(1)
    expect(after.settle - before.settle).toBe(2)
    expect(after.order - before.order).toBe(0)
    expect(after.redeem - before.redeem).toBe(0)
    expect(after.delegation - before.delegation).toBe(0) // the buyer's own token: the gate makes none
  })

  it('priced by usage: verify covers the maximum, settle burns what the route used, and the receipt says so', async () => {
    const asked: Array<{ call: string; maxAmount: unknown }> = []
    const fetch = async (input: Request | string | URL, init?: RequestInit) => {
      const request = new Request(input, init)
      const call = /\/x402\/(verify|settle)$/.exec(new URL(request.url).pathname)?.[1]
      if (call) asked.push({ call, maxAmount: ((await request.clone().json()) as { maxAmount?: unknown }).maxAmount })
      return globalThis.fetch(request)
    }
    const { alice, planId, gate, url } = await world({ fetch }, { max: 3 })
    await subscribe(alice, planId)
    const res = await ask(url, { 'payment-signature': await buyerToken(alice, planId), 'x-use': '2' })
    expect(res.status).toBe(200)
    expect(decodeHeader(res.headers.get('payment-response'))).toMatchObject({ success: true, creditsRedeemed: '2', remainingBalance: String(CREDITS - 2) })
    expect(asked).toEqual([
      { call: 'verify', maxAmount: '3' },
      { call: 'settle', maxAmount: '2' },
    ])
    await gate.close()
    expect(ledger.redeemed(planId)).toBe(2)
  })

  it('reads the payment-signature header before Authorization: the x402 token pays, not the key', async () => {
    const { alice, planId, gate, url } = await world()
    await subscribe(alice, planId)
    const token = await buyerToken(alice, planId)
    const before = snapshot()
    const res = await ask(url, { 'payment-signature': token, authorization: `Bearer ${alice.apiKey}` })
    expect(res.status).toBe(200)
    expect(res.headers.get('payment-response')).not.toBeNull()
    await gate.close()
    const after = snapshot()
    // Paying with the key would have made the gate create a delegation and a token of its own.
    expect(after.delegation - before.delegation).toBe(0)
    expect(after.permission - before.permission).toBe(0)
    expect(after.verify - before.verify).toBe(1)
    expect(ledger.redeemed(planId)).toBe(1)
  })

  it('verifies a new token once for concurrent first requests, and burns each of them', async () => {
    const { alice, planId, gate, url } = await world()
    await subscribe(alice, planId)
    await subscribe(alice, planId)
    const token = await buyerToken(alice, planId)
    const before = snapshot()
    const replies = await Promise.all(Array.from({ length: 5 }, () => ask(url, { 'payment-signature': token })))
    expect(replies.map((r) => r.status)).toEqual([200, 200, 200, 200, 200])
    await gate.close()
    const after = snapshot()
    expect(after.verify - before.verify).toBe(1)
    expect(after.order - before.order).toBe(0)
    expect(ledger.redeemed(planId)).toBe(5)
    expect(ledger.balance(planId, alice.address).remaining).toBe(2 * CREDITS - 5)
  })

  it('burns nothing, and sends no receipt, when the route answers with an error', async () => {
    const { alice, planId, gate } = await world()
    await subscribe(alice, planId)
    const token = await buyerToken(alice, planId)
    // A second app on the same gate whose route fails.
    const failing = await serve(planId, gate, 500)
    const before = snapshot()
    const res = await ask(failing, { 'payment-signature': token })
    expect(res.status).toBe(500)
    expect(res.headers.get('payment-response')).toBeNull()
    expect(res.headers.get('x-credits-remaining')).toBeNull()
    await gate.close()
    expect(snapshot().settle - before.settle).toBe(0)
    expect(ledger.redeemed(planId)).toBe(0)
    expect(ledger.balance(planId, alice.address).remaining).toBe(CREDITS)
  })

  it('answers a call with no credential 401 with a payment-required offer, without calling upstream', async () => {
    const { planId, url } = await world()
    const before = snapshot()
    const res = await ask(url)
    expect(res.status).toBe(401)
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/)
    expect(res.body).toMatchObject({ status: 401, code: 'CREDENTIAL_MISSING', planId })
    const offer = decodeHeader(res.headers.get('payment-required'))
    // The plan was never looked up: the offer names it, and no scheme the gate would only guess.
    expect(offer).toEqual({
      x402Version: 2,
      error: expect.any(String),
      resource: { url: '/ask' },
      accepts: [{ planId, extra: { version: '1', agentId: AGENT_ID, httpVerb: 'POST' } }],
      extensions: {},
    })
    expect(snapshot()).toEqual(before)
  })

  it('names the scheme in a 401 offer once the plan was looked up, or when the options give it', async () => {
    const { alice, planId, url } = await world()
    // A paid request looks the plan up (verify needs its scheme).
    expect((await ask(url, { 'payment-signature': await buyerToken(alice, planId, 1_000) })).status).toBe(200)
    const offer = decodeHeader((await ask(url)).headers.get('payment-required'))
    expect(offer).toMatchObject({ accepts: [{ scheme: 'nvm:erc4337', network: 'eip155:84532', planId }] })

    const given = await world({ x402: { scheme: 'nvm:card-delegation' } })
    const before = snapshot()
    const offerGiven = decodeHeader((await ask(given.url)).headers.get('payment-required'))
    expect(offerGiven).toMatchObject({ accepts: [{ scheme: 'nvm:card-delegation', network: 'stripe', planId: given.planId }] })
    expect(snapshot()).toEqual(before)
  })

  it('lets settle top up a buyer whose credits run out, within its delegation', async () => {
    const { alice, planId, gate, url } = await world()
    // Never ordered: every credit comes from a top-up, paid from the wallet within the delegation.
    const token = await buyerToken(alice, planId, 1_000)
    const statuses: number[] = []
    const orders: number[] = []
    for (let i = 0; i < CREDITS + 1; i++) {
      const res = await ask(url, { 'payment-signature': token })
      statuses.push(res.status)
      orders.push(ledger.orders(planId))
    }
    await gate.close()
    expect(statuses).toEqual([200, 200, 200, 200])
    // First call: one order; the fourth (after three credits): a second one.
    expect(orders).toEqual([1, 1, 1, 2])
    expect(ledger.wallet(alice.address)).toBe(100 - 2 * PRICE)
    expect(ledger.redeemed(planId)).toBe(CREDITS + 1)
    expect(ledger.balance(planId, alice.address).remaining).toBe(2 * CREDITS - (CREDITS + 1))
  })

  it('orders only what concurrent requests of a buyer with no credits need', async () => {
    const { alice, planId, gate, url } = await world()
    const token = await buyerToken(alice, planId, 1_000)
    const before = snapshot()
    const replies = await Promise.all(Array.from({ length: CREDITS + 2 }, () => ask(url, { 'payment-signature': token })))
    expect(replies.map((r) => r.status)).toEqual(Array.from({ length: CREDITS + 2 }, () => 200))
    await gate.close()
    // Five credits at three an order: two orders, not one per request.
    expect(ledger.orders(planId)).toBe(2)
    expect(ledger.wallet(alice.address)).toBe(100 - 2 * PRICE)
    expect(ledger.redeemed(planId)).toBe(CREDITS + 2)
    expect(snapshot().order - before.order).toBe(0) // the gate has no key to order with: settle did
  })

  it('answers 402 with a payment-required offer once the delegation cannot pay for another top-up', async () => {
    const { alice, planId, gate, url } = await world()
    // Room for one order (200 cents) and not two.
    const token = await buyerToken(alice, planId, 300)
    for (let i = 0; i < CREDITS; i++) expect((await ask(url, { 'payment-signature': token })).status).toBe(200)
    const refused = await ask(url, { 'payment-signature': token })
    expect(refused.status).toBe(402)
    expect(refused.body).toMatchObject({ status: 402, code: 'PAYMENT_REQUIRED', planId })
    const offer = decodeHeader(refused.headers.get('payment-required'))
    expect(offer).toMatchObject({ x402Version: 2, accepts: [{ scheme: 'nvm:erc4337', planId, extra: { agentId: AGENT_ID } }] })
    expect(offer.error).toEqual(expect.any(String))
    await gate.close()
    expect(ledger.orders(planId)).toBe(1)
    expect(ledger.wallet(alice.address)).toBe(100 - PRICE)
    expect(ledger.redeemed(planId)).toBe(CREDITS)
  })

  it('refuses a token for another plan with 402 and no upstream call', async () => {
    const { alice, planId, owner, url } = await world()
    const otherPlan = ledger.createPlan({ credits: 5, price: 1, owner: owner.address })
    await subscribe(alice, otherPlan)
    await subscribe(alice, planId)
    // Warm the gate's knowledge of its own plan (what a 402's offer names), with another buyer.
    const bob = ledger.createAccount({ funds: 10 })
    secrets.push(bob.apiKey)
    await subscribe(bob, planId)
    expect((await ask(url, { 'payment-signature': await buyerToken(bob, planId) })).status).toBe(200)

    const foreign = await buyerToken(alice, otherPlan)
    const before = snapshot()
    const redeemed = ledger.redeemed()
    for (let i = 0; i < 3; i++) {
      const res = await ask(url, { 'payment-signature': foreign })
      expect(res.status).toBe(402)
      expect(res.body).toMatchObject({ code: 'PAYMENT_REQUIRED', planId })
      expect(String(res.body.detail)).toContain(`plan ${otherPlan}`)
      expect(decodeHeader(res.headers.get('payment-required'))).toMatchObject({ accepts: [{ planId }] })
    }
    expect(snapshot()).toEqual(before)
    expect(ledger.redeemed()).toBe(redeemed)
  })

  it('asks the plan once, and nothing else, to name it in the 402 for a foreign token on a gate that has not seen it', async () => {
    const { alice, planId, owner, url } = await world()
    const otherPlan = ledger.createPlan({ credits: 5, price: 1, owner: owner.address })
    const foreign = await buyerToken(alice, otherPlan)
    const before = snapshot()
    for (let i = 0; i < 3; i++) {
      const res = await ask(url, { 'payment-signature': foreign })
      expect(res.status).toBe(402)
      expect(decodeHeader(res.headers.get('payment-required'))).toMatchObject({ accepts: [{ planId, scheme: 'nvm:erc4337' }] })
    }
    const after = snapshot()
    expect(after.plan - before.plan).toBe(1) // the plan's scheme, for the offer; kept five minutes
    expect({ ...after, plan: 0 }).toEqual({ ...before, plan: 0 })
  })

  it("refuses a forged token naming a buyer's address, without spending that buyer's credits", async () => {
    const { alice, planId, url, gate } = await world()
    await subscribe(alice, planId)
    const real = await buyerToken(alice, planId)
    expect((await ask(url, { 'payment-signature': real })).status).toBe(200)
    // Same claims (payer, plan), another signature: the API never issued it.
    const payload = JSON.parse(Buffer.from(real, 'base64url').toString('utf8')) as { payload: { signature: string } }
    payload.payload.signature = `0x${'5e'.repeat(65)}`
    const forged = Buffer.from(JSON.stringify(payload)).toString('base64url')
    secrets.push(forged)
    for (let i = 0; i < 2; i++) {
      const res = await ask(url, { 'payment-signature': forged })
      expect(res.status).toBe(402)
      expect(res.body).toMatchObject({ code: 'PAYMENT_REQUIRED', planId })
    }
    expect((await ask(url, { 'payment-signature': real })).status).toBe(200)
    await gate.close()
    expect(ledger.redeemed(planId)).toBe(2)
    expect(ledger.balance(planId, alice.address).remaining).toBe(CREDITS - 2)
  })

  it('refuses a malformed or oversized token with 401 CREDENTIAL_INVALID and no upstream call', async () => {
    const { alice, planId, url } = await world()
    const real = await buyerToken(alice, planId)
    const payload = JSON.parse(Buffer.from(real, 'base64url').toString('utf8')) as { payload: { authorization: { from: string } } }
    payload.payload.authorization.from = '0x1234'
    const badAddress = Buffer.from(JSON.stringify(payload)).toString('base64url')
    const tokens = [
      'not a token!',
      Buffer.from('plain text, not JSON').toString('base64'),
      Buffer.from('{"x402Version":2}').toString('base64'),
      badAddress,
      'A'.repeat(20_000),
      `${real}${'A'.repeat(17_000)}`,
    ]
    secrets.push(badAddress)
    const before = snapshot()
    for (const token of tokens) {
      const res = await ask(url, { 'payment-signature': token })
      expect(res.status).toBe(401)
      expect(res.body).toMatchObject({ status: 401, code: 'CREDENTIAL_INVALID', planId })
      expect(res.headers.get('payment-required')).toBeNull()
      expect(JSON.stringify(res.body)).not.toContain(token.slice(0, 40))
    }
    expect(snapshot()).toEqual(before)
  })

  it('keeps the token out of responses and logs when upstream fails', async () => {
    const { alice, planId, gate, url } = await world({ settle: { maxRetries: 1 } })
    await subscribe(alice, planId)
    const token = await buyerToken(alice, planId)
    const linesBefore = logged.length
    ledger.inject('verify', { status: 503 })
    const failed = await ask(url, { 'payment-signature': token })
    expect(failed.status).toBe(503)
    expect(failed.body).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' })
    // A settle that fails for good is logged (and the answer still goes out).
    ledger.inject('settle', { status: 500, times: 2 })
    const served = await ask(url, { 'payment-signature': token })
    expect(served.status).toBe(200)
    // No receipt for a settle that did not happen.
    expect(served.headers.get('payment-response')).toBeNull()
    await gate.close()
    ledger.clearFaults()
    const lines = logged.slice(linesBefore).join('\n')
    expect(lines).toMatch(/fail/)
    expect(lines).not.toContain(token)
    expect(lines).not.toContain(token.slice(20, 80))
  })

  it('pays for an API-key caller through x402 too: orders with its key, makes one delegation and token, burns by settle', async () => {
    const { alice, planId, gate, url } = await world()
    const before = snapshot()
    const remaining: number[] = []
    for (let i = 0; i < CREDITS + 2; i++) {
      const res = await ask(url, { authorization: `Bearer ${alice.apiKey}` })
      expect(res.status).toBe(200)
      expect(res.headers.get('payment-response')).toBeNull() // a key holder is not an x402 client
      remaining.push((res.body.balance as { remaining: number }).remaining)
    }
    await gate.close()
    const after = snapshot()
    expect(remaining).toEqual([2, 1, 0, 2, 1])
    expect(after.order - before.order).toBe(2) // the gate ordered, with alice's key
    expect(ledger.orders(planId)).toBe(2)
    expect(ledger.wallet(alice.address)).toBe(100 - 2 * PRICE)
    expect(after.delegation - before.delegation).toBe(1)
    expect(after.permission - before.permission).toBe(1)
    expect(after.settle - before.settle).toBeGreaterThanOrEqual(1)
    expect(after.redeem - before.redeem).toBe(0)
    expect(ledger.redeemed(planId)).toBe(CREDITS + 2)
    expect(ledger.balance(planId, alice.address).remaining).toBe(2 * CREDITS - (CREDITS + 2))
  })
})

describe.runIf(sdkTests)('one gate behind routes of two plans', () => {
  // A gate is shared by every route of a process by default (and may be passed to several).
  // An x402 token names one plan, and the facilitator settles it for that plan only: a token
  // the gate has verified for plan B must not be served on a route of plan A (it would be
  // served, its settle refused, and A never paid).
  it('refuses a token verified for plan B on a route of plan A', async () => {
    const owner = ledger.createAccount()
    const alice = ledger.createAccount({ funds: 100 })
    secrets.push(owner.apiKey, alice.apiKey)
    const planA = ledger.createPlan({ credits: CREDITS, price: PRICE, owner: owner.address })
    const planB = ledger.createPlan({ credits: CREDITS, price: 1, owner: owner.address })
    for (const plan of [planA, planB]) {
      const res = await fetch(`${ledgerUrl}/protocol/plans/${plan}/order`, { method: 'POST', headers: { Authorization: `Bearer ${alice.apiKey}` } })
      expect(res.status).toBe(200)
    }
    const logger = { warn: (m: string) => void logged.push(m), error: (m: string) => void logged.push(m) }
    const gate = createPlanGate({ apiKey: owner.apiKey, environment: ledgerUrl, agentId: AGENT_ID, logger, settle: { maxRetries: 0 } })
    cleanups.push(() => gate.close())
    const app = express()
    app.post('/a', expressRequirePlan(planA, { gate }), (_req, res) => void res.json({ plan: 'A' }))
    app.post('/b', expressRequirePlan(planB, { gate }), (_req, res) => void res.json({ plan: 'B' }))
    const url = await started(http.createServer(app).listen(0, '127.0.0.1'))
    const { delegationId } = await new sdk.DelegationAPI({ nvmApiKey: alice.apiKey }).createDelegation({ provider: 'erc4337', spendingLimitCents: 1_000, durationSecs: 3600, currency: 'usdc' })
    const { accessToken } = await new sdk.X402TokenAPI({ nvmApiKey: alice.apiKey }).getX402AccessToken(planB, AGENT_ID, { delegationConfig: { delegationId } })
    secrets.push(accessToken)
    const call = async (path: string) => {
      const res = await fetch(`${url}${path}`, { method: 'POST', headers: { 'payment-signature': accessToken } })
      seen.push(`${res.status} ${JSON.stringify([...res.headers])} ${await res.text()}`)
      return res.status
    }
    expect(await call('/a')).toBe(402) // not seen yet: refused at once
    expect(await call('/b')).toBe(200)
    const statuses = [await call('/a'), await call('/a')]
    await gate.close()
    expect(ledger.redeemed(planB)).toBe(1)
    // Served on A means paid on A; refused means nothing to pay.
    expect({ statuses, redeemedA: ledger.redeemed(planA) }).toEqual({ statuses: [402, 402], redeemedA: 0 })
  })
})

describe.runIf(sdkTests)('a plan paid by card (fiat)', () => {
  it('is offered as nvm:card-delegation once the gate has looked the plan up, and a card-delegation token pays for it', async () => {
    const owner = ledger.createAccount()
    const alice = ledger.createAccount({ funds: 100 })
    secrets.push(owner.apiKey, alice.apiKey)
    const planId = ledger.createPlan({ credits: CREDITS, price: PRICE, owner: owner.address, fiat: true })
    const logger = { warn: (m: string) => void logged.push(m), error: (m: string) => void logged.push(m) }
    const gate = createPlanGate({ apiKey: owner.apiKey, environment: ledgerUrl, agentId: AGENT_ID, logger })
    cleanups.push(() => gate.close())
    const url = await frameworks[0]![1](planId, gate)
    const { delegationId } = await new sdk.DelegationAPI({ nvmApiKey: alice.apiKey }).createDelegation({ provider: 'erc4337', spendingLimitCents: 1_000, durationSecs: 3600, currency: 'usdc' })
    const { accessToken } = await new sdk.X402TokenAPI({ nvmApiKey: alice.apiKey }).getX402AccessToken(planId, AGENT_ID, {
      scheme: 'nvm:card-delegation',
      delegationConfig: { delegationId },
    })
    secrets.push(accessToken)
    const post = async (headers: Record<string, string>) => {
      const res = await fetch(`${url}/ask`, { method: 'POST', headers })
      seen.push(`${res.status} ${JSON.stringify([...res.headers])} ${await res.text()}`)
      return res
    }
    // Not looked up yet: the 401's offer must not claim the plan is paid by erc4337.
    const unknown = decodeHeader((await post({})).headers.get('payment-required'))
    expect(unknown.accepts).toEqual([{ planId, extra: { version: '1', agentId: AGENT_ID, httpVerb: 'POST' } }])
    const paid = await post({ 'payment-signature': accessToken })
    expect(paid.status).toBe(200)
    expect(decodeHeader(paid.headers.get('payment-response'))).toMatchObject({ success: true, network: 'stripe', creditsRedeemed: '1' })
    const offer = decodeHeader((await post({})).headers.get('payment-required'))
    expect(offer).toMatchObject({ accepts: [{ scheme: 'nvm:card-delegation', network: 'stripe', planId }] })
    await gate.close()
    expect(ledger.orders(planId)).toBe(1) // topped up by settle: the buyer had no credits
    expect(ledger.redeemed(planId)).toBe(1)
  })
})

describe.runIf(sdkTests)('an API-key caller whose delegation has ended upstream', () => {
  it('gets a new delegation and token from the gate, once, and its credits are still burned', async () => {
    // A ledger of its own, with a clock this test moves: the delegation ends upstream while the
    // gate still holds its token.
    const clock = { now: Date.now() }
    const own = createLocalLedger({ baseUrl: 'http://127.0.0.1/api/v1', now: () => clock.now })
    const served = await serveLedger(own)
    cleanups.push(served.close)
    const owner = own.createAccount()
    const alice = own.createAccount({ funds: 100 })
    secrets.push(owner.apiKey, alice.apiKey)
    const planId = own.createPlan({ credits: 10, price: PRICE, owner: owner.address })
    const lines: string[] = []
    const logger = { warn: (m: string) => void lines.push(m), error: (m: string) => void lines.push(m) }
    const gate = createPlanGate({ apiKey: owner.apiKey, environment: served.baseUrl, agentId: AGENT_ID, logger, x402: { delegationSecs: 3600 } })
    cleanups.push(() => gate.close())
    const url = await frameworks[0]![1](planId, gate)
    const post = async () => {
      const res = await fetch(`${url}/ask`, { method: 'POST', headers: { authorization: `Bearer ${alice.apiKey}` } })
      seen.push(`${res.status} ${JSON.stringify([...res.headers])} ${await res.text()}`)
      return res.status
    }
    expect(await post()).toBe(200)
    // A key holder's settle runs after the answer: wait for it.
    await eventually(() => expect(own.redeemed(planId)).toBe(1))
    expect(own.counters.delegation).toBe(1)
    clock.now += 2 * 3600 * 1000 // upstream, the delegation has expired; the gate does not know
    expect(await post()).toBe(200)
    expect(await post()).toBe(200)
    await gate.close()
    expect(own.counters.delegation).toBe(2)
    expect(own.counters.permission).toBe(2)
    expect(own.redeemed(planId)).toBe(3)
    expect(own.balance(planId, alice.address).remaining).toBe(7)
    expect(lines).toEqual([])
    logged.push(...lines)
  })
})

describe.runIf(sdkTests)('concurrent requests of a buyer with no credits and room for one top-up', () => {
  // The facilitator's verify does not hold anything: two verifies before the first top-up lands
  // both say the delegation can pay for an order, though it can pay for one only. What the gate
  // has counted ahead of a top-up it must ask about too, or it serves what nobody pays for.
  // Known gap (gate/x402-payer.ts, topUp: verify asks for one order's worth, not for that plus what is
  // already promised): all five are served, one credit is burned. Marked failing until fixed.
  it('serves no more than the delegation pays for', async () => {
    const owner = ledger.createAccount()
    const alice = ledger.createAccount({ funds: 100 })
    secrets.push(owner.apiKey, alice.apiKey)
    const planId = ledger.createPlan({ credits: CREDITS, price: PRICE, owner: owner.address })
    const logger = { warn: (m: string) => void logged.push(m), error: (m: string) => void logged.push(m) }
    const gate = createPlanGate({ apiKey: owner.apiKey, environment: ledgerUrl, agentId: AGENT_ID, logger, settle: { maxRetries: 0 } })
    cleanups.push(() => gate.close())
    const url = await frameworks[0]![1](planId, gate)
    // Room for one order (200 cents) of three credits.
    const { delegationId } = await new sdk.DelegationAPI({ nvmApiKey: alice.apiKey }).createDelegation({ provider: 'erc4337', spendingLimitCents: 300, durationSecs: 3600, currency: 'usdc' })
    const { accessToken } = await new sdk.X402TokenAPI({ nvmApiKey: alice.apiKey }).getX402AccessToken(planId, AGENT_ID, { delegationConfig: { delegationId } })
    secrets.push(accessToken)
    // The first settle (the one that orders) lands late, as a real on-chain order does.
    ledger.inject('settle', { delayMs: 300 })
    const statuses = await Promise.all(
      Array.from({ length: CREDITS + 2 }, async () => {
        const res = await fetch(`${url}/ask`, { method: 'POST', headers: { 'payment-signature': accessToken } })
        seen.push(`${res.status} ${JSON.stringify([...res.headers])} ${await res.text()}`)
        return res.status
      }),
    )
    await gate.close()
    ledger.clearFaults()
    const served = statuses.filter((status) => status === 200).length
    expect(ledger.orders(planId)).toBeLessThanOrEqual(1)
    // Every answer served is paid for, and no more than one order's worth can be.
    expect(served).toBeGreaterThanOrEqual(1)
    expect({ served, burned: ledger.redeemed(planId), atMost: served <= CREDITS }).toEqual({ served, burned: served, atMost: true })
  })
})

describe.runIf(sdkTests)('an upstream reason that repeats the token', () => {
  // What the facilitator says about a refused token is text from outside: it may quote what it
  // was sent. The token must not travel on from there into an answer, its payment-required
  // header, or a log line. Known gap (gate/x402-payer.ts verify and settle/x402-burner.ts pass the reason on,
  // clipped to 200 characters, on the assumption that it never contains the token): marked
  // failing until reasons are cleaned of the token.
  it('is not passed on to the client or the logs', async () => {
    const owner = ledger.createAccount()
    const alice = ledger.createAccount({ funds: 100 })
    secrets.push(owner.apiKey, alice.apiKey) // the keys still must not leak; the tokens do, upstream
    const planId = ledger.createPlan({ credits: CREDITS, price: PRICE, owner: owner.address })
    await fetch(`${ledgerUrl}/protocol/plans/${planId}/order`, { method: 'POST', headers: { Authorization: `Bearer ${alice.apiKey}` } })
    // Kept apart from the file's own record of answers and log lines, which must stay clean.
    const lines: string[] = []
    const logger = { warn: (m: string) => void lines.push(m), error: (m: string) => void lines.push(m) }
    const gate = createPlanGate({ apiKey: owner.apiKey, environment: ledgerUrl, agentId: AGENT_ID, logger, settle: { maxRetries: 0 } })
    cleanups.push(() => gate.close())
    const url = await frameworks[0]![1](planId, gate)
    const token = async () => {
      const { delegationId } = await new sdk.DelegationAPI({ nvmApiKey: alice.apiKey }).createDelegation({ provider: 'erc4337', spendingLimitCents: 1_000, durationSecs: 3600, currency: 'usdc' })
      return (await new sdk.X402TokenAPI({ nvmApiKey: alice.apiKey }).getX402AccessToken(planId, AGENT_ID, { delegationConfig: { delegationId } })).accessToken
    }
    const refused = await token()
    ledger.inject('verify', { body: JSON.stringify({ isValid: false, invalidReason: `token ${refused} is not valid` }) })
    const res = await fetch(`${url}/ask`, { method: 'POST', headers: { 'payment-signature': refused } })
    const answer = `${await res.text()} ${Buffer.from(res.headers.get('payment-required') ?? '', 'base64').toString('utf8')}`
    expect(res.status).toBe(402)

    const settled = await token()
    ledger.inject('settle', { body: JSON.stringify({ success: false, errorReason: `token ${settled} cannot be settled`, transaction: '', network: 'eip155:84532' }) })
    expect((await fetch(`${url}/ask`, { method: 'POST', headers: { 'payment-signature': settled } })).status).toBe(200)
    await gate.close()
    ledger.clearFaults()
    expect(lines.length).toBeGreaterThan(0)
    expect({ answer: answer.includes(refused.slice(0, 60)), log: lines.join('\n').includes(settled.slice(0, 60)) }).toEqual({ answer: false, log: false })
  })
})
