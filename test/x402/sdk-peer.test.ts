import { createPlanGate } from '@plangate/core'
import { createLocalLedger, type LocalAccount, type LocalLedger } from '@plangate/core/local'
import { requirePlan } from '@plangate/express'
import express from 'express'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { serveLedger } from '../../packages/express/test/helpers'
import { listen } from '../helpers/serve'
import { loadSdk, sdkTests, originOf, type BuyerSdk, type ExpressSdk } from './sdk'

/**
 * Nevermined's own Express middleware (`paymentMiddleware`, SDK v1.11.0, vendored) against the
 * local ledger over real HTTP, paid by a buyer using the SDK's own classes: whatever the ledger
 * answers to verify and settle is what the real SDK expects, or these fail.
 */

const AGENT_ID = 'agent-peer'

let ledger: LocalLedger
let ledgerUrl: string
let closeLedger: () => Promise<void>
let buyer: BuyerSdk
let peer: ExpressSdk

beforeAll(async () => {
  if (!sdkTests) return
  ledger = createLocalLedger({ baseUrl: 'http://127.0.0.1/api/v1' })
  const served = await serveLedger(ledger)
  ledgerUrl = served.baseUrl
  closeLedger = served.close
  buyer = await loadSdk<BuyerSdk>('nvm-sdk-buyer', originOf(ledgerUrl))
  peer = await loadSdk<ExpressSdk>('nvm-sdk-express', originOf(ledgerUrl))
})
afterAll(async () => {
  await closeLedger?.()
})
const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!()
})

/** A plan, its owner running the SDK's middleware on `POST /ask`, and a buyer with funds. */
async function world(credits = 1) {
  const owner = ledger.createAccount()
  const alice = ledger.createAccount({ funds: 50 })
  const planId = ledger.createPlan({ credits: 3, price: 2, owner: owner.address })
  // What the middleware reads of a Payments instance: the facilitator, the plan lookup, the environment.
  const payments = {
    facilitator: new peer.FacilitatorAPI({ nvmApiKey: owner.apiKey }),
    plans: {
      async getPlan(id: string): Promise<unknown> {
        const res = await fetch(`${ledgerUrl}/protocol/plans/${id}`, { headers: { Authorization: `Bearer ${owner.apiKey}` } })
        if (!res.ok) throw new Error(`plan ${id}: ${res.status}`)
        return res.json()
      },
    },
    getEnvironmentName: () => 'custom',
  }
  const settled: unknown[] = []
  const app = express()
  app.use(
    peer.paymentMiddleware(
      payments,
      { 'POST /ask': { planId, credits, agentId: AGENT_ID } },
      { onAfterSettle: (_req: unknown, _credits: unknown, settlement: unknown) => void settled.push(settlement) },
    ) as express.RequestHandler,
  )
  app.post('/ask', (_req, res) => {
    res.json({ answer: 42 })
  })
  const server = await listen(app)
  cleanups.push(server.close)
  return { owner, alice, planId, url: server.url, settled }
}

async function tokenFor(holder: LocalAccount, planId: string, spendingLimitCents = 10_000): Promise<string> {
  const { delegationId } = await new buyer.DelegationAPI({ nvmApiKey: holder.apiKey }).createDelegation({
    provider: 'erc4337',
    spendingLimitCents,
    durationSecs: 3600,
    currency: 'usdc',
  })
  return (await new buyer.X402TokenAPI({ nvmApiKey: holder.apiKey }).getX402AccessToken(planId, AGENT_ID, { delegationConfig: { delegationId } })).accessToken
}

async function ask(url: string, token?: string) {
  const res = await fetch(`${url}/ask`, { method: 'POST', headers: token ? { 'payment-signature': token } : {} })
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> }
}

function decodeHeader(value: string | null): Record<string, unknown> {
  expect(value).not.toBeNull()
  return JSON.parse(Buffer.from(value!, 'base64').toString('utf8')) as Record<string, unknown>
}

async function subscribe(holder: LocalAccount, planId: string): Promise<void> {
  const res = await fetch(`${ledgerUrl}/protocol/plans/${planId}/order`, { method: 'POST', headers: { Authorization: `Bearer ${holder.apiKey}` } })
  expect(res.status).toBe(200)
}

