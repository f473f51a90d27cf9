/**
 * plangate on the Redis store against the memory store and bare: Express, plangate batched with
 * an API key (the peer table's row), the constant route, each server its own process against the
 * stand-in API `delayMs` away, in alternating order round by round (as the peer table). Besides
 * the peer figures, each run counts the commands the redis-server ran (`INFO commandstats`
 * deltas: round trips, see round-trips.ts) and what the guarded server's client sent, by script.
 */
import { checkRun, drainMs, measureOnce, peerConfig, quiet, warm, type PeerOptions, type PeerRow, type PeerRun, type Running } from '../../lib/peers/harness'
import { spawnChild, type Child } from '../../lib/processes'
import { headersFor } from '../../lib/peers/credentials'
import type { RedisStoreConfig } from '../../lib/peers/protocol'
import type { BenchRedis } from '../../lib/redis/redis-server'
import { classify, delta, type RedisCommands } from '../../lib/redis/round-trips'

export type StoreKind = 'none' | 'memory' | 'redis'

export interface RedisRun extends PeerRun {
  /** What the redis-server ran over the run (its settlement drained included). */
  redis: RedisCommands
  /** What the guarded server's client sent over the run, by script (total, not per request). */
  byScript: Record<string, number>
}

export interface RedisSeries {
  label: string
  store: StoreKind
  runs: RedisRun[]
}

export interface RedisGroup {
  delayMs: number
  holders: number
  series: RedisSeries[]
}

type Options = Pick<PeerOptions, 'rounds' | 'duration' | 'amount' | 'warmupSeconds' | 'connections' | 'holders' | 'batchMs'> & { delays: number[] }

const ROWS: { label: string; store: StoreKind; row: PeerRow }[] = [
  { label: 'bare', store: 'none', row: { label: 'bare', peer: 'bare', credential: 'key' } },
  { label: 'plangate, batched, API key, memory store', store: 'memory', row: { label: 'plangate, batched, API key', peer: 'plangate-batched', credential: 'key' } },
  { label: 'plangate, batched, API key, Redis store', store: 'redis', row: { label: 'plangate, batched, API key', peer: 'plangate-batched', credential: 'key' } },
]

export async function measureRedisThroughput(options: Options, redis: BenchRedis, log: (line: string) => void, problems: string[]): Promise<RedisGroup[]> {
  const groups: RedisGroup[] = []
  for (const delayMs of options.delays) {
    log(`redis: Express, API ${delayMs} ms away, bare / memory store / Redis store`)
    const upstream = await spawnChild('lib/peers/upstream.ts', { holders: options.holders, delayMs, tokens: false })
    try {
      groups.push(await measureGroup(delayMs, upstream, redis, options, log, problems))
    } finally {
      await upstream.close()
    }
  }
  return groups
}

async function measureGroup(delayMs: number, upstream: Child, redis: BenchRedis, options: Options, log: (line: string) => void, problems: string[]): Promise<RedisGroup> {
  const group = { framework: 'express' as const, delayMs, route: 'const' as const, cpuIterations: 0 }
  const servers: Child[] = []
  try {
    const running: (Running & { store: StoreKind; runs: RedisRun[]; label: string })[] = []
    for (const { label, store, row } of ROWS) {
      // A fresh prefix per group: no run reads balances another left.
      const redisConfig: RedisStoreConfig | undefined = store === 'redis' ? { url: redis.url, prefix: `bench:throughput:${delayMs}ms:`, timeoutMs: 10_000 } : undefined
      const server = await spawnChild('lib/peers/server.ts', { ...peerConfig(group, row.peer, upstream.ready, options), ...(redisConfig ? { redis: redisConfig } : {}) }, { nodeFlags: ['--expose-gc'] })
      servers.push(server)
      running.push({ series: { row, runs: [] }, server, headers: headersFor(row.credential, upstream.ready, []), store, runs: [], label })
    }
    for (const one of running) await warm(one, options)
    await quiet(upstream, drainMs('plangate-batched', delayMs, options.batchMs), delayMs)
    for (let round = 0; round < options.rounds; round++) {
      for (const one of round % 2 === 0 ? running : [...running].reverse()) {
        const statsBefore = await redis.commandStats()
        const callsBefore = (await one.server.command('redis-calls')).redisCalls!
        const peerRun = await measureOnce(one, upstream, delayMs, options)
        const callsAfter = (await one.server.command('redis-calls')).redisCalls!
        const sent = classify(delta(statsBefore, await redis.commandStats()))
        const run: RedisRun = { ...peerRun, redis: sent, byScript: delta(callsBefore, callsAfter) }
        one.runs.push(run)
        log(
          `  round ${round + 1} ${one.label.padEnd(42)} ${run.requestsPerSecond.toFixed(0).padStart(6)} req/s  p50 ${run.p50Ms.toFixed(2)} ms  ${run.callsPerRequest.toFixed(3)} calls/req  ${(sent.roundTrips / (run.requests || 1)).toFixed(3)} Redis round trips/req`,
        )
        problems.push(...checkRun(group, one.series.row, peerRun, options).map((p) => p.replace('peers:', `redis (${one.store} store):`)))
        if (one.store === 'redis') problems.push(...checkRedisRun(delayMs, run, options.connections))
      }
    }
    return { delayMs, holders: options.holders, series: running.map(({ label, store, runs }) => ({ label, store, runs })) }
  } finally {
    await Promise.all(servers.map((server) => server.close()))
  }
}

/**
 * What must hold whatever the timing: each request served reserved once and committed once (the
 * load generator stops with up to one request per connection in flight), and Redis counted them.
 */
export function checkRedisRun(delayMs: number, run: RedisRun, connections: number): string[] {
  const where = `redis: ${delayMs} ms, Redis store`
  const problems: string[] = []
  const n = run.requests
  for (const script of ['RESERVE', 'COMMIT_RECORDED']) {
    const sent = run.byScript[script] ?? 0
    if (sent < n || sent > n + connections) problems.push(`${where}: ${script} sent ${sent} times for ${n} requests, expected ${n} to ${n + connections}`)
  }
  const evalsha = run.redis.sent.evalsha ?? 0
  if (evalsha < 2 * n) problems.push(`${where}: the redis-server counted ${evalsha} EVALSHA for ${n} requests, fewer than the ${2 * n} they sent`)
  return problems
}
