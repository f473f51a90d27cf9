/**
 * Orders for a burst: one holder with no credits (and money for many orders), `requests`
 * concurrent requests spread round-robin over `processes` plangate Express servers on the one
 * Redis (a fresh prefix), auto-order on. The fewest orders that serve them all is
 * ⌈requests ÷ credits per order⌉; the stand-in counts the orders placed. Every server is closed
 * gracefully before the ledger is read, so every credit served has been redeemed by then.
 */
import { spawnChild, type Child } from '../../lib/processes'
import { AGENT_ID } from '../../lib/peers/stand-in'
import type { PeerConfig } from '../../lib/peers/protocol'
import type { BenchRedis } from '../../lib/redis/redis-server'
import { classify, delta } from '../../lib/redis/round-trips'

export interface BurstOptions {
  processes: number
  requests: number
  credits: number
  batchMs: number
  prefix: string
}

export interface BurstResult extends Omit<BurstOptions, 'prefix' | 'batchMs'> {
  fewest: number
  orders: number
  /** Answers by status. */
  statuses: Record<number, number>
  served: number
  redeemed: number
  /** Commands the servers sent Redis over the burst and the closing settlement, per request. */
  roundTripsPerRequest: number
  seconds: number
}

/** Far more than any burst needs: the burst ends on credits, never on the spend guard. */
const MAX_ORDERS = 1_000

export async function measureBurst(options: BurstOptions, redis: BenchRedis, log: (line: string) => void, problems: string[]): Promise<BurstResult> {
  const where = `redis burst, ${options.processes} process(es)`
  const ledger = await spawnChild('sections/redis/burst-ledger.ts', { credits: options.credits, funds: MAX_ORDERS })
  const servers: Child[] = []
  try {
    const { ready } = ledger
    const config: PeerConfig = {
      framework: 'express',
      peer: 'plangate-batched',
      route: 'const',
      cpuIterations: 0,
      batchMs: options.batchMs,
      holders: 1,
      origin: ready.origin!,
      baseUrl: ready.baseUrl!,
      facilitatorUrl: `${ready.origin!}/facilitator`,
      agentKey: ready.agentKey!,
      agentId: AGENT_ID,
      planId: ready.planId!,
      // Generous budgets: the figure is the orders, and 2 cores serve the whole burst at once.
      redis: { url: redis.url, prefix: options.prefix, timeoutMs: 20_000 },
      maxOrders: MAX_ORDERS,
      gateTimeoutMs: 30_000,
    }
    for (let i = 0; i < options.processes; i++) servers.push(await spawnChild('lib/peers/server.ts', config))
    const key = ready.keys[0]!
    const statsBefore = await redis.commandStats()
    const startedAt = performance.now()
    const statuses = await Promise.all(
      Array.from({ length: options.requests }, async (_, i) => {
        const response = await fetch(`http://127.0.0.1:${servers[i % servers.length]!.ready.port}/ask`, {
          headers: { authorization: `Bearer ${key}` },
          signal: AbortSignal.timeout(90_000),
        })
        await response.arrayBuffer()
        return response.status
      }),
    )
    const seconds = (performance.now() - startedAt) / 1000
    // Graceful: each gate settles what it served before the ledger is read.
    await Promise.all(servers.splice(0).map((server) => server.close()))
    const sent = classify(delta(statsBefore, await redis.commandStats()))
    const counters = (await ledger.command('counters')).counters!
    const byStatus: Record<number, number> = {}
    for (const status of statuses) byStatus[status] = (byStatus[status] ?? 0) + 1
    const served = statuses.filter((status) => status >= 200 && status < 300).length
    const result: BurstResult = {
      processes: options.processes,
      requests: options.requests,
      credits: options.credits,
      fewest: Math.ceil(options.requests / options.credits),
      orders: counters.planOrders!,
      statuses: byStatus,
      served,
      redeemed: counters.planRedeemed!,
      roundTripsPerRequest: sent.roundTrips / options.requests,
      seconds,
    }
    log(`  ${where}: ${result.orders} orders (fewest ${result.fewest}), ${served} of ${options.requests} 2xx, ${result.redeemed} redeemed, ${seconds.toFixed(2)} s`)
    if (served !== options.requests) problems.push(`${where}: ${options.requests - served} of ${options.requests} requests were not answered 2xx (${JSON.stringify(byStatus)})`)
    if (result.redeemed !== served) problems.push(`${where}: ${result.redeemed} credits redeemed for ${served} served`)
    // Fewer than the fewest cannot serve them all: the count is broken.
    if (served === options.requests && result.orders < result.fewest) problems.push(`${where}: ${result.orders} orders counted, fewer than the ${result.fewest} that serving ${served} needs`)
    return result
  } finally {
    await Promise.all(servers.map((server) => server.close()))
    await ledger.close()
  }
}
