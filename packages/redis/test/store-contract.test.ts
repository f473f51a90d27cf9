/**
 * The store contract (`@plangate/core/testing`) against the Redis store on a real redis-server,
 * through node-redis and through ioredis: the same answers as MemoryBalanceStore, call for call.
 * Its leases are timed by Redis's own clock (TIME), which the contract cannot move: the lease
 * cases are left out here (test/redis/reservation-leases.test.ts times them for real).
 */
import { storeContract } from '@plangate/core/testing'
import { afterAll, beforeAll, describe, it } from 'vitest'
import { freshPrefix, ioredis, nodeRedis, type Connected } from './clients'
import { redisServer, type RedisServer } from './redis-server'

let server: RedisServer
const connected: Partial<Record<Connected['name'], Connected>> = {}

beforeAll(async () => {
  server = await redisServer()
  connected['node-redis'] = await nodeRedis(server.url)
  connected.ioredis = await ioredis(server.url)
})

afterAll(async () => {
  await Promise.all(Object.values(connected).map((c) => c.close()))
  await server?.stop()
})

for (const client of ['node-redis', 'ioredis'] as const) {
  storeContract(
    { describe, it },
    {
      name: `Redis via ${client}`,
      // A prefix of its own: every store starts empty on the one shared server.
      create: () => connected[client]!.store({ prefix: freshPrefix() }),
      exclusiveOrderLock: true,
    },
  )
}
