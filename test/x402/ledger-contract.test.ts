import { createLocalLedger, type LocalAccount, type LocalLedger } from '@plangate/core/local'
import Ajv, { type ValidateFunction } from 'ajv'
import addFormats from 'ajv-formats'
import { afterEach, describe, expect, it } from 'vitest'
import { serveFetch } from '../helpers/serve'

/**
 * The local ledger's answers against the live API's contract, as /work/shared/nevermined/
 * LIVE-CONTRACT.md writes it down (field names and types from Nevermined's SDK v1.11.0: its
 * `SettlePermissionsResult`, `VerifyPermissionsResult`, `PlanBalance`, and what it reads of a
 * plan). A list the document closes is closed here (no other field); one it leaves open ("…")
 * is open. Served over real HTTP, called the way the SDK calls it.
 */

const ajv = new Ajv({ allErrors: true, strict: true })
addFormats(ajv)

const string = { type: 'string', minLength: 1 } as const
const decimal = { type: 'string', pattern: '^[0-9]+$' } as const
const address = { type: 'string', pattern: '^0x[0-9a-f]{40}$' } as const
const txHash = { type: 'string', pattern: '^0x[0-9a-fA-F]{64}$' } as const
const count = { type: 'integer', minimum: 0 } as const

function closed(required: Record<string, object>, optional: Record<string, object> = {}): object {
  return { type: 'object', required: Object.keys(required), properties: { ...required, ...optional }, additionalProperties: false }
}
function open(required: Record<string, object>, optional: Record<string, object> = {}): object {
  return { type: 'object', required: Object.keys(required), properties: { ...required, ...optional }, additionalProperties: true }
}

/** Published: `{isSubscriber, total, used, remaining, expiresAt}`. */
const publishedBalance = closed({
  isSubscriber: { type: 'boolean' },
  total: count,
  used: count,
  remaining: count,
  expiresAt: { anyOf: [{ type: 'string', format: 'date-time' }, { type: 'null' }] },
})
/** The SDK's `PlanBalance`: `{planId, planName, planType, holderAddress, balance, creditsContract, isSubscriber, pricePerCredit}`, balance a decimal string. */
const liveBalance = closed({
  planId: decimal,
  planName: { type: 'string' },
  planType: { type: 'string' },
  holderAddress: address,
  balance: decimal,
  creditsContract: address,
  isSubscriber: { type: 'boolean' },
  pricePerCredit: { type: 'number' },
})

const schemas = {
  /** `POST /protocol/plans/{planId}/order`: `{success, txHash, balance}` (balance: the published seed). */
  order: closed({ success: { type: 'boolean', const: true }, txHash, balance: publishedBalance }),
  publishedBalance,
  liveBalance,
  /** `GET /protocol/plans/{planId}`: what the SDK reads, `registry.price.isCrypto` and `metadata.plan.fiatPaymentProvider`. */
  plan: open({
    registry: open({ price: open({ isCrypto: { type: 'boolean' } }) }),
    metadata: open({ plan: open({}, { fiatPaymentProvider: string }) }),
  }),
  /** `POST /delegation/create`: `{delegationId, …}`. */
  delegation: open({ delegationId: string }),
  /** `POST /x402/permissions`: `{accessToken, …}`. */
  permission: open({ accessToken: string }),
  /** `POST /x402/verify`: `{isValid, invalidReason?, payer?, network?, agentRequestId?, …}`. */
  verify: open({ isValid: { type: 'boolean' } }, { invalidReason: string, payer: address, network: string, agentRequestId: string }),
  /** `POST /x402/settle`: `{success, errorReason?, payer?, transaction, network, creditsRedeemed?, remainingBalance?, orderTx?}`. */
  settle: closed(
    { success: { type: 'boolean' }, transaction: txHash, network: string },
    { errorReason: string, payer: address, creditsRedeemed: decimal, remainingBalance: decimal, orderTx: txHash },
  ),
  /** An error as the SDK reads it: `message`, and `code` (e.g. `BCK.X402.0005`) when there is one. */
  error: closed({ message: string }, { code: string }),
  /** The published redeem call's answer, when it is served. */
  redeem: closed({ success: { type: 'boolean', const: true }, creditsRedeemed: count, remainingBalance: count }),
} as const
const validators = Object.fromEntries(Object.entries(schemas).map(([name, schema]) => [name, ajv.compile(schema)])) as Record<keyof typeof schemas, ValidateFunction>

