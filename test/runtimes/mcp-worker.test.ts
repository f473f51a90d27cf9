/**
 * `@plangate/mcp/web` on the real workerd (no nodejs_compat): a Hono Worker serving a paid
 * `McpServer` per request (test/runtimes/mcp-worker), the official MCP client over real HTTP, and
 * a local ledger this test serves over loopback. The Worker's settlement is batched, so a call's
 * credits are burned after its response: they land only if `ctx.waitUntil` carried that work.
 */
import { createLocalLedger } from '@plangate/core/local'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connect } from '../mcp/transport-world'
import { serveFetch } from '../helpers/serve'
import { bundleMcpWorker, MCP_WORKER_DIR } from './mcp-worker/bundle'
import { binary, freePort, HOOK_TIMEOUT_MS, localLedgerEnv, start, stopAll, type Running } from './process'

const ledger = createLocalLedger()
const agent = ledger.createAccount()
const alice = ledger.createAccount({ funds: 100 })
const planId = ledger.createPlan({ credits: 20, price: 10, owner: agent.address })
let upstream: { url: string; close(): Promise<void> }
let worker: Running

beforeAll(async () => {
  upstream = await serveFetch(ledger.fetch)
  await bundleMcpWorker()
  const port = await freePort()
  const env = localLedgerEnv({ NVM_API_KEY: agent.apiKey, NVM_ENVIRONMENT: `${upstream.url}/api/v1`, NVM_PLAN_ID: planId, SETTLE_BATCH_MS: '300' })
  worker = await start(binary('workerd/bin/workerd'), ['serve', `${MCP_WORKER_DIR}config.capnp`, '--socket-addr', `http=127.0.0.1:${port}`], { port, env })
}, HOOK_TIMEOUT_MS)

afterAll(async () => {
  await stopAll()
  await upstream?.close()
}, HOOK_TIMEOUT_MS)

/** Waits (at most 10 s) until the ledger has seen `settles` settle calls. */
async function settles(settles: number): Promise<void> {
  for (let i = 0; i < 200 && ledger.counters.settle < settles; i++) await new Promise((resolve) => setTimeout(resolve, 50))
}

describe('@plangate/mcp/web on workerd', () => {
  it(
    'an unpaid call is refused in band; a paid tool call is charged once, after its response, through waitUntil',
    async () => {
      const unpaid = await connect(`${worker.url}/mcp`)
      expect((await unpaid.listTools()).tools[0]?._meta).toEqual({ 'plangate/price': { planId, credits: 2 } })
      expect((await unpaid.callTool({ name: 'forecast', arguments: { city: 'Lisbon' } })).structuredContent).toMatchObject({ x402Version: 2, error: 'CREDENTIAL_MISSING' })
      await unpaid.close()
      expect(ledger.counters.settle).toBe(0)

      const ordered = await ledger.fetch(`${ledger.baseUrl}/protocol/plans/${planId}/order`, { method: 'POST', headers: { Authorization: `Bearer ${alice.apiKey}` } })
      expect(ordered.status).toBe(200)
      const client = await connect(`${worker.url}/mcp`, { headers: { Authorization: `Bearer ${alice.apiKey}` } })
      const result = await client.callTool({ name: 'forecast', arguments: { city: 'Lisbon' } })
      expect(result.content, worker.output()).toEqual([{ type: 'text', text: 'sunny in Lisbon' }])
      await client.close()

      await settles(1)
      expect(ledger.counters.settle, worker.output()).toBe(1)
      expect(ledger.redeemed(planId)).toBe(2)
      expect(ledger.balance(planId, alice.address).remaining).toBe(18)

      // A second call, on another fresh server in the same isolate: its own burn, and no second one of the first.
      const again = await connect(`${worker.url}/mcp`, { headers: { Authorization: `Bearer ${alice.apiKey}` } })
      expect((await again.callTool({ name: 'forecast', arguments: { city: 'Porto' } })).content).toEqual([{ type: 'text', text: 'sunny in Porto' }])
      await again.close()
      await settles(2)
      expect(ledger.counters.settle).toBe(2)
      expect(ledger.redeemed(planId)).toBe(4)
      expect(ledger.balance(planId, alice.address).remaining).toBe(16)
    },
    HOOK_TIMEOUT_MS,
  )
})
