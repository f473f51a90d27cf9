/**
 * The scripted demo: a subscriber calls an Express agent guarded by plangate on the local ledger,
 * request by request, until the wallet is empty. Prints what happens as a table.
 */
import type { AddressInfo } from 'node:net'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { createPlanGate } from '@plangate/core'
import { createLocalLedger } from '@plangate/core/local'
import { createExpressAgent } from './express-agent'

const PRICE = 10
const CREDITS = 3

async function main() {
  const ledger = createLocalLedger()
  const agent = ledger.createAccount({ funds: 0 })
  const subscriber = ledger.createAccount({ funds: 25 })
  const planId = ledger.createPlan({ credits: CREDITS, price: PRICE, owner: agent.address })
  const gate = createPlanGate({ apiKey: agent.apiKey, environment: ledger.baseUrl, fetch: ledger.fetch })

  const server = createExpressAgent({ gate, planId }).listen(0, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))
  const { port } = server.address() as AddressInfo

  console.log(`plangate demo — plan ${planId}: ${CREDITS} credits for ${PRICE}; the subscriber's wallet holds 25; each /ask costs 1 credit.\n`)
  const rows: string[][] = [['#', 'HTTP', 'credits left', 'burned', 'orders', 'wallet', 'what happened']]
  let orders = 0
  for (let n = 1; n <= 8; n++) {
    const response = await fetch(`http://127.0.0.1:${port}/ask`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${subscriber.apiKey}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ question: `question ${n}` }),
    })
    const body = (await response.json()) as { code?: string }
    const ordered = ledger.orders(planId) > orders
    orders = ledger.orders(planId)
    const what =
      response.status === 200
        ? ordered
          ? `no credits left: plan ordered automatically (-${PRICE} from the wallet)`
          : 'served from the cached balance'
        : `${body.code}: wallet cannot pay for another order`
    // Credits burn through x402 settle right after each answer: wait for it to land.
    const served = response.status === 200 ? n : n - 1
    for (let i = 0; i < 100 && ledger.redeemed(planId) < served; i++) await new Promise((resolve) => setTimeout(resolve, 5))
    rows.push([String(n), String(response.status), response.headers.get('x-credits-remaining') ?? '-', String(ledger.redeemed(planId)), String(orders), String(ledger.wallet(subscriber.address)), what])
    if (response.status === 402) break
  }
  printTable(rows)

  await gate.close()
  const calls = ledger.counters
  console.log(
    `\nBurned upstream through x402 settle: ${ledger.redeemed(planId)} credits in ${calls.settle} settle calls, with the x402 token the gate obtained for the subscriber (${calls.delegation} delegation, ${calls.permission} token). The redeem call was never used (${calls.redeem} calls). The agent earned ${ledger.wallet(agent.address)} from ${ledger.orders(planId)} orders.`,
  )

  await x402Buyer(ledger, planId, port)
  await mcpClient(ledger, planId, port, gate)
  server.close()
  await gate.close()
}

/** A client the way Nevermined's SDK buyer works: a delegation, an x402 token, then payment-signature. */
async function x402Buyer(ledger: ReturnType<typeof createLocalLedger>, planId: string, port: number) {
  const buyer = ledger.createAccount({ funds: 25 })
  const call = async (path: string, body: unknown) => {
    const res = await ledger.fetch(`${ledger.baseUrl}${path}`, { method: 'POST', headers: { Authorization: `Bearer ${buyer.apiKey}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) })
    return (await res.json()) as Record<string, string>
  }
  const { delegationId } = await call('/delegation/create', { provider: 'erc4337', spendingLimitCents: 2_000, durationSecs: 3_600, currency: 'usdc', planId })
  const { accessToken } = await call('/x402/permissions', { accepted: { scheme: 'nvm:erc4337', network: 'eip155:84532', planId, extra: {} }, delegationConfig: { delegationId } })
  console.log(`\nAn x402 client (no API key: a delegation of 20.00 and an x402 token, sent as payment-signature):`)
  for (let n = 1; n <= 4; n++) {
    const response = await fetch(`http://127.0.0.1:${port}/ask`, {
      method: 'POST',
      headers: { 'payment-signature': accessToken!, 'Content-Type': 'application/json' },
      body: JSON.stringify({ question: `x402 question ${n}` }),
    })
    const receipt = response.headers.get('payment-response')
    const settled = receipt ? (JSON.parse(atob(receipt)) as { creditsRedeemed: number; remainingBalance?: number; orderTx?: string }) : undefined
    console.log(
      `  #${n} HTTP ${response.status}` +
        (settled ? `, payment-response: ${settled.creditsRedeemed} credit burned, ${settled.remainingBalance} left${settled.orderTx ? ', topped up by settle (an order within the delegation)' : ''}` : ''),
    )
  }
}

/** The same agent as an MCP server (`/mcp`): the official SDK client lists the tools, then calls the paid one unpaid and paid. */
async function mcpClient(ledger: ReturnType<typeof createLocalLedger>, planId: string, port: number, gate: ReturnType<typeof createPlanGate>) {
  const caller = ledger.createAccount({ funds: 25 })
  const connect = async (headers: Record<string, string>) => {
    const client = new Client({ name: 'demo', version: '1.0.0' })
    await client.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp`), { requestInit: { headers } }))
    return client
  }
  console.log(`\nThe same agent as an MCP server on /mcp, called with the MCP SDK's client:`)
  const anonymous = await connect({})
  const { tools } = await anonymous.listTools()
  console.log(`  tools/list (free): ${tools.map((t) => `${t.name} ${JSON.stringify(t._meta?.['plangate/price'] ?? 'free')}`).join(', ')}`)
  const refused = await anonymous.callTool({ name: 'ask', arguments: { question: 'free lunch?' } })
  console.log(`  tools/call ask without a key: isError, in band: ${(refused.structuredContent as { error?: string }).error}, x402Version ${(refused.structuredContent as { x402Version?: number }).x402Version}`)
  await anonymous.close()
  const before = ledger.redeemed(planId)
  const paid = await connect({ Authorization: `Bearer ${caller.apiKey}` })
  const result = await paid.callTool({ name: 'ask', arguments: { question: 'what does an MCP tool call cost?' } })
  await paid.close()
  await gate.close() // burns what is batched: the paid call's credit lands now
  const text = (result.content as Array<{ text?: string }>)[0]?.text ?? ''
  const burned = ledger.redeemed(planId) - before
  console.log(`  tools/call ask with an API key: "${text}" (plan ordered automatically; ${burned} credit burned)`)
  if (result.isError || burned !== 1) throw new Error(`the paid MCP call was not charged once: isError ${result.isError}, ${burned} burned`)
}

function printTable(rows: string[][]) {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)))
  const line = (row: string[]) => row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()
  console.log(line(rows[0]!))
  console.log(widths.map((w) => '-'.repeat(w)).join('  '))
  for (const row of rows.slice(1)) console.log(line(row))
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
