/**
 * Throughput across processes on one Redis: 1 and 4 plangate Express servers (batched, API key,
 * constant route) on one Redis store, every holder's requests spread over all of them (each
 * server loaded by its own share of the connections, at once), against bare on 1 process, in
 * alternating order round by round. The figures are the sums over the servers. On a machine with
 * fewer cores than processes (plus the load generator and the stand-in API) this measures how
 * well the processes share those cores, not how far a fleet scales.
 */
import { load } from '../../lib/load'
import { drainMs, peerConfig, quiet, warm, type PeerOptions, type PeerRow } from '../../lib/peers/harness'
import { spawnChild, type Child } from '../../lib/processes'
import { headersFor } from '../../lib/peers/credentials'
import type { BenchRedis } from '../../lib/redis/redis-server'
import { classify, delta } from '../../lib/redis/round-trips'

export interface FleetRun {
  requestsPerSecond: number
  requests: number
  cpuMicrosPerRequest: number
  callsPerRequest: number
  redisRoundTripsPerRequest: number
}

export interface FleetSeries {
  label: string
  processes: number
  runs: FleetRun[]
}

type Options = Pick<PeerOptions, 'rounds' | 'duration' | 'warmupSeconds' | 'connections' | 'holders' | 'batchMs'> & { delayMs: number }

const BARE: PeerRow = { label: 'bare', peer: 'bare', credential: 'key' }
const GUARDED: PeerRow = { label: 'plangate, batched, API key', peer: 'plangate-batched', credential: 'key' }

export async function measureFleet(options: Options, redis: BenchRedis, log: (line: string) => void, problems: string[]): Promise<FleetSeries[]> {
  const upstream = await spawnChild('lib/peers/upstream.ts', { holders: options.holders, delayMs: options.delayMs, tokens: false })
  const servers: Child[] = []
  try {
    const group = { framework: 'express' as const, delayMs: options.delayMs, route: 'const' as const, cpuIterations: 0 }
    const headers = headersFor('key', upstream.ready, [])
    const fleet = async (row: PeerRow, processes: number, prefix: string | undefined) => {
      const config = { ...peerConfig(group, row.peer, upstream.ready, options), ...(prefix ? { redis: { url: redis.url, prefix, timeoutMs: 10_000 } } : {}) }
      const started: Child[] = []
      for (let i = 0; i < processes; i++) started.push(await spawnChild('lib/peers/server.ts', config))
      servers.push(...started)
      for (const server of started) await warm({ series: { row, runs: [] }, server, headers }, options)
      return started
    }
    const series = [
      { label: 'bare, 1 process', processes: 1, fleet: await fleet(BARE, 1, undefined), runs: [] as FleetRun[] },
      { label: 'plangate on Redis, 1 process', processes: 1, fleet: await fleet(GUARDED, 1, 'bench:fleet:1:'), runs: [] as FleetRun[] },
      { label: 'plangate on Redis, 4 processes', processes: 4, fleet: await fleet(GUARDED, 4, 'bench:fleet:4:'), runs: [] as FleetRun[] },
    ]
    await quiet(upstream, drainMs('plangate-batched', options.delayMs, options.batchMs), options.delayMs)
    for (let round = 0; round < options.rounds; round++) {
      for (const one of round % 2 === 0 ? series : [...series].reverse()) {
        const before = (await upstream.command('counters')).counters!
        const stats = await redis.commandStats()
        const cpu = await Promise.all(one.fleet.map((s) => s.command('cpu')))
        const connections = Math.max(1, Math.floor(options.connections / one.fleet.length))
        const results = await Promise.all(one.fleet.map((s) => load({ port: s.ready.port, keys: [], headers, connections, duration: options.duration })))
        const cpuAfter = await Promise.all(one.fleet.map((s) => s.command('cpu')))
        const after = await quiet(upstream, drainMs(one.processes === 1 && one.label.startsWith('bare') ? 'bare' : 'plangate-batched', options.delayMs, options.batchMs), options.delayMs)
        const sent = classify(delta(stats, await redis.commandStats()))
        const requests = results.reduce((n, r) => n + r.requests, 0)
        const failures = results.reduce((n, r) => n + r.failures, 0)
        if (failures > 0) problems.push(`redis fleet: ${one.label}: ${failures} request(s) failed or answered non-2xx`)
        const usedMicros = cpuAfter.reduce((n, c, i) => n + c.cpu!.user - cpu[i]!.cpu!.user + c.cpu!.system - cpu[i]!.cpu!.system, 0)
        const calls = Object.keys(after).reduce((n, name) => n + after[name]! - (before[name] ?? 0), 0)
        const run: FleetRun = {
          requestsPerSecond: results.reduce((n, r) => n + r.requestsPerSecond, 0),
          requests,
          cpuMicrosPerRequest: requests ? usedMicros / requests : 0,
          callsPerRequest: requests ? calls / requests : 0,
          redisRoundTripsPerRequest: requests ? sent.roundTrips / requests : 0,
        }
        if (!one.label.startsWith('bare') && (run.redisRoundTripsPerRequest < 2 || (after.order ?? 0) > (before.order ?? 0))) {
          problems.push(`redis fleet: ${one.label}: ${run.redisRoundTripsPerRequest.toFixed(2)} Redis round trips per request (at least 2 expected) or an order while warm`)
        }
        one.runs.push(run)
        log(`  round ${round + 1} ${one.label.padEnd(32)} ${run.requestsPerSecond.toFixed(0).padStart(6)} req/s  ${run.cpuMicrosPerRequest.toFixed(0)} µs CPU/req  ${run.redisRoundTripsPerRequest.toFixed(3)} Redis round trips/req`)
      }
    }
    return series.map(({ label, processes, runs }) => ({ label, processes, runs }))
  } finally {
    await Promise.all(servers.map((server) => server.close()))
    await upstream.close()
  }
}
