/**
 * A server under test, in its own process (the load generator must not share its event loop):
 * Express 5 or Hono on @hono/node-server, bare or behind `requirePlan`, its gate talking to a local
 * ledger in this process (`fetch: ledger.fetch`) or to one served over HTTP on loopback (through
 * Node's `fetch`, or `createNodeFetch()` when `transport` is 'node').
 */
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import { createPlanGate, type PlanGate } from '@plangate/core'
import { parseApiKey } from '../core-adapter'
import type { LocalLedger } from '@plangate/core/local'
import type { ServerConfig } from '../protocol'
import { createBenchLedger } from '../setup'
import { startAllocationProfile, stopAllocationProfile } from './allocation-profile'
import { expressApp, honoApp, type Guard } from './apps'
import { config, serveCommands } from './child'

const settings = config<ServerConfig>()
const { upstream } = settings

let ledger: LocalLedger | undefined
let agentKey: string, planId: string, keys: string[]
if (upstream.kind === 'in-process') {
  ;({ ledger, agentKey, planId, keys } = await createBenchLedger({ subscribers: settings.subscribers }))
} else {
  ;({ agentKey, planId, keys } = upstream)
}

// Imported only when asked for: a baseline checkout (--compare) may predate @plangate/node.
const nodeFetch = settings.transport === 'node' ? (await import('@plangate/node')).createNodeFetch() : undefined

let gate: PlanGate | undefined
if (settings.guarded) {
  gate = createPlanGate({
    apiKey: agentKey,
    environment: upstream.kind === 'http' ? upstream.baseUrl : ledger!.baseUrl,
    ...(ledger ? { fetch: ledger.fetch } : nodeFetch ? { fetch: nodeFetch } : {}),
    cache: { max: Math.max(10_000, keys.length), ...(settings.cacheTtlMs ? { ttlMs: settings.cacheTtlMs } : {}) },
    settle: { batchMs: settings.settle === 'batched' ? settings.batchMs : 0 },
  })
}
const guard: Guard | undefined = gate
  ? { gate, planId, headers: settings.headers ?? true }
  : settings.noop
    ? 'noop'
    : settings.floor
      ? { floor: planId }
      : undefined

const server =
  settings.framework === 'express'
    ? expressApp(guard, settings.route).listen(0, '127.0.0.1')
    : serve({ fetch: honoApp(guard, settings.route).fetch, port: 0, hostname: '127.0.0.1' })
await new Promise<void>((resolve) => server.once('listening', resolve))
const port = (server.address() as AddressInfo).port

const storeKeys = keys.map((key) => `${planId}:${parseApiKey(key).address}`)

/** Credits reserved or served but not yet acknowledged upstream, over every subscriber. */
async function outstanding(): Promise<number> {
  if (!gate) return 0
  let total = 0
  for (const key of storeKeys) {
    const snapshot = await gate.store.snapshot(key)
    total += snapshot.reserved + snapshot.pending
  }
  return total
}

serveCommands({ type: 'ready', port, keys }, async (command) => {
  switch (command.type) {
    case 'counters':
      return ledger ? { counters: { ...ledger.counters } } : {}
    case 'quiesce': {
      // Wait (at most 10 s) until every served credit is redeemed, so no settlement work spills
      // into the next measurement.
      const deadline = Date.now() + 10_000
      let left = await outstanding()
      while (left > 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 10))
        left = await outstanding()
      }
      return { outstanding: left }
    }
    case 'cpu':
      return { cpu: process.cpuUsage() }
    case 'allocation-start':
      await startAllocationProfile()
      return {}
    case 'allocation-stop':
      return { allocation: await stopAllocationProfile() }
    case 'close':
      server.close()
      await gate?.close()
      setImmediate(() => process.exit(0))
      return {}
    default:
      return {}
  }
})
