import { describe, expect, it } from 'vitest'
import { NeverminedClient } from '../../src/client'
import { setup } from './helpers'

// The ledger is only useful if plangate's own client takes its answers as the real API's:
// the client zod-checks every answer and maps statuses to coded errors.
function withClient(timeoutMs = 1_000) {
  const s = setup()
  const client = new NeverminedClient({ baseUrl: s.ledger.baseUrl, fetch: s.ledger.fetch, timeoutMs })
  return { ...s, client }
}

describe('NeverminedClient against the local ledger', () => {
  it('orders, reads the balance and redeems', async () => {
    const { client, owner, alice, planId } = withClient()
    const ordered = await client.order(planId, alice.apiKey)
    expect(ordered.balance).toEqual({ isSubscriber: true, total: 2, used: 0, remaining: 2, expiresAt: null })

    const redeemed = await client.redeem({ planId, holderAddress: alice.address, amount: 1, proof: 'lease-1' }, owner.apiKey)
    expect(redeemed).toEqual({ success: true, creditsRedeemed: 1, remainingBalance: 1 })

    expect(await client.balance(planId, alice.address, alice.apiKey)).toMatchObject({ used: 1, remaining: 1 })
  })

  it('maps the ledger refusals to the coded errors', async () => {
    const { ledger, client, owner, alice, planId } = withClient()
    await expect(client.order(planId, 'nvm:nobody')).rejects.toMatchObject({ code: 'CREDENTIAL_INVALID' })
    await expect(client.order('404', alice.apiKey)).rejects.toMatchObject({ code: 'PLAN_NOT_FOUND' })
    const poor = ledger.createAccount({ funds: 9 })
    await expect(client.order(planId, poor.apiKey)).rejects.toMatchObject({ code: 'PAYMENT_REQUIRED' })
    await expect(
      client.redeem({ planId, holderAddress: alice.address, amount: 1, proof: 'p' }, owner.apiKey),
    ).rejects.toMatchObject({ code: 'PAYMENT_REQUIRED' })
  })

  it('sees injected malformed bodies and slow answers as an unavailable upstream', async () => {
    const { ledger, client, alice, planId } = withClient(100)
    ledger.inject('balance', { body: '{"remaining":-1}' })
    await expect(client.balance(planId, alice.address, alice.apiKey)).rejects.toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' })
    ledger.inject('order', { delayMs: 5_000 })
    await expect(client.order(planId, alice.apiKey)).rejects.toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' })
    expect(ledger.wallet(alice.address)).toBe(25)
  })
})
