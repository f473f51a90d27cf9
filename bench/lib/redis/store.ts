/**
 * A peer server's Redis store (in the server's process): @plangate/redis on a node-redis client,
 * as a user would set it up, with one addition: the client counts what it sends, EVALSHA by the
 * script its SHA names, for the split by script (a map increment per command).
 */
import { createRedisStore, type RedisBalanceStore } from '@plangate/redis'
import { createClient } from 'redis'
import type { RedisStoreConfig } from '../peers/protocol'
import { SCRIPT_NAMES } from './round-trips'

export interface BenchRedisStore {
  store: RedisBalanceStore
  /** Commands sent so far: `RESERVE`, `COMMIT_RECORDED`, … for scripts, else the command's name. */
  calls(): Record<string, number>
  close(): Promise<void>
}

export async function benchRedisStore(config: RedisStoreConfig): Promise<BenchRedisStore> {
  const client = createClient({ url: config.url })
  client.on('error', (error: Error) => console.error(`bench redis client: ${error.message}`))
  await client.connect()
  const calls: Record<string, number> = {}
  const store = createRedisStore({
    sendCommand: (...args) => {
      const name = args[0] === 'EVALSHA' ? (SCRIPT_NAMES.get(args[1]!) ?? 'EVALSHA (unknown script)') : args[0]!
      calls[name] = (calls[name] ?? 0) + 1
      return client.sendCommand(args)
    },
    prefix: config.prefix,
    timeoutMs: config.timeoutMs,
  })
  return {
    store,
    calls: () => ({ ...calls }),
    close: async () => void client.destroy(),
  }
}
