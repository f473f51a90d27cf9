/**
 * The failure table (fault-table.ts, printed in docs/RELIABILITY.md), row by row, on Express and
 * on Hono, over real HTTP: the agent on loopback, the local ledger on loopback, a gate with no
 * custom fetch. Each row checks what the client gets and how fast, what was ordered and
 * redeemed, that the next healthy request is served, and that no key leaked anywhere. Then the
 * whole table again with createNodeFetch (@plangate/node) as the gate's transport.
 */
import { readFileSync } from 'node:fs'
import { createNodeFetch } from '@plangate/node'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { docLine, FAULT_ROWS } from './fault-table'
import { ADAPTERS, captureConsole } from './harness'
import { runRow } from './run-row'

let consoleCapture: ReturnType<typeof captureConsole>
beforeEach(() => void (consoleCapture = captureConsole()))
afterEach(() => consoleCapture.restore())

describe.each(ADAPTERS)('%s: every upstream fault, over real HTTP', (adapter) => {
  it.each(FAULT_ROWS.map((row) => [`${row.at}: ${row.name}`, row] as const))('%s', async (_name, row) => {
    await runRow(adapter, row, { consoleLines: consoleCapture.lines })
  })
})

// The same table through @plangate/node's transport instead of fetch: every fault is a real socket
// event there too (a refused connection, a reset, a hang), and must end the same way.
describe.each(ADAPTERS)('%s: every upstream fault, over real HTTP, through createNodeFetch', (adapter) => {
  it.each(FAULT_ROWS.map((row) => [`${row.at}: ${row.name}`, row] as const))('%s', async (_name, row) => {
    await runRow(adapter, row, { consoleLines: consoleCapture.lines, gate: { fetch: createNodeFetch() } })
  })
})

it('docs/RELIABILITY.md prints every row of this table', () => {
  const doc = readFileSync(new URL('../../docs/RELIABILITY.md', import.meta.url), 'utf8')
  for (const row of FAULT_ROWS) expect(doc).toContain(docLine(row))
})
