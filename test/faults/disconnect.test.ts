/**
 * Money invariant: a client that goes away mid-request releases its reservation. Over real HTTP,
 * the client aborts while the route is still working; the route answers once the server has seen
 * the client go (a fixed wait would race the event loop on a loaded machine); then nothing has
 * been redeemed and the credit serves the next request.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { ADAPTERS, sleep, startWorld, type World } from './harness'

let world: World | undefined
afterEach(async () => {
  await world?.close()
  world = undefined
})

async function until(check: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(5)
  }
}

describe.each(ADAPTERS)('%s: a client that disconnects mid-request', (adapter) => {
  it.each([
    ['the route answers 200 after the client left', '?wait=disconnect'],
    ['the route answers 500 after the client left', '?wait=disconnect&status=500'],
  ])('releases its reservation: %s', async (_name, query) => {
    // One credit, no auto-order: the credit is either held, spent, or back.
    const w = (world = await startWorld(adapter, { credits: 1, subscribed: true, gate: { autoOrder: false } }))
    const client = new AbortController()
    const abandoned = w.call(query, { signal: client.signal }).catch((error: unknown) => error)
    await until(() => w.seen.started === 1, 'the route to start')
    client.abort()
    expect(await abandoned).toMatchObject({ name: 'AbortError' })

    await until(() => w.seen.finished === 1, 'the route to finish')
    await sleep(50) // the adapter settles the lease once the route's answer is written (or not)
    await w.gate.close()
    expect(w.ledger.redeemed(w.planId)).toBe(0)

    const next = await w.call()
    expect(next.status, next.text).toBe(200)
    expect(next.headers.get('x-credits-remaining')).toBe('0')
    await w.gate.close()
    expect(w.ledger.redeemed(w.planId)).toBe(1)
    expect(w.ledger.orders(w.planId) - w.ordersBefore).toBe(0)
  })

  it('many clients leaving at once give every credit back', async () => {
    const w = (world = await startWorld(adapter, { credits: 20, subscribed: true, gate: { autoOrder: false } }))
    const clients = Array.from({ length: 20 }, () => new AbortController())
    const abandoned = clients.map((client) => w.call('?wait=disconnect', { signal: client.signal }).catch(() => 'aborted'))
    await until(() => w.seen.started === 20, 'every route to start')
    for (const client of clients) client.abort()
    await Promise.all(abandoned)
    await until(() => w.seen.finished === 20, 'every route to finish')
    await sleep(50)
    await w.gate.close()
    expect(w.ledger.redeemed(w.planId)).toBe(0)
    const next = await Promise.all(Array.from({ length: 21 }, () => w.call()))
    expect(next.filter((r) => r.status === 200)).toHaveLength(20)
    expect(next.filter((r) => r.status === 402)).toHaveLength(1)
  })
})
