/** PlanDirectory (x402/plan-directory.ts) on the local ledger: how each plan is paid for, learned once. */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { NeverminedClient } from '../../src/client'
import { createLocalLedger } from '../../src/local/index'
import { PlanDirectory } from '../../src/x402/plan-directory'

function world() {
  const ledger = createLocalLedger()
  const agent = ledger.createAccount()
  const crypto = ledger.createPlan({ credits: 5, price: 10, owner: agent.address })
  const card = ledger.createPlan({ credits: 3, price: 2, owner: agent.address, fiat: true })
  const client = new NeverminedClient({ baseUrl: ledger.baseUrl, fetch: ledger.fetch, timeoutMs: 2_000 })
  return { ledger, agent, crypto, card, client }
}

afterEach(() => vi.useRealTimers())

describe('PlanDirectory', () => {
  it('a crypto plan is paid by nvm:erc4337 on the environment’s network; its credits and price in cents are read too', async () => {
    const { crypto, client, agent } = world()
    const plans = new PlanDirectory(client, agent.apiKey, {})
    expect(await plans.facts(crypto)).toEqual({ scheme: { scheme: 'nvm:erc4337', network: 'eip155:84532' }, creditsPerOrder: 5, priceCents: 1_000 })
  })

  it('a fiat plan is paid by nvm:card-delegation through its provider', async () => {
    const { card, client, agent } = world()
    const facts = await new PlanDirectory(client, agent.apiKey, {}).facts(card)
    expect(facts.scheme).toEqual({ scheme: 'nvm:card-delegation', network: 'stripe' })
    expect(facts.creditsPerOrder).toBe(3)
  })

  it('a scheme and network given in the options are used as they are; given() names them before any read', async () => {
    const { crypto, client, agent, ledger } = world()
    const plans = new PlanDirectory(client, agent.apiKey, { scheme: 'nvm:card-delegation', network: 'adyen' })
    expect(plans.given()).toEqual({ scheme: 'nvm:card-delegation', network: 'adyen' })
    expect(new PlanDirectory(client, agent.apiKey, { scheme: 'nvm:erc4337' }).given()).toEqual({ scheme: 'nvm:erc4337', network: 'eip155:84532' })
    expect(new PlanDirectory(client, agent.apiKey, {}).given()).toBeUndefined()
    expect((await plans.facts(crypto)).scheme).toEqual({ scheme: 'nvm:card-delegation', network: 'adyen' })
    expect(ledger.counters.plan).toBe(1)
  })

  it('one read per plan, shared by concurrent callers, kept five minutes', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    const { crypto, card, client, agent, ledger } = world()
    const plans = new PlanDirectory(client, agent.apiKey, {})
    expect(plans.cached(crypto)).toBeUndefined()
    const [a, b] = await Promise.all([plans.facts(crypto), plans.facts(crypto)])
    expect(a).toBe(b)
    expect(ledger.counters.plan).toBe(1)
    expect(plans.cached(crypto)).toBe(a)
    await plans.facts(card)
    expect(ledger.counters.plan).toBe(2)
    vi.setSystemTime(Date.now() + 5 * 60_000 - 1)
    await plans.facts(crypto)
    expect(ledger.counters.plan).toBe(2)
    vi.setSystemTime(Date.now() + 1)
    expect(plans.cached(crypto)).toBeUndefined()
    await plans.facts(crypto)
    expect(ledger.counters.plan).toBe(3)
  })

  it('a plan whose metadata cannot be read counts as crypto, and is read again next time', async () => {
    const { card, client, agent, ledger } = world()
    const plans = new PlanDirectory(client, agent.apiKey, {})
    ledger.inject('plan', { status: 503 })
    expect(await plans.facts(card)).toEqual({ scheme: { scheme: 'nvm:erc4337', network: 'eip155:84532' }, creditsPerOrder: undefined, priceCents: undefined })
    expect(plans.cached(card)).toBeUndefined()
    expect((await plans.facts(card)).scheme.scheme).toBe('nvm:card-delegation')
    expect(ledger.counters.plan).toBe(2)
  })
})
