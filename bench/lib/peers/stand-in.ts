/**
 * The stand-in for everything across the internet: the local ledger (Nevermined's API: balance,
 * order, plan, delegation, x402 token, verify, settle) under `/api/v1`, and a stand-in x402
 * facilitator (./facilitator.ts) under `/facilitator`, as one fetch handler. Every call waits
 * `delayMs` before it is answered, as a call to the real API waits for the round trip.
 *
 * It also makes what the load generator sends: every holder's API key and, when asked, an x402
 * access token for each (a delegation, then a token, as Nevermined's buyer SDK gets them).
 */
import { createBenchLedger, type BenchLedger } from '../setup'
import { createStandInFacilitator } from './facilitator'
import type { UpstreamConfig } from './protocol'

export const AGENT_ID = 'bench-agent'

export interface StandInApi extends BenchLedger {
  tokens: string[]
  /** Answers a request for `http://<anything>/api/v1/…` or `/facilitator/…`, after the delay. */
  fetch(request: Request): Promise<Response>
  /** Calls answered so far: the ledger's by endpoint, the facilitator's as `facilitator <call>`. */
  counters(): Record<string, number>
}

export async function createStandInApi(settings: UpstreamConfig): Promise<StandInApi> {
  const bench = await createBenchLedger({ subscribers: settings.holders, baseUrl: 'http://127.0.0.1/api/v1' })
  const { ledger, planId } = bench
  const tokenFor = async (apiKey: string): Promise<string> => {
    const post = async (path: string, body: unknown) => {
      const response = await ledger.fetch(`${ledger.baseUrl}/${path}`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${apiKey}`, 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      })
      if (!response.ok) throw new Error(`bench stand-in: ${path} answered ${response.status}`)
      return (await response.json()) as Record<string, string>
    }
    const { delegationId } = await post('delegation/create', { provider: 'erc4337', spendingLimitCents: 1_000_000, durationSecs: 86_400, currency: 'usdc' })
    const { accessToken } = await post('x402/permissions', {
      accepted: { scheme: 'nvm:erc4337', network: 'eip155:84532', planId, extra: { agentId: AGENT_ID } },
      delegationConfig: { delegationId },
    })
    return accessToken!
  }
  const tokens: string[] = []
  if (settings.tokens) for (const key of bench.keys) tokens.push(await tokenFor(key))
  ledger.resetCounters()
  const facilitator = createStandInFacilitator()
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
  return {
    ...bench,
    tokens,
    async fetch(request) {
      if (settings.delayMs > 0) await sleep(settings.delayMs)
      const { pathname } = new URL(request.url)
      if (pathname.startsWith('/facilitator/')) return facilitator.fetch(request, pathname.slice('/facilitator/'.length))
      return ledger.fetch(request)
    },
    counters() {
      const calls: Record<string, number> = { ...ledger.counters }
      for (const [name, n] of Object.entries(facilitator.counters)) calls[`facilitator ${name}`] = n
      return calls
    },
  }
}