describe.runIf(sdkTests)("Nevermined's paymentMiddleware against the local ledger", () => {
  it('serves a paid call and burns one credit through verify and settle', async () => {
    const { alice, planId, url, settled } = await world()
    await subscribe(alice, planId)
    const token = await tokenFor(alice, planId)
    const before = { ...ledger.counters }

    const res = await ask(url, token)
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ answer: 42 })
    // The middleware puts the settle answer, as the SDK parsed it, in payment-response.
    const receipt = decodeHeader(res.headers.get('payment-response'))
    expect(receipt).toMatchObject({ success: true, payer: alice.address, network: 'eip155:84532', creditsRedeemed: '1', remainingBalance: '2' })
    expect(receipt.transaction).toMatch(/^0x[0-9a-f]{64}$/)
    expect(settled).toEqual([receipt])

    expect(ledger.redeemed(planId)).toBe(1)
    expect(ledger.balance(planId, alice.address).remaining).toBe(2)
    const after = ledger.counters
    expect(after.verify - before.verify).toBe(1)
    expect(after.settle - before.settle).toBe(1)
    expect(after.plan - before.plan).toBe(1) // the scheme, looked up once and kept
  })

  it('burns as many credits as the route asks for', async () => {
    const { alice, planId, url } = await world(2)
    await subscribe(alice, planId)
    const res = await ask(url, await tokenFor(alice, planId))
    expect(res.status).toBe(200)
    expect(decodeHeader(res.headers.get('payment-response'))).toMatchObject({ success: true, creditsRedeemed: '2', remainingBalance: '1' })
    expect(ledger.redeemed(planId)).toBe(2)
  })

  it('lets settle top up a buyer with no credits (orderTx in the receipt)', async () => {
    const { alice, planId, url } = await world()
    const res = await ask(url, await tokenFor(alice, planId))
    expect(res.status).toBe(200)
    const receipt = decodeHeader(res.headers.get('payment-response'))
    expect(receipt).toMatchObject({ success: true, creditsRedeemed: '1', remainingBalance: '2' })
    expect(receipt.orderTx).toMatch(/^0x[0-9a-f]{64}$/)
    expect(ledger.orders(planId)).toBe(1)
    expect(ledger.wallet(alice.address)).toBe(48)
  })

  it('answers 402 with payment-required when there is no token, and when the delegation cannot pay', async () => {
    const { alice, planId, url } = await world()
    const missing = await ask(url)
    expect(missing.status).toBe(402)
    expect(decodeHeader(missing.headers.get('payment-required'))).toMatchObject({
      x402Version: 2,
      accepts: [{ scheme: 'nvm:erc4337', network: 'eip155:84532', planId, extra: { agentId: AGENT_ID, httpVerb: 'POST' } }],
    })

    const before = { ...ledger.counters }
    const poor = await ask(url, await tokenFor(alice, planId, 100)) // one order costs 200 cents
    expect(poor.status).toBe(402)
    expect(poor.body.message).toMatch(/delegation/)
    expect(ledger.counters.verify - before.verify).toBe(1)
    expect(ledger.counters.settle - before.settle).toBe(0)
    expect(ledger.orders(planId)).toBe(0)
    expect(ledger.redeemed(planId)).toBe(0)
  })

  it("refuses a token issued for another agent (the ledger checks the PaymentRequired's agentId)", async () => {
    const { alice, planId, url } = await world()
    await subscribe(alice, planId)
    const { delegationId } = await new buyer.DelegationAPI({ nvmApiKey: alice.apiKey }).createDelegation({
      provider: 'erc4337',
      spendingLimitCents: 1_000,
      durationSecs: 3600,
      currency: 'usdc',
    })
    const { accessToken } = await new buyer.X402TokenAPI({ nvmApiKey: alice.apiKey }).getX402AccessToken(planId, 'someone-else', { delegationConfig: { delegationId } })
    const res = await ask(url, accessToken)
    expect(res.status).toBe(402)
    expect(ledger.redeemed(planId)).toBe(0)
  })

  it("and plangate's requirePlan on the same ledger send a payment-response with the same fields", async () => {
    const { owner, alice, planId, url } = await world()
    await subscribe(alice, planId)
    const gate = createPlanGate({ apiKey: owner.apiKey, environment: ledgerUrl, agentId: AGENT_ID, logger: { warn: () => {}, error: () => {} } })
    cleanups.push(() => gate.close())
    const app = express()
    app.post('/ask', requirePlan(planId, { gate }), (_req, res) => void res.json({ answer: 42 }))
    const ours = await listen(app)
    cleanups.push(ours.close)
    const token = await tokenFor(alice, planId)

    const theirs = decodeHeader((await ask(url, token)).headers.get('payment-response'))
    const mine = decodeHeader((await ask(ours.url, token)).headers.get('payment-response'))
    expect(Object.keys(mine).sort()).toEqual(Object.keys(theirs).sort())
    expect(mine).toMatchObject({ success: true, payer: theirs.payer, network: theirs.network })
    // Both burned from the one balance the token pays from.
    expect(ledger.redeemed(planId)).toBe(2)
    expect(Number(theirs.remainingBalance) - 1).toBe(Number(mine.remainingBalance))
  })
})
