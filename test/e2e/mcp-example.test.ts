/**
 * The Express example's MCP server (`/mcp`, what `pnpm start` serves and prints): the curl it
 * prints, replayed as printed, is answered and charged; the official client sees the price in
 * `tools/list`. The local ledger over real HTTP.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { createPlanGate } from '@plangate/core'
import { createLocalLedger } from '@plangate/core/local'
import { createExpressAgent } from '../../examples/express-agent'
import { mcpInstructions } from '../../examples/mcp-agent'
import { listen, serveFetch } from '../helpers/serve'
import { connect } from '../mcp/transport-world'

const closers: Array<() => Promise<void>> = []
afterEach(async () => {
  while (closers.length) await closers.pop()!()
})

/** The printed curl command as a fetch: its URL, its -H headers and its -d body. */
function curlToFetch(line: string): () => Promise<Response> {
  const url = /-X POST (\S+)/.exec(line)![1]!
  const headers = Object.fromEntries([...line.matchAll(/-H '([^:']+): ([^']+)'/g)].map((m) => [m[1]!, m[2]!]))
  const body = /-d '(.+)'$/.exec(line)![1]!
  return () => fetch(url, { method: 'POST', headers, body })
}

describe('the Express example as a paid MCP server', () => {
  it('the printed curl calls the paid tool and burns one credit; without the key the answer is the in-band payment-required', async () => {
    const ledger = createLocalLedger()
    const upstream = await serveFetch(ledger.fetch)
    closers.push(upstream.close)
    const owner = ledger.createAccount({ funds: 0 })
    const subscriber = ledger.createAccount({ funds: 25 })
    const planId = ledger.createPlan({ credits: 3, price: 10, owner: owner.address })
    const gate = createPlanGate({ apiKey: owner.apiKey, environment: `${upstream.url}/api/v1` })
    closers.push(() => gate.close())
    const agent = await listen(createExpressAgent({ gate, planId }))
    closers.push(agent.close)

    const curl = mcpInstructions(agent.url, subscriber.apiKey).split('\n')[0]!
    const response = await curlToFetch(curl)()
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toMatch(/^application\/json/)
    const answer = (await response.json()) as { result: { content: Array<{ text: string }>; isError?: boolean } }
    expect(answer.result.isError).toBeUndefined()
    expect(answer.result.content[0]!.text).toMatch(/plangate charged one credit for this answer\. 2 credit\(s\) left\.$/)

    const unpaid = await connect(`${agent.url}/mcp`)
    expect((await unpaid.listTools()).tools.find((t) => t.name === 'ask')?._meta).toEqual({ 'plangate/price': { planId, credits: 1 } })
    expect((await unpaid.callTool({ name: 'ask', arguments: { question: 'free?' } })).structuredContent).toMatchObject({ x402Version: 2, error: 'CREDENTIAL_MISSING' })
    await unpaid.close()

    await gate.close()
    expect(ledger.orders(planId)).toBe(1)
    expect(ledger.redeemed(planId)).toBe(1)
  })
})