function expectShape(name: keyof typeof schemas, body: unknown): void {
  const validate = validators[name]
  if (!validate(body)) expect.fail(`${name} answer ${JSON.stringify(body)} does not match the contract: ${ajv.errorsText(validate.errors)}`)
}

/** The PaymentRequired an agent sends with verify and settle (the SDK's buildPaymentRequired shape). */
function paymentRequired(planId: string, agentId?: string) {
  return {
    x402Version: 2,
    resource: { url: '/ask' },
    accepts: [{ scheme: 'nvm:erc4337', network: 'eip155:84532', planId, extra: { version: '1', ...(agentId ? { agentId } : {}), httpVerb: 'POST' } }],
    extensions: {},
  }
}

const servers: Array<{ close(): Promise<void> }> = []
afterEach(async () => {
  while (servers.length > 0) await servers.pop()!.close()
})

interface World {
  ledger: LocalLedger
  owner: LocalAccount
  alice: LocalAccount
  planId: string
  fiatPlanId: string
  clock: { now: number }
  call(method: string, path: string, key: string | undefined, body?: unknown): Promise<{ status: number; body: unknown; contentType: string | null }>
}

async function world(options: { balanceShape?: 'published' | 'live'; serveRedeem?: boolean } = {}): Promise<World> {
  const clock = { now: Date.parse('2026-06-01T00:00:00Z') }
  const ledger = createLocalLedger({ baseUrl: 'http://127.0.0.1/api/v1', now: () => clock.now, ...options })
  const owner = ledger.createAccount()
  const alice = ledger.createAccount({ funds: 100 })
  const planId = ledger.createPlan({ credits: 3, price: 2, owner: owner.address, durationSeconds: 3600 })
  const fiatPlanId = ledger.createPlan({ credits: 5, price: 4, owner: owner.address, fiat: true })
  const served = await serveFetch(ledger.fetch)
  servers.push(served)
  const call: World['call'] = async (method, path, key, body) => {
    const headers: Record<string, string> = { Accept: 'application/json', 'Nevermined-Version': '1.1' }
    if (key !== undefined) headers.Authorization = `Bearer ${key}`
    if (body !== undefined) headers['Content-Type'] = 'application/json'
    const res = await fetch(`${served.url}/api/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) })
    return { status: res.status, body: (await res.json()) as unknown, contentType: res.headers.get('content-type') }
  }
  return { ledger, owner, alice, planId, fiatPlanId, clock, call }
}

/** A delegation and an x402 token for `holder`, as a buyer gets them. */
async function tokenFor(w: World, holder: LocalAccount, planId: string, delegation: { spendingLimitCents?: number; durationSecs?: number } = {}) {
  const created = await w.call('POST', '/delegation/create', holder.apiKey, {
    provider: 'erc4337',
    spendingLimitCents: delegation.spendingLimitCents ?? 10_000,
    durationSecs: delegation.durationSecs ?? 3600,
    currency: 'usdc',
  })
  expect(created.status).toBe(200)
  expectShape('delegation', created.body)
  const { delegationId } = created.body as { delegationId: string }
  const permission = await w.call('POST', '/x402/permissions', holder.apiKey, {
    accepted: { scheme: 'nvm:erc4337', network: 'eip155:84532', planId, extra: { agentId: 'agent-7' } },
    delegationConfig: { delegationId },
  })
  expect(permission.status).toBe(200)
  expectShape('permission', permission.body)
  return { delegationId, token: (permission.body as { accessToken: string }).accessToken }
}

function decodeToken(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Record<string, unknown>
}

describe.each(['published', 'live'] as const)('the local ledger against the live contract (balance shape %s)', (balanceShape) => {
  it('answers the plan, order and balance calls in the documented shapes', async () => {
    const w = await world({ balanceShape })
    const plan = await w.call('GET', `/protocol/plans/${w.planId}`, w.alice.apiKey)
    expect(plan.status).toBe(200)
    expect(plan.contentType).toMatch(/^application\/json/)
    expectShape('plan', plan.body)
    expect(plan.body).toMatchObject({ registry: { price: { isCrypto: true } } })
    const fiat = await w.call('GET', `/protocol/plans/${w.fiatPlanId}`, w.alice.apiKey)
    expectShape('plan', fiat.body)
    expect(fiat.body).toMatchObject({ registry: { price: { isCrypto: false } }, metadata: { plan: { fiatPaymentProvider: 'stripe' } } })
    expect((await w.call('GET', '/protocol/plans/999', w.alice.apiKey)).status).toBe(404)

    const before = await w.call('GET', `/protocol/plans/${w.planId}/balance/${w.alice.address}`, w.owner.apiKey)
    expect(before.status).toBe(200)
    expectShape(balanceShape === 'live' ? 'liveBalance' : 'publishedBalance', before.body)

    const order = await w.call('POST', `/protocol/plans/${w.planId}/order`, w.alice.apiKey)
    expect(order.status).toBe(200)
    expectShape('order', order.body)
    expect(order.body).toMatchObject({ balance: { isSubscriber: true, total: 3, remaining: 3 } })

    const after = await w.call('GET', `/protocol/plans/${w.planId}/balance/${w.alice.address}`, w.owner.apiKey)
    if (balanceShape === 'live') {
      expectShape('liveBalance', after.body)
      expect(after.body).toMatchObject({ planId: w.planId, holderAddress: w.alice.address, balance: '3', isSubscriber: true })
    } else {
      expectShape('publishedBalance', after.body)
      expect(after.body).toMatchObject({ isSubscriber: true, total: 3, used: 0, remaining: 3 })
    }
  })

  it('answers delegation, permission, verify and settle in the documented shapes, and settle burns', async () => {
    const w = await world({ balanceShape })
    const { token } = await tokenFor(w, w.alice, w.planId)
    // The token is the real format: base64 JSON of an x402 v2 PaymentPayload naming the payer.
    const decoded = decodeToken(token)
    expect(decoded).toMatchObject({ x402Version: 2, accepted: { scheme: 'nvm:erc4337', network: 'eip155:84532', planId: w.planId, extra: { agentId: 'agent-7' } } })
    expect((decoded.payload as { authorization: { from: string } }).authorization.from).toBe(w.alice.address)

    const verify = await w.call('POST', '/x402/verify', w.owner.apiKey, { paymentRequired: paymentRequired(w.planId, 'agent-7'), x402AccessToken: token, maxAmount: '2' })
    expect(verify.status).toBe(200)
    expectShape('verify', verify.body)
    expect(verify.body).toMatchObject({ isValid: true, payer: w.alice.address, network: 'eip155:84532' })
    expect(w.ledger.orders(w.planId)).toBe(0) // verify neither orders nor burns

    // No credits yet: settle orders first (auto top-up) and says so in orderTx.
    const first = await w.call('POST', '/x402/settle', w.owner.apiKey, { paymentRequired: paymentRequired(w.planId, 'agent-7'), x402AccessToken: token, maxAmount: '2' })
    expect(first.status).toBe(200)
    expectShape('settle', first.body)
    expect(first.body).toMatchObject({ success: true, payer: w.alice.address, network: 'eip155:84532', creditsRedeemed: '2', remainingBalance: '1' })
    expect((first.body as { orderTx?: string }).orderTx).toMatch(/^0x[0-9a-f]{64}$/)
    expect(w.ledger.orders(w.planId)).toBe(1)
    expect(w.ledger.wallet(w.alice.address)).toBe(98)

    const second = await w.call('POST', '/x402/settle', w.owner.apiKey, { paymentRequired: paymentRequired(w.planId), x402AccessToken: token, maxAmount: '1' })
    expect(second.status).toBe(200)
    expectShape('settle', second.body)
    expect(second.body).toMatchObject({ success: true, creditsRedeemed: '1', remainingBalance: '0' })
    expect(second.body).not.toHaveProperty('orderTx')
    expect(w.ledger.redeemed(w.planId)).toBe(3)
    expect(w.ledger.balance(w.planId, w.alice.address).remaining).toBe(0)

    // maxAmount absent is one credit, as the SDK leaves it out when not given.
    const third = await w.call('POST', '/x402/settle', w.owner.apiKey, { paymentRequired: paymentRequired(w.planId), x402AccessToken: token })
    expectShape('settle', third.body)
    expect(third.body).toMatchObject({ creditsRedeemed: '1', remainingBalance: '2' })
  })

  it('answers verify isValid:false (with a reason) when the delegation cannot pay for what is asked', async () => {
    const w = await world({ balanceShape })
    // One order costs 200 cents; a limit of 199 cannot buy any.
    const { token } = await tokenFor(w, w.alice, w.planId, { spendingLimitCents: 199 })
    const verify = await w.call('POST', '/x402/verify', w.owner.apiKey, { paymentRequired: paymentRequired(w.planId), x402AccessToken: token, maxAmount: '1' })
    expect(verify.status).toBe(200)
    expectShape('verify', verify.body)
    expect(verify.body).toMatchObject({ isValid: false, invalidReason: expect.stringMatching(/delegation/) })
  })

  it('refuses settle of an exhausted delegation with 402 BCK.X402.0005, burning and charging nothing', async () => {
    const w = await world({ balanceShape })
    // Room for exactly one top-up (200 cents): the first settle orders, the second cannot.
    const { token } = await tokenFor(w, w.alice, w.planId, { spendingLimitCents: 300 })
    const body = (maxAmount: string) => ({ paymentRequired: paymentRequired(w.planId), x402AccessToken: token, maxAmount })
    expect((await w.call('POST', '/x402/settle', w.owner.apiKey, body('3'))).status).toBe(200)
    expect(w.ledger.orders(w.planId)).toBe(1)
    const refused = await w.call('POST', '/x402/settle', w.owner.apiKey, body('1'))
    expect(refused.status).toBe(402)
    expectShape('error', refused.body)
    expect(refused.body).toMatchObject({ code: 'BCK.X402.0005' })
    expect(w.ledger.orders(w.planId)).toBe(1)
    expect(w.ledger.redeemed(w.planId)).toBe(3)
    expect(w.ledger.wallet(w.alice.address)).toBe(98)
  })

  it('refuses settle with 402 BCK.X402.0005 once the delegation has expired', async () => {
    const w = await world({ balanceShape })
    const { token } = await tokenFor(w, w.alice, w.planId, { durationSecs: 60 })
    w.clock.now += 61_000
    const refused = await w.call('POST', '/x402/settle', w.owner.apiKey, { paymentRequired: paymentRequired(w.planId), x402AccessToken: token, maxAmount: '1' })
    expect(refused.status).toBe(402)
    expectShape('error', refused.body)
    expect(refused.body).toMatchObject({ code: 'BCK.X402.0005' })
    expect(w.ledger.orders(w.planId)).toBe(0)
  })

  it("refuses verify and settle with a key that is not the plan owner's, and with no key", async () => {
    const w = await world({ balanceShape })
    const { token } = await tokenFor(w, w.alice, w.planId)
    const bob = w.ledger.createAccount({ funds: 50 })
    const body = { paymentRequired: paymentRequired(w.planId), x402AccessToken: token, maxAmount: '1' }
    for (const path of ['/x402/verify', '/x402/settle']) {
      for (const key of [w.alice.apiKey, bob.apiKey, undefined, 'nvm:not-a-key-this-ledger-issued']) {
        const refused = await w.call('POST', path, key, body)
        expect(refused.status).toBe(401)
        expectShape('error', refused.body)
        expect(JSON.stringify(refused.body)).not.toContain(token)
      }
    }
    expect(w.ledger.orders(w.planId)).toBe(0)
    expect(w.ledger.redeemed(w.planId)).toBe(0)
    expect(w.ledger.wallet(w.alice.address)).toBe(100)
  })

  it('refuses a token for another plan, one it never issued, and a malformed body, with an error the SDK reads', async () => {
    const w = await world({ balanceShape })
    const { token } = await tokenFor(w, w.alice, w.planId)
    const otherPlan = w.ledger.createPlan({ credits: 1, price: 1, owner: w.owner.address })
    const cases: Array<[unknown, number]> = [
      [{ paymentRequired: paymentRequired(otherPlan), x402AccessToken: token, maxAmount: '1' }, 400],
      [{ paymentRequired: paymentRequired(w.planId), x402AccessToken: `${token.slice(0, -4)}AAAA`, maxAmount: '1' }, 401],
      [{ paymentRequired: paymentRequired(w.planId), maxAmount: '1' }, 400],
      [{ paymentRequired: { ...paymentRequired(w.planId), x402Version: 1 }, x402AccessToken: token, maxAmount: '1' }, 400],
      [{ paymentRequired: paymentRequired(w.planId), x402AccessToken: token, maxAmount: 1 }, 400],
      [{ paymentRequired: paymentRequired(w.planId), x402AccessToken: token, maxAmount: '0' }, 400],
    ]
    for (const [body, status] of cases) {
      const refused = await w.call('POST', '/x402/settle', w.owner.apiKey, body)
      expect(refused.status).toBe(status)
      expectShape('error', refused.body)
    }
    expect(w.ledger.redeemed()).toBe(0)
    expect(w.ledger.orders()).toBe(0)
  })

  it('answers the published redeem call 404 by default, as the live API does', async () => {
    const w = await world({ balanceShape })
    const res = await w.call('POST', '/protocol/plans/redeem', w.owner.apiKey, { planId: w.planId, holderAddress: w.alice.address, amount: 1, proof: 'p-1' })
    expect(res.status).toBe(404)
    expectShape('error', res.body)
    expect(res.body).toMatchObject({ message: 'Cannot POST /api/v1/protocol/plans/redeem' })
  })

  it('serves the published redeem call with serveRedeem', async () => {
    const w = await world({ balanceShape, serveRedeem: true })
    expect((await w.call('POST', `/protocol/plans/${w.planId}/order`, w.alice.apiKey)).status).toBe(200)
    const res = await w.call('POST', '/protocol/plans/redeem', w.owner.apiKey, { planId: w.planId, holderAddress: w.alice.address, amount: 1, proof: 'p-1' })
    expect(res.status).toBe(200)
    expectShape('redeem', res.body)
    expect(res.body).toEqual({ success: true, creditsRedeemed: 1, remainingBalance: 2 })
    expect(w.ledger.redeemed(w.planId)).toBe(1)
  })
})

describe('the contract schemas themselves', () => {
  // A schema that accepts anything proves nothing: each must refuse a near miss.
  it('refuse a wrong type, a missing field and (where closed) an extra field', () => {
    const settle = { success: true, transaction: `0x${'a'.repeat(64)}`, network: 'eip155:84532', creditsRedeemed: '1', remainingBalance: '0' }
    expect(validators.settle(settle)).toBe(true)
    expect(validators.settle({ ...settle, creditsRedeemed: 1 })).toBe(false)
    expect(validators.settle({ ...settle, transaction: undefined })).toBe(false)
    expect(validators.settle({ ...settle, creditsSettled: '1' })).toBe(false)
    expect(validators.verify({ isValid: 'true' })).toBe(false)
    expect(validators.liveBalance({ planId: '1', planName: 'p', planType: 'credits', holderAddress: `0x${'1'.repeat(40)}`, balance: 3, creditsContract: `0x${'0'.repeat(40)}`, isSubscriber: true, pricePerCredit: 0 })).toBe(false)
    expect(validators.publishedBalance({ isSubscriber: true, total: 1, used: 0, remaining: 1 })).toBe(false)
    expect(validators.delegation({ id: 'x' })).toBe(false)
    expect(validators.permission({ token: 'x' })).toBe(false)
    expect(validators.plan({ registry: { price: {} }, metadata: { plan: {} } })).toBe(false)
  })
})
