/**
 * Secrets: no API key (the subscriber's or the agent's), nor its JWT payload or signature segment,
 * in any log line, error message (cause chains included), hook argument, response body or header
 * — and balances are cached by address, never by key. Every row of upstream-faults.test.ts scans
 * its own recording; this file adds the default console logger, the errors the app's own error
 * handlers receive, and the cache keys.
 */
import net from 'node:net'
import express from 'express'
import { Hono } from 'hono'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createPlanGate, MemoryBalanceStore } from '@plangate/core'
import { createLocalLedger } from '@plangate/core/local'
import { requirePlan as expressPlan } from '@plangate/express'
import { requirePlan as honoPlan } from '@plangate/hono'
import { listen, serveFetch } from '../helpers/serve'
import { FAULT_ROWS } from './fault-table'
import { ADAPTERS, captureConsole, describeError, expectNoSecrets, startWorld, type World } from './harness'
import { runRow } from './run-row'

let capture: ReturnType<typeof captureConsole>
const worlds: World[] = []
beforeEach(() => void (capture = captureConsole()))
afterEach(async () => {
  capture.restore()
  for (const w of worlds.splice(0)) await w.close()
})

/** One row of each kind of failure at each call: enough to make every log and error path speak. */
const REPRESENTATIVE = FAULT_ROWS.filter((row) => /^(time-out past|connection refused|500|401|404|truncated JSON|negative|503 past maxRetries|lag past)/.test(row.name))

describe.each(ADAPTERS)('%s', (adapter) => {
  it(`a pass of ${REPRESENTATIVE.length} rows of the failure table, with the default console logger, leaks no key`, async () => {
    for (const row of REPRESENTATIVE) await runRow(adapter, row, { consoleLines: capture.lines, gate: { logger: undefined } })
    // The default logger did speak (to the console, captured), so the scan had something to read.
    expect(capture.lines.filter((line) => line.startsWith('[plangate]')).length).toBeGreaterThan(REPRESENTATIVE.length / 2)
  })

  it('balances are cached by holder address: the store holds <planId>:<address> keys only', async () => {
    const w = await startWorld(adapter, { subscribed: true })
    worlds.push(w)
    const bob = w.ledger.createAccount({ funds: 100 })
    const [, alicePayload] = w.alice.apiKey.split('.')
    const forged = `nvm:eyJhbGciOiJub25lIn0.${alicePayload}.Zm9yZ2Vk`
    for (const key of [w.alice.apiKey, bob.apiKey, forged, 'nvm:garbage', w.alice.apiKey]) await w.call('', { key })
    const store = w.gate.store
    expect(store).toBeInstanceOf(MemoryBalanceStore)
    const keys = (store as MemoryBalanceStore).keys().sort()
    expect(keys).toEqual([`${w.planId}:${w.alice.address}`, `${w.planId}:${bob.address}`].sort())
    expectNoSecrets(keys.join('\n'), [w.alice.apiKey, bob.apiKey, w.owner.apiKey, forged])
  })
})

describe('errors handed to the app carry no key, causes included', () => {
  async function closedPort(): Promise<number> {
    const server = net.createServer()
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as net.AddressInfo
    await new Promise((resolve) => server.close(resolve))
    return port
  }

  it('Express onDenied and Hono app.onError see the error and its cause chain, and no key in them', async () => {
    const ledger = createLocalLedger()
    const owner = ledger.createAccount()
    const alice = ledger.createAccount({ funds: 10 })
    // Nothing listens on the gate's environment: a real refused connection, with a cause chain.
    const gate = createPlanGate({ apiKey: owner.apiKey, environment: `http://127.0.0.1:${await closedPort()}/api/v1`, timeoutMs: 1_000 })
    const seen: unknown[] = []

    const expressApp = express()
    expressApp.get('/paid', expressPlan(7, { gate, onDenied: (err, _req, res) => (seen.push(err), res.status(503).end()) }), (_req, res) => res.end())
    const honoApp = new Hono()
    honoApp.get('/paid', honoPlan(7, { gate }), (c) => c.text('served'))
    honoApp.onError((err) => (seen.push(err), new Response(null, { status: 503 })))

    for (const server of [await listen(expressApp), await serveFetch(honoApp.fetch)]) {
      for (const key of [alice.apiKey, `${alice.apiKey}x`, 'nvm:not.a.key']) {
        const res = await fetch(`${server.url}/paid`, { headers: { Authorization: `Bearer ${key}` } })
        expect([401, 503]).toContain(res.status)
      }
      await server.close()
    }
    expect(seen).toHaveLength(6)
    const text = seen.map((error) => describeError(error)).join('\n') + capture.lines.join('\n')
    expect(text).toMatch(/could not be reached/)
    expect(text).toMatch(/caused by/) // the chain was walked
    expectNoSecrets(text, [alice.apiKey, owner.apiKey])
    await gate.close()
  })
})
