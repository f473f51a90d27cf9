import { describe, expect, it } from 'vitest'
import { setup } from './setup'

/**
 * `lease.settleFailed`: once `commit()` has resolved, whether burning its credits failed for good.
 * Told apart from a commit that resolves without a receipt for other reasons (a settle whose
 * answer was lost but which the balance shows burned), so that what may go out only once paid
 * is held back exactly when the payment did not land. The local ledger judges.
 */
describe('lease.settleFailed', () => {
  it('is false for a settle that burned, with its receipt', async () => {
    const { gate, alice, planId, ledger } = setup({ credits: 5 }, { settle: { batchMs: 0 } })
    const lease = await gate.reserve(planId, alice.apiKey, 2)
    expect(await lease.commit()).toMatchObject({ success: true, creditsRedeemed: '2' })
    expect(lease.settleFailed).toBe(false)
    await gate.close()
    expect(ledger.redeemed(planId)).toBe(2)
  })

  it('is true once a settle has failed after every retry, or was refused', async () => {
    const { gate, alice, planId, ledger } = setup({ credits: 5 }, { settle: { batchMs: 0, maxRetries: 1 } })
    ledger.inject('settle', { status: 500, times: 2 })
    const failed = await gate.reserve(planId, alice.apiKey, 2)
    expect(await failed.commit()).toBeUndefined()
    expect(failed.settleFailed).toBe(true)
    ledger.inject('settle', { body: JSON.stringify({ success: false, errorReason: 'no', transaction: '', network: 'eip155:84532' }) })
    const refused = await gate.reserve(planId, alice.apiKey, 1)
    expect(await refused.commit()).toBeUndefined()
    expect(refused.settleFailed).toBe(true)
    await gate.close()
    expect(ledger.redeemed(planId)).toBe(0)
  })

  it('is false for a settle whose answer was lost but which the balance shows burned', async () => {
    const { gate, alice, planId, ledger } = setup({ credits: 5 }, { settle: { batchMs: 0, maxRetries: 3 } })
    ledger.inject('settle', { status: 200, afterApply: true, network: true }) // applied upstream, answer lost
    const lease = await gate.reserve(planId, alice.apiKey, 1)
    expect(await lease.commit()).toBeUndefined()
    expect(lease.settleFailed).toBe(false)
    await gate.close()
    expect(ledger.redeemed(planId)).toBe(1)
  })

  it('is true for every lease of a batch that failed, and through the redeem call', async () => {
    const batched = setup({ credits: 5 }, { settle: { batchMs: 20, maxRetries: 0 } })
    batched.ledger.inject('settle', { status: 500 })
    const leases = [await batched.gate.reserve(batched.planId, batched.alice.apiKey, 1), await batched.gate.reserve(batched.planId, batched.alice.apiKey, 1)]
    await Promise.all(leases.map((lease) => lease.commit()))
    expect(leases.map((lease) => lease.settleFailed)).toEqual([true, true])
    await batched.gate.close()

    // The ledger answers the redeem call 404, as the live API does.
    const redeem = setup({ credits: 5 }, { settle: { batchMs: 0, via: 'redeem', maxRetries: 0 } })
    const lease = await redeem.gate.reserve(redeem.planId, redeem.alice.apiKey, 1)
    await lease.commit()
    expect(lease.settleFailed).toBe(true)
    await redeem.gate.close()
  })
})
