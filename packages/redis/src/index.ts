/**
 * `@plangate/redis`: a shared `BalanceStore` on Redis (docs/guides/several-instances.md; docs/reference/stores.md),
 * so that every plangate process
 * spends from one truth. Takes any Redis client through one function, `sendCommand`.
 *
 * @example
 * import { createClient } from 'redis'
 * import { createPlanGate } from '@plangate/core'
 * import { createRedisStore } from '@plangate/redis'
 *
 * const client = createClient({ url: process.env.REDIS_URL })
 * client.on('error', (error) => console.error('redis:', error.message))
 * await client.connect()
 * const gate = createPlanGate({ store: createRedisStore({ sendCommand: (...args) => client.sendCommand(args) }) })
 */
export { createRedisStore, type RedisBalanceStore } from './redis-store'
export { firstKey } from './cluster'
export type { SendCommand } from './commands'
export type { RedisStoreOptions } from './options'
