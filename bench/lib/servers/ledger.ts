/**
 * The local ledger served over HTTP on loopback (`serve` from @hono/node-server), in its own
 * process: the "remote" Nevermined API of the loopback benchmarks.
 */
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import type { LedgerConfig } from '../protocol'
import { createBenchLedger } from '../setup'
import { config, serveCommands } from './child'

const settings = config<LedgerConfig>()
// The port is known only once listening; routing ignores the host, so any base URL with the
// right path works for creating the ledger.
const { ledger, agentKey, planId, keys } = await createBenchLedger({ subscribers: settings.subscribers })
const server = serve({ fetch: ledger.fetch, port: 0, hostname: '127.0.0.1' })
await new Promise<void>((resolve) => server.once('listening', resolve))
const port = (server.address() as AddressInfo).port
const baseUrl = `http://127.0.0.1:${port}${new URL(ledger.baseUrl).pathname}`

serveCommands({ type: 'ready', port, keys, baseUrl, agentKey, planId }, async (command) => {
  switch (command.type) {
    case 'counters':
      return { counters: { ...ledger.counters } }
    case 'quiesce':
      return { outstanding: 0 }
    case 'cpu':
      return { cpu: process.cpuUsage() }
    case 'close':
      server.close()
      setImmediate(() => process.exit(0))
      return {}
    default:
      throw new Error(`bench: the ledger does not answer "${command.type}"`)
  }
})
