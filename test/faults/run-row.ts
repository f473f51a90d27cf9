import type { PlanGateOptions } from '@plangate/core'
import { expect } from 'vitest'
import { TIMEOUT_MS, type FaultRow } from './fault-table'
import { expectNoSecrets, expectProblem, sleep, startWorld, type Adapter, type World } from './harness'

/**
 * Runs one row of the failure table: the faulty request (status, body, time budget), its money
 * (orders, redemptions, onError), the next healthy request, and the secrets scan over everything
 * the gate, the adapter and the responses said, plus `consoleLines`.
 */
export async function runRow(adapter: Adapter, row: FaultRow, options: { consoleLines: string[]; gate?: Partial<PlanGateOptions> }): Promise<World> {
  const w = await startWorld(adapter, { subscribed: row.at !== 'order', gate: { timeoutMs: TIMEOUT_MS, ...row.gate, ...options.gate } })
  try {
    if (row.inject) w.ledger.inject(row.at, row.inject)
    await row.before?.(w)

    // The faulty request: its status, its body, its time budget.
    const [res] = await Promise.all([w.call(), row.during?.(w)])
    expect(res.status, res.text).toBe(row.status)
    if (row.code) expectProblem(res, row.code, w.planId)
    else expect(JSON.parse(res.text).balance.remaining).toBe(Number(res.headers.get('x-credits-remaining')))
    if (row.status === 503) expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0)
    // Only a fault on the request's own path reaches the client; settlement happens after the answer.
    if (row.name.includes('Retry-After: 7') && (row.at === 'balance' || row.at === 'order')) expect(res.headers.get('retry-after')).toBe('7')
    expect(res.ms).toBeLessThan(row.budgetMs)

    // Its money: what was ordered and redeemed once the gate has settled everything.
    await row.after?.(w)
    await w.gate.close()
    expect(w.ledger.orders(w.planId) - w.ordersBefore, 'orders').toBe(row.ordered)
    expect(w.ledger.redeemed(w.planId), 'redeemed').toBe(row.redeemed)
    expect(w.recorder.unredeemed, 'reported to onError as not redeemed').toBe(row.unredeemed ?? 0)
    if (row.logged) expect(w.recorder.lines.join('\n') + options.consoleLines.join('\n')).toMatch(row.logged)

    // The fault clears: the same process serves the next request, without buying twice.
    w.ledger.clearFaults()
    await row.restore?.(w)
    if (row.followUpAfterMs) await sleep(row.followUpAfterMs)
    const ordersBefore = w.ledger.orders(w.planId)
    const next = await w.call()
    expect(next.status, next.text).toBe(200)
    await w.gate.close()
    expect(w.ledger.orders(w.planId) - ordersBefore, 'orders by the next request').toBe(row.followUpOrders ?? 0)
    expect(w.ledger.redeemed(w.planId)).toBe(row.redeemed + 1)
    expect(w.recorder.unredeemed).toBe(row.unredeemed ?? 0)

    // No key, nor any part of one, in a log line, an error (causes included), a hook argument, a response or the console.
    expectNoSecrets(w.recorder.everything(options.consoleLines), [w.alice.apiKey, w.owner.apiKey])
    return w
  } finally {
    await w.close()
  }
}
