/**
 * On a shared store, a 2xx answer reaches its client only once its commit is in the store (the
 * outbox): a process killed the moment it answered has then served nothing another process
 * cannot settle (crash-adoption.test.ts). Every adapter, a real redis-server whose every command
 * is slowed down, so an answer sent before its commit would be seen with nothing recorded.
 */
import { createRedisStore } from '@plangate/redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { nodeRedis, type Connected } from '../../packages/redis/test/clients'
import { redisServer, type RedisServer } from '../../packages/redis/test/redis-server'
import type { Driver } from '../adapters/driver'
import { express4Driver, express5Driver } from '../adapters/express'
import { fastifyRouteDriver, fastifyScopeDriver } from '../adapters/fastify'
import { honoDriver } from '../adapters/hono'
import { auth, get } from '../adapters/http'
import { koa2Driver, koa3Driver } from '../adapters/koa'
import { subscribe, world } from '../helpers/world'

const DRIVERS: Driver[] = [express5Driver, express4Driver, honoDriver, koa3Driver, koa2Driver, fastifyRouteDriver, fastifyScopeDriver]
const SLOW_MS = 60

let redis: RedisServer
let client: Connected

beforeAll(async () => {
  redis = await redisServer()
  client = await nodeRedis(redis.url)
}, 60_000)
afterAll(async () => {
  await client?.close()
  await redis?.stop()
}, 60_000)

/** Credits recorded or in flight in every outbox under `prefix`. */
async function recorded(prefix: string): Promise<number> {
  let total = 0
  for (const key of (await client.sendCommand('KEYS', `${prefix}*:outbox`)) as string[]) {
    const fields = (await client.sendCommand('HGETALL', key)) as string[]
    for (let i = 0; i < fields.length; i += 2) if (/^[qf]:/.test(fields[i]!)) total += Number(fields[i + 1])
  }
  return total
}

describe.each(DRIVERS.map((d) => [d.name, d] as const))('%s on the Redis store', (name, d) => {
  it('a 2xx answer goes out once its commit is recorded in the store, not before', async () => {
    const prefix = `record:${name}:`
    const slow = (...args: string[]) => new Promise((resolve) => setTimeout(resolve, SLOW_MS)).then(() => client.sendCommand(...args))
    const store = createRedisStore({ sendCommand: slow, prefix })
    const { ledger, alice, planId, gate } = world({ credits: 5 }, 25, { store, settle: { batchMs: 60_000 } })
    await subscribe(ledger, planId, alice)
    const app = await d.start(planId, { gate })
    try {
      const answer = await get(app.url, '/ok', auth(alice.apiKey))
      expect(answer.status).toBe(200)
      expect(await recorded(prefix)).toBe(1)
      // A refused answer waits for nothing and records nothing.
      expect((await get(app.url, '/bad', auth(alice.apiKey))).status).toBe(400)
      expect(await recorded(prefix)).toBe(1)
    } finally {
      await app.close()
      await gate.close()
    }
    expect(ledger.redeemed(planId)).toBe(1)
  }, 30_000)
})
