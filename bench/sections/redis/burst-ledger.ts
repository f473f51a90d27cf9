/**
 * The stand-in API of an order burst, in its own process: the local ledger served over HTTP on
 * loopback, with a plan of `credits` credits per order and one holder who has none of them yet
 * but money for `funds` orders. Its counters add the plan's orders and credits redeemed.
 */
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import { config, serveCommands } from '../../lib/servers/child'
import { createBenchLedger } from '../../lib/setup'

export interface BurstLedgerConfig {
  credits: number
  funds: number
}

const settings = config<BurstLedgerConfig>()
const { ledger, agentKey, planId } = await createBenchLedger({ subscribers: 0, credits: settings.credits })
// The plan's price is 1: money for `funds` orders.
const holder = ledger.createAccount({ funds: settings.funds })
const server = serve({ fetch: ledger.fetch, port: 0, hostname: '127.0.0.1' })
await new Promise<void>((resolve) => server.once('listening', resolve))
const port = (server.address() as AddressInfo).port
const origin = `http://127.0.0.1:${port}`
const baseUrl = `${origin}${new URL(ledger.baseUrl).pathname}`

serveCommands({ type: 'ready', port, keys: [holder.apiKey], origin, baseUrl, agentKey, planId }, async (command) => {
  switch (command.type) {
    case 'counters':
      return { counters: { ...ledger.counters, planOrders: ledger.orders(planId), planRedeemed: ledger.redeemed(planId) } }
    case 'close':
      server.close()
      setImmediate(() => process.exit(0))
      return {}
    default:
      throw new Error(`bench: the burst ledger does not answer "${command.type}"`)
  }
})
