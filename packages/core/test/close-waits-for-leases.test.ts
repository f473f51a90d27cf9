import { describe, expect, it } from 'vitest'
import { setup } from './setup'

/**
 * A request still being served when the server shuts down (a stream cut as its connections
 * close) commits just after `close()` was called: what it served is burned before `close()`
 * resolves, so a process that exits once it has is not left owing anything.
 */
describe('close() and requests still being served', () => {
  it('waits for an open lease to be committed, and burns it', async () => {
    const { gate, ledger, alice, planId } = setup({ credits: 10 })
    const lease = await gate.reserve(planId, alice.apiKey, 3)
    let closed = false
    const closing = gate.close().then(() => (closed = true))
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(closed, 'close() resolved while a request was still being served').toBe(false)
    void lease.commit()
    await closing
    expect(ledger.redeemed(planId)).toBe(3)
  })

  it('an open lease that is released: nothing burned, close() resolves', async () => {
    const { gate, ledger, alice, planId } = setup({ credits: 10 })
    const lease = await gate.reserve(planId, alice.apiKey, 3)
    const closing = gate.close()
    setTimeout(() => void lease.release(), 20)
    await closing
    expect(ledger.redeemed(planId)).toBe(0)
  })

  it('a lease nobody ends delays close() by timeoutMs at most', async () => {
    const { gate, alice, planId } = setup({ credits: 10 }, { timeoutMs: 200 })
    await gate.reserve(planId, alice.apiKey, 1)
    let closed = false
    const closing = gate.close().then(() => (closed = true))
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(closed).toBe(false)
    await closing
    expect(closed).toBe(true)
  })
})
