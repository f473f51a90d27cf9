/**
 * The bench's Redis section (bench/sections/redis/) counts round trips from a redis-server's
 * `INFO commandstats`, where Redis also counts what scripts run inside; its figures are only true
 * if the two are told apart. On a real redis-server the bench starts itself, the store's calls
 * are counted twice, by the client (bench/lib/redis/store.ts, by script) and by Redis, and must agree.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startRedis, type BenchRedis } from '../bench/lib/redis/redis-server'
import { classify, delta, SCRIPT_COMMANDS, SCRIPT_NAMES } from '../bench/lib/redis/round-trips'
import { benchRedisStore, type BenchRedisStore } from '../bench/lib/redis/store'

let redis: BenchRedis
let client: BenchRedisStore

beforeAll(async () => {
  redis = await startRedis()
  client = await benchRedisStore({ url: redis.url, prefix: 'bench-test:', timeoutMs: 10_000 })
}, 30_000)

afterAll(async () => {
  await client?.close()
  await redis?.stop()
}, 30_000)

describe('Redis round trips from INFO commandstats', () => {
  it('knows every script by its SHA and the commands the scripts run', () => {
    expect(SCRIPT_NAMES.size).toBeGreaterThanOrEqual(10)
    expect([...SCRIPT_NAMES.values()]).toContain('RESERVE')
    expect([...SCRIPT_NAMES.values()]).toContain('COMMIT_RECORDED')
    for (const name of ['hget', 'hincrby', 'time']) expect(SCRIPT_COMMANDS.has(name)).toBe(true)
    for (const name of ['evalsha', 'eval', 'script', 'info']) expect(SCRIPT_COMMANDS.has(name)).toBe(false)
  })

  it('counts what the client sent, not what the scripts ran inside', async () => {
    const { store } = client
    const before = await redis.commandStats()
    const callsBefore = client.calls()
    const now = Date.now()
    const owner = 'bench-test-owner'
    await store.renewOwner(owner, now)
    await store.indexKey(owner, 'plan:holder')
    for (let i = 0; i < 5; i++) await store.reserve('plan:holder', 1, now, 60_000)
    for (let i = 0; i < 3; i++) await store.snapshot('plan:holder')
    const counted = classify(delta(before, await redis.commandStats()))
    const sent = delta(callsBefore, client.calls())

    expect(sent.RESERVE).toBe(5)
    expect(sent.SNAPSHOT).toBe(3)
    expect(Object.keys(sent)).not.toContain('EVALSHA (unknown script)')
    const names = new Set(SCRIPT_NAMES.values())
    const scriptCalls = Object.entries(sent).reduce((sum, [name, n]) => sum + (names.has(name) ? n : 0), 0)
    expect(counted.sent.evalsha).toBe(scriptCalls)
    // TIME (the store reads Redis's clock once) is counted with the scripts' commands, which run it too.
    const total = Object.entries(sent).reduce((sum, [name, n]) => sum + (name === 'TIME' ? 0 : n), 0)
    expect(counted.roundTrips).toBe(total)
    // The scripts ran commands inside Redis, none of them counted as a round trip.
    expect(counted.inScripts).toBeGreaterThan(scriptCalls)
  })
})
