/**
 * The stand-in for everything across the internet, in its own process on loopback: the local
 * ledger (Nevermined's API: balance, order, plan, delegation, x402 token, verify, settle) under
 * `/api/v1`, and a stand-in x402 facilitator (./facilitator.ts) under `/facilitator`. Every call
 * waits `delayMs` before it is answered, as a call to the real API waits for the round trip.
 *
 * It also hands out what the load generator sends: every holder's API key and an x402 access token
 * for each (a delegation and a token, got from the ledger as a buyer gets them).
 */
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import { createBenchLedger } from '../setup'
import { config, serveCommands } from '../servers/child'
import { createStandInFacilitator } from './facilitator'
import type { UpstreamConfig } from './protocol'

export const AGENT_ID = 'bench-agent'
const settings = config<UpstreamConfig>()
const { ledger, agentKey, planId, keys } = await createBenchLedger({ subscribers: settings.holders, baseUrl: 'http://127.0.0.1/api/v1' })
const tokens = settings.tokens ? await Promise.all(keys.map((key) => tokenFor(key))) : []
ledger.resetCounters()
const facilitator = createStandInFacilitator()

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const server = serve({
  port: 0,
  hostname: '127.0.0.1',
  async fetch(request) {
    if (settings.delayMs > 0) await sleep(settings.delayMs)
    const { pathname } = new URL(request.url)
    if (pathname.startsWith('/facilitator/')) return facilitator.fetch(request, pathname.slice('/facilitator/'.length))
    return ledger.fetch(request)
  },
})
await new Promise<void>((resolve) => server.once('listening', resolve))
const port = (server.address() as AddressInfo).port
const origin = `http://127.0.0.1:${port}`

/** A holder's x402 access token for the plan, as Nevermined's buyer SDK gets one (delegation, then token). */
async function tokenFor(apiKey: string): Promise<string> {
  const post = async (path: string, body: unknown) => {
    const response = await ledger.fetch(`${ledger.baseUrl}/${path}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${apiKey}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    })
    if (!response.ok) throw new Error(`bench upstream: ${path} answered ${response.status}`)
    return (await response.json()) as Record<string, string>
  }
  const { delegationId } = await post('delegation/create', { provider: 'erc4337', spendingLimitCents: 1_000_000, durationSecs: 86_400, currency: 'usdc' })
  const { accessToken } = await post('x402/permissions', {
    accepted: { scheme: 'nvm:erc4337', network: 'eip155:84532', planId, extra: { agentId: AGENT_ID } },
    delegationConfig: { delegationId },
  })
  return accessToken!
}

serveCommands(
  { type: 'ready', port, keys, tokens, origin, baseUrl: `${origin}/api/v1`, facilitatorUrl: `${origin}/facilitator`, agentKey, planId, agentId: AGENT_ID },
  async (command) => {
    switch (command.type) {
      case 'counters':
        return { counters: { ...ledger.counters, ...prefixed(facilitator.counters) } }
      case 'close':
        server.close()
        setImmediate(() => process.exit(0))
        return {}
      default:
        return {}
    }
  },
)

function prefixed(counters: object): Record<string, number> {
  return Object.fromEntries(Object.entries(counters as Record<string, number>).map(([name, n]) => [`facilitator ${name}`, n]))
}
