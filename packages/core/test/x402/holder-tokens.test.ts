/** HolderTokens (x402/holder-tokens.ts) on the local ledger: a token per holder and plan, made with the holder's key and kept. */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { NeverminedClient } from '../../src/client'
import { createLocalLedger } from '../../src/local/index'
import { HolderTokens } from '../../src/x402/holder-tokens'
import { PlanDirectory } from '../../src/x402/plan-directory'
import { parseX402Token } from '../../src/x402/token'

function world(delegationSecs = 3_600) {
  const ledger = createLocalLedger()
  const agent = ledger.createAccount()
  const alice = ledger.createAccount({ funds: 100 })
  const bob = ledger.createAccount({ funds: 100 })
  const planId = ledger.createPlan({ credits: 5, price: 10, owner: agent.address })
  const calls: string[] = []
  const fetch = (input: Request | string | URL, init?: RequestInit) => {
    const request = new Request(input, init)
    if (!request.url.includes('/protocol/plans/')) calls.push(`${new URL(request.url).pathname.split('/').slice(-2).join('/')} ${request.headers.get('authorization')}`)
    return ledger.fetch(request)
  }
  const client = new NeverminedClient({ baseUrl: ledger.baseUrl, fetch, timeoutMs: 2_000 })
  const limits: Array<[string, number | undefined]> = []
  const tokens = new HolderTokens(client, new PlanDirectory(client, agent.apiKey, {}), {
    agentId: undefined,
    delegationSecs,
    spendingLimitCents: (plan, price) => (limits.push([plan, price]), 5_000),
    max: 100,
  })
  return { ledger, alice, bob, planId, tokens, calls, limits, key: (holder: string) => `${planId}:${holder}` }
}

afterEach(() => vi.useRealTimers())

describe('HolderTokens', () => {
  it('makes a delegation and a token with the holder’s own key, within the spending limit for the plan’s price, and keeps it', async () => {
    const { alice, planId, tokens, calls, limits, key, ledger } = world()
    const token = await tokens.get(key(alice.address), planId, alice.apiKey)
    expect(parseX402Token(token)).toMatchObject({ planId })
    expect(calls).toEqual([`delegation/create Bearer ${alice.apiKey}`, `x402/permissions Bearer ${alice.apiKey}`])
    expect(limits).toEqual([[planId, 1_000]])
    expect(await tokens.get(key(alice.address), planId, alice.apiKey)).toBe(token)
    expect(ledger.counters.delegation + ledger.counters.permission).toBe(2)
  })

  it('one request in flight per holder and plan; holders get their own', async () => {
    const { alice, bob, planId, tokens, key, ledger } = world()
    const [a1, a2, b] = await Promise.all([
      tokens.get(key(alice.address), planId, alice.apiKey),
      tokens.get(key(alice.address), planId, alice.apiKey),
      tokens.get(key(bob.address), planId, bob.apiKey),
    ])
    expect(a1).toBe(a2)
    expect(b).not.toBe(a1)
    expect(ledger.counters.delegation).toBe(2)
  })

  it('forget(key, token) drops that token only: a stale forget leaves the newer one', async () => {
    const { alice, planId, tokens, key } = world()
    const k = key(alice.address)
    const first = await tokens.get(k, planId, alice.apiKey)
    tokens.forget(k, first)
    const second = await tokens.get(k, planId, alice.apiKey)
    expect(second).not.toBe(first)
    tokens.forget(k, first)
    expect(await tokens.get(k, planId, alice.apiKey)).toBe(second)
  })

  it('a token is renewed a minute before its delegation ends', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    const { alice, planId, tokens, key } = world(300)
    const k = key(alice.address)
    const first = await tokens.get(k, planId, alice.apiKey)
    vi.setSystemTime(Date.now() + 240_000 - 1)
    expect(await tokens.get(k, planId, alice.apiKey)).toBe(first)
    vi.setSystemTime(Date.now() + 1)
    expect(await tokens.get(k, planId, alice.apiKey)).not.toBe(first)
  })

  it('a failed request is not kept: the next get asks again', async () => {
    const { alice, planId, tokens, key, ledger } = world()
    ledger.inject('permission', { status: 503 })
    await expect(tokens.get(key(alice.address), planId, alice.apiKey)).rejects.toThrow()
    expect(await tokens.get(key(alice.address), planId, alice.apiKey)).toEqual(expect.any(String))
    expect(ledger.counters.permission).toBe(2)
  })
})
