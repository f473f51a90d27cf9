/**
 * plangate's own work per settle, with no transport: a gate with immediate settlement whose
 * `fetch` answers settle at once in this process (the local ledger answers the warm-up's balance
 * read and token), 100,000 warm requests (reserve + commit, awaited until settled), 4 in flight,
 * under V8's CPU profiler. Prints the CPU µs per request and the top-down table (self time as µs
 * per request).
 *
 *   node --import tsx --conditions=plangate-source bench/sections/calls/own-profile.ts
 */
import { Session } from 'node:inspector/promises'
import { createPlanGate, type FetchLike } from '@plangate/core'
import { createBenchLedger } from '../../lib/setup'
import { summarise } from './cpu-profile'

const N = 100_000
const { ledger, agentKey, planId, keys } = await createBenchLedger({ subscribers: 8 })
let remaining = 1e12
const answeredHere: FetchLike = (url, init) =>
  url.endsWith('/x402/settle')
    ? Promise.resolve({
        ok: true,
        status: 200,
        headers: { get: () => null },
        body: null,
        json: () => Promise.resolve({ success: true, payer: '0x1', transaction: '0x01', network: 'eip155:84532', creditsRedeemed: '1', remainingBalance: String(--remaining) }),
      })
    : ledger.fetch(url, init)
const gate = createPlanGate({ apiKey: agentKey, environment: ledger.baseUrl, fetch: answeredHere, agentId: 'bench-agent', cache: { ttlMs: 3_600_000 }, settle: { batchMs: 0 } })
const resource = { url: '/ask', method: 'GET' }
for (const key of keys) await (await gate.reserve(planId, key, 1, resource)).commit()
const run = async (n: number) => {
  let next = 0
  const worker = async () => {
    while (next < n) await (await gate.reserve(planId, keys[next++ % keys.length]!, 1, resource)).commit()
  }
  await Promise.all(Array.from({ length: 4 }, worker))
}
await run(N / 5)
const session = new Session()
session.connect()
await session.post('Profiler.enable')
await session.post('Profiler.setSamplingInterval', { interval: 50 })
await session.post('Profiler.start')
const before = process.cpuUsage()
await run(N)
const spent = process.cpuUsage(before)
const { profile } = await session.post('Profiler.stop')
await gate.close()
const perRequest = (spent.user + spent.system) / N
const summary = summarise(JSON.stringify(profile))
const us = (micros: number) => ((micros / summary.busyMicros) * perRequest).toFixed(1)
console.log(`${perRequest.toFixed(1)} µs of CPU per warm request settled at once (reserve + commit + settle, no transport)\n`)
console.log('| module (self time) | µs per request |\n| --- | --- |')
for (const [name, micros] of summary.modules.slice(0, 15)) console.log(`| ${name} | ${us(micros)} |`)
console.log('\n| function (self time) | µs per request |\n| --- | --- |')
for (const [name, micros] of summary.functions.slice(0, 15)) console.log(`| ${name} | ${us(micros)} |`)
