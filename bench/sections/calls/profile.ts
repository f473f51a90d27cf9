/**
 * Where a guarded server's CPU goes under load, beside a bare server's: each peer server
 * (lib/peers/server.ts) is loaded in turn by autocannon (in this process), the stand-in API
 * (lib/peers/upstream.ts, its own process) answering at once, with V8's CPU profiler (the one
 * `node --cpu-prof` runs) on during the measured load only. Prints the top-down tables
 * (sections/calls/cpu-profile.ts): each module's and function's self time as µs per request (its share of
 * the profile × the server's CPU per request, process.cpuUsage over the same load), bare beside
 * guarded, and the difference per upstream call.
 *
 *   node --import tsx --conditions=plangate-source bench/sections/calls/profile.ts \
 *     [--framework express] [--peers bare,plangate-immediate] [--route cpu] [--credential key] [--holders 100] [--duration 10]
 */
import { writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { load } from '../../lib/load'
import { drainMs, peerConfig, quiet, warm, type Running } from '../../lib/peers/harness'
import { BENCH_DIR, spawnChild } from '../../lib/processes'
import type { Framework } from '../../lib/protocol'
import { headersFor, type Credential } from '../../lib/peers/credentials'
import type { PeerKind, PeerRoute } from '../../lib/peers/protocol'
import { calibrate } from '../../lib/peers/routes'
import { summarise, type ProfileSummary } from './cpu-profile'

const { values } = parseArgs({
  options: {
    framework: { type: 'string', default: 'express' },
    peers: { type: 'string', default: 'bare,plangate-immediate' },
    route: { type: 'string', default: 'cpu' },
    credential: { type: 'string', default: 'key' },
    holders: { type: 'string', default: '100' },
    duration: { type: 'string', default: '10' },
    'batch-ms': { type: 'string', default: '1000' },
    top: { type: 'string', default: '20' },
  },
})
const holders = Number(values.holders)
const batchMs = Number(values['batch-ms'])
const credential = values.credential as Credential
const upstream = await spawnChild('lib/peers/upstream.ts', { holders, delayMs: 0, tokens: credential === 'token' })
const group = { framework: values.framework as Framework, route: values.route as PeerRoute, cpuIterations: calibrate(1) }

interface Measured {
  peer: PeerKind
  requestsPerSecond: number
  callsPerRequest: number
  cpuPerRequest: number
  userPerRequest: number
  summary: ProfileSummary
}
const measured: Measured[] = []
for (const peer of values.peers.split(',') as PeerKind[]) {
  const server = await spawnChild('lib/peers/server.ts', peerConfig(group, peer, upstream.ready, { batchMs, holders }))
  try {
    const one: Running = { series: { row: { label: peer, peer, credential }, runs: [] }, server, headers: headersFor(credential, upstream.ready, []) }
    await warm(one, { warmupSeconds: 3, connections: 32 })
    await quiet(upstream, drainMs(peer, 0, batchMs), 0)
    const countersBefore = (await upstream.command('counters')).counters!
    await server.command('profile-start')
    const cpuBefore = (await server.command('cpu')).cpu!
    const result = await load({ port: server.ready.port, keys: [], headers: one.headers, connections: 32, duration: Number(values.duration) })
    // Settles a batched server sets off after the load are its too: wait for them under the profiler.
    const countersAfter = await quiet(upstream, drainMs(peer, 0, batchMs), 0)
    const cpuAfter = (await server.command('cpu')).cpu!
    const profile = (await server.command('profile-stop')).profile!
    writeFileSync(`${BENCH_DIR}results/${values.framework}-${peer}-${values.route}.cpuprofile`, profile)
    const calls = Object.keys(countersAfter).reduce((sum, name) => sum + countersAfter[name]! - (countersBefore[name] ?? 0), 0)
    measured.push({
      peer,
      requestsPerSecond: result.requestsPerSecond,
      callsPerRequest: calls / result.requests,
      cpuPerRequest: (cpuAfter.user - cpuBefore.user + cpuAfter.system - cpuBefore.system) / result.requests,
      userPerRequest: (cpuAfter.user - cpuBefore.user) / result.requests,
      summary: summarise(profile),
    })
  } finally {
    await server.close()
  }
}
await upstream.close()

const top = Number(values.top)
const perRequest = (m: Measured, micros: number | undefined) => ((micros ?? 0) / m.summary.busyMicros) * m.cpuPerRequest
const base = measured[0]!
for (const m of measured) {
  console.log(`- ${m.peer}: ${m.requestsPerSecond.toFixed(0)} req/s, ${m.callsPerRequest.toFixed(3)} upstream calls/req, server CPU ${m.cpuPerRequest.toFixed(0)} µs/req (user ${m.userPerRequest.toFixed(0)} + system ${(m.cpuPerRequest - m.userPerRequest).toFixed(0)})`)
}
const table = (title: string, pick: (s: ProfileSummary) => [string, number][]) => {
  const names = new Map<string, number>()
  for (const m of measured) for (const [name] of pick(m.summary)) names.set(name, 0)
  const rows = [...names.keys()].map((name) => {
    const values = measured.map((m) => perRequest(m, new Map(pick(m.summary)).get(name)))
    return { name, values, added: values[values.length - 1]! - values[0]! }
  })
  rows.sort((a, b) => Math.abs(b.added) - Math.abs(a.added))
  const last = measured[measured.length - 1]!
  const header = [title, ...measured.map((m) => `${m.peer} µs/req`), `added µs/req`, ...(last.callsPerRequest > 0 ? ['added µs per upstream call'] : [])]
  console.log(`\n| ${header.join(' | ')} |\n| ${header.map(() => '---').join(' | ')} |`)
  for (const row of rows.slice(0, top)) {
    const cells = [row.name, ...row.values.map((v) => v.toFixed(0)), (row.added >= 0 ? '+' : '') + row.added.toFixed(0)]
    if (last.callsPerRequest > 0) cells.push((row.added / (last.callsPerRequest - base.callsPerRequest)).toFixed(0))
    console.log(`| ${cells.join(' | ')} |`)
  }
}
table('module (self time)', (s) => s.modules)
table('function (self time)', (s) => s.functions)
table('function (inclusive)', (s) => s.inclusive)
