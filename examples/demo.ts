/**
 * The scripted demo: a subscriber calls an Express agent guarded by plangate on the local ledger,
 * request by request, until the wallet is empty. Prints what happens as a table.
 */
import type { AddressInfo } from 'node:net'
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
  const rows: string[][] = [['#', 'HTTP', 'credits left', 'orders', 'wallet', 'what happened']]
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
    rows.push([String(n), String(response.status), response.headers.get('x-credits-remaining') ?? '-', String(orders), String(ledger.wallet(subscriber.address)), what])
    if (response.status === 402) break
  }
  printTable(rows)

  server.close()
  await gate.close()
  console.log(`\nRedeemed upstream: ${ledger.redeemed(planId)} credits. The agent earned ${ledger.wallet(agent.address)} from ${ledger.orders(planId)} orders.`)
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
