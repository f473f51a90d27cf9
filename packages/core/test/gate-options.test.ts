/**
 * createPlanGate's options not covered in gate.test.ts: each wrong one throws a TypeError at
 * creation naming it (and never echoing a secret); the store's options likewise.
 */
import { describe, expect, it } from 'vitest'
import { createPlanGate, MemoryBalanceStore } from '../src/index'
import { MemoryOutboxStore } from '../src/store'
import { createLocalLedger } from '../src/local/index'

const ledger = createLocalLedger()
const owner = ledger.createAccount()

describe('gate options', () => {
  it.each([
    [{ settle: { via: 'burn' } }, /"settle\.via": expected 'x402' or 'redeem'/],
    [{ settle: { maxRetries: 21 } }, /"settle\.maxRetries"/],
    [{ settle: { batchMs: 3_600_001 } }, /"settle\.batchMs"/],
    [{ settle: { batchms: 10 } }, /"settle\.batchms": unknown option; the options of "settle" are batchMs, maxCredits, maxRetries, via\./],
    [{ autoOrder: { maxorders: 1 } }, /"autoOrder\.maxorders": unknown option; the options of "autoOrder" are maxOrders, windowMs, pollTimeoutMs\./],
    [{ x402: { scheme: 'exact' } }, /"x402\.scheme": expected 'nvm:erc4337' or 'nvm:card-delegation'/],
    [{ x402: { delegationSecs: 0 } }, /"x402\.delegationSecs"/],
    [{ x402: { spendingLimitCents: 1.5 } }, /"x402\.spendingLimitCents"/],
    [{ x402: { network: '' } }, /"x402\.network"/],
    [{ agentId: '' }, /"agentId"/],
    [{ logger: console.log }, /"logger": expected an object with warn\(message\) and error\(message\)/],
    [{ logger: { warn: () => {} } }, /"logger"/],
    [{ store: {} }, /"store": expected a BalanceStore/],
    [{ cache: { max: 0 } }, /"cache\.max"/],
    [{ cache: { ttlMs: 86_400_001 } }, /"cache\.ttlMs"/],
    [{ autoOrder: { windowMs: 0 } }, /"autoOrder\.windowMs"/],
    [{ autoOrder: { pollTimeoutMs: -1 } }, /"autoOrder\.pollTimeoutMs"/],
    [{ autoOrder: 'yes' }, /"autoOrder"/],
    [{ hooks: { onRedeem: 'log' } }, /"hooks\.onRedeem"/],
    [{ hooks: { onErr: () => {} } }, /"hooks\.onErr": unknown option; the options of "hooks" are onOrder, onRedeem, onError\./],
    [{ timeoutms: 5 }, /"timeoutms": unknown option; the options are apiKey, environment, fetch, timeoutMs,/],
    [{ environment: 'ftp://ledger.example' }, /"environment": the base URL must be http\(s\)/],
    [{ env: 'NVM_API_KEY=x' }, /"env"/],
  ])('a wrong option throws a TypeError naming it: %j', (bad, message) => {
    const create = () => createPlanGate({ apiKey: owner.apiKey, environment: ledger.baseUrl, ...(bad as object) })
    expect(create).toThrow(TypeError)
    expect(create).toThrow(message)
  })

  it('the message never echoes the agent key', () => {
    const secret = `${owner.apiKey}-but-wrong`
    for (const bad of [{ apiKey: secret, timeoutMs: -1 }, { apiKey: 'sandbox:not-a-jwt-secret-value' }]) {
      let message = ''
      try {
        createPlanGate(bad)
      } catch (error) {
        message = (error as Error).message
      }
      expect(message).toMatch(/^plangate: /)
      expect(message).not.toContain('not-a-jwt-secret-value')
      expect(message).not.toContain(owner.apiKey)
    }
  })

  it('good options create a gate; a store with an outbox makes it record what it serves', async () => {
    const plain = createPlanGate({ apiKey: owner.apiKey, environment: ledger.baseUrl, fetch: ledger.fetch, settle: { via: 'redeem', maxRetries: 0 }, x402: { scheme: 'nvm:card-delegation' } })
    expect(plain.recordsServed).toBe(false)
    const recording = createPlanGate({ apiKey: owner.apiKey, environment: ledger.baseUrl, fetch: ledger.fetch, store: new MemoryOutboxStore() })
    expect(recording.recordsServed).toBe(true)
    await Promise.all([plain.close(), recording.close()])
  })
})

describe('store options', () => {
  it.each([
    [() => new MemoryBalanceStore({ reservationLeaseMs: 0 }), /"reservationLeaseMs"/],
    [() => new MemoryBalanceStore({ reservationLeaseMs: 8 * 86_400_000 }), /"reservationLeaseMs".*one week/],
    [() => new MemoryBalanceStore({ now: 'soon' as never }), /"now"/],
  ])('MemoryBalanceStore: %#', (create, message) => {
    expect(create).toThrow(TypeError)
    expect(create).toThrow(message)
  })
})
