/**
 * Graceful shutdown: `gate.close()` redeems what is batched and waits for redemptions in flight
 * (slow, retried, or held while an order is decided); the example agents call it on SIGTERM and
 * SIGINT, then exit 0.
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { ADAPTERS, startWorld, type World } from './harness'

let world: World | undefined
afterEach(async () => {
  await world?.close()
  world = undefined
})

describe.each(ADAPTERS)('%s: gate.close()', (adapter) => {
  it('settles what is batched, at once, and waits for the slow settle it starts', async () => {
    const w = (world = await startWorld(adapter, { credits: 10, subscribed: true, gate: { settle: { batchMs: 3_600_000 } } }))
    for (let i = 0; i < 4; i++) expect((await w.call('?cost=2')).status).toBe(200)
    expect(w.ledger.counters.settle).toBe(0) // gathered, not sent: the batch timer is an hour away
    w.ledger.inject('settle', { delayMs: 300 })
    const started = performance.now()
    await w.gate.close()
    expect(performance.now() - started).toBeGreaterThanOrEqual(250)
    expect(w.ledger.counters.settle).toBe(1)
    expect(w.ledger.redeemed(w.planId)).toBe(8)
  })

  it('waits for settles in flight, including ones being retried', async () => {
    const w = (world = await startWorld(adapter, { credits: 10, subscribed: true }))
    w.ledger.inject('settle', { delayMs: 200, times: 3 })
    w.ledger.inject('settle', { status: 503, times: 2 })
    const served = await Promise.all(Array.from({ length: 5 }, () => w.call()))
    expect(served.every((r) => r.status === 200)).toBe(true)
    expect(w.ledger.redeemed(w.planId)).toBeLessThan(5)
    await w.gate.close()
    expect(w.ledger.redeemed(w.planId)).toBe(5)
    expect(w.recorder.unredeemed).toBe(0)
  })

  it('waits for redemptions held back while an order is being decided', async () => {
    // 1 credit per order: the second request orders while the first one's redemption is held.
    const w = (world = await startWorld(adapter, { credits: 1, subscribed: true }))
    w.ledger.inject('order', { delayMs: 400 })
    const [first, second] = [w.call(), w.call()]
    expect((await Promise.race([first, second])).status).toBe(200)
    await w.gate.close() // while the order is in flight: the served request's redemption is held
    expect(w.ledger.redeemed(w.planId)).toBeGreaterThanOrEqual(1)
    expect((await first).status).toBe(200)
    expect((await second).status).toBe(200)
    await w.gate.close()
    expect(w.ledger.redeemed(w.planId)).toBe(2)
    expect(w.ledger.orders(w.planId) - w.ordersBefore).toBe(1)
  })
})

const examples = fileURLToPath(new URL('../../examples/', import.meta.url))

describe.each([
  ['express-agent.ts', 'SIGTERM'],
  ['hono-agent.ts', 'SIGTERM'],
  ['express-agent.ts', 'SIGINT'],
] as const)('examples/%s on %s', (file, signal) => {
  it('serves a paid request, then redeems it and exits 0', { timeout: 60_000 }, async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0' }
    delete env.NVM_API_KEY // the local ledger, whatever the machine has set
    const child = spawn(`${examples}node_modules/.bin/tsx`, ['--conditions=plangate-source', file], { cwd: examples, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
    try {
      const deadline = Date.now() + 45_000
      while (!/curl .*Bearer ([^']+)'/.test(stdout)) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`the agent did not start:\n${stdout}\n${stderr}`)
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
      const url = /(http:\/\/localhost:\d+)\/ask/.exec(stdout)![1]!
      const key = /Bearer ([^']+)'/.exec(stdout)![1]!
      const res = await fetch(`${url}/ask`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ question: 'shutdown?' }),
      })
      expect(res.status).toBe(200)
      await res.text()
      child.kill(signal)
      expect(await exited).toBe(0)
      expect(stdout).toMatch(new RegExp(`plangate: 1 credit\\(s\\) redeemed on the local ledger; stopped on ${signal}\\.`))
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL')
    }
  })
})
