/**
 * The Redis section of `pnpm bench` (`--only redis`): on one `redis-server` the bench starts and
 * stops itself, (1) what the Redis store costs a warm request next to the memory store and bare,
 * with Redis round trips per request, and (2) the orders a burst takes across 4 processes on one
 * Redis, and on 1.
 */
import type { PeerOptions } from '../../lib/peers/harness'
import { measureBurst, type BurstResult } from './burst'
import { measureFleet, type FleetSeries } from './fleet'
import { startRedis } from '../../lib/redis/redis-server'
import { burstTable, fleetTable, redisSplit, redisTable } from './report'
import { measureRedisThroughput, type RedisGroup } from './throughput'

export interface RedisSectionOptions extends Pick<PeerOptions, 'rounds' | 'duration' | 'amount' | 'warmupSeconds' | 'connections' | 'holders' | 'batchMs'> {
  delays: number[]
  burst: { requests: number; credits: number }
}

export async function redisSection(options: RedisSectionOptions, log: (line: string) => void, problems: string[]): Promise<string[]> {
  const redis = await startRedis()
  let groups: RedisGroup[] = []
  const bursts: BurstResult[] = []
  let fleet: FleetSeries[] = []
  const fleetDelayMs = options.delays[options.delays.length - 1] ?? 0
  try {
    groups = await measureRedisThroughput(options, redis, log, problems).catch((error: unknown) => {
      problems.push(`redis: ${String(error)}`)
      return []
    })
    log(`redis: 1 and 4 processes on one Redis, the API ${fleetDelayMs} ms away`)
    fleet = await measureFleet({ ...options, delayMs: fleetDelayMs }, redis, log, problems).catch((error: unknown) => {
      problems.push(`redis fleet: ${String(error)}`)
      return []
    })
    log(`redis: a burst of ${options.burst.requests} requests for a holder with no credits, ${options.burst.credits} credits per order`)
    for (const processes of [4, 1]) {
      const burst = { ...options.burst, processes, batchMs: options.batchMs, prefix: `bench:burst:${processes}:` }
      await measureBurst(burst, redis, log, problems).then(
        (result) => bursts.push(result),
        (error: unknown) => problems.push(`redis burst, ${processes} process(es): ${String(error)}`),
      )
    }
  } finally {
    await redis.stop()
  }
  const more = bursts.filter((b) => b.orders > b.fewest)
  return [
    `## Redis store: plangate on several processes (Express, plangate batched, API key, constant route, ${options.holders} holders, ${options.rounds} rounds)`,
    '',
    redisTable(groups),
    '',
    'Redis round trips of the Redis store, by what was sent (the median round):',
    '',
    redisSplit(groups),
    '',
    `Throughput on 1 and 4 processes sharing one Redis (every holder's requests spread over all of them, the API ${fleetDelayMs} ms away; sums over the processes):`,
    '',
    fleetTable(fleet),
    '',
    `Orders for a burst: ${options.burst.requests} concurrent requests of one holder with no credits, round-robin over the processes, auto-order on:`,
    '',
    burstTable(bursts),
    '',
    ...(more.length > 0 ? [`More orders than the fewest: ${more.map((b) => `${b.processes} process(es) placed ${b.orders} where ${b.fewest} serve ${b.requests}`).join('; ')}.`, ''] : []),
  ]
}
