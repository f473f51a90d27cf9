import { Redis } from 'ioredis'
import { createClient } from 'redis'
import { createRedisStore, type RedisBalanceStore, type RedisStoreOptions } from '../src/index'

/** A connected client of each kind, handed to the store through the one function it takes. */
export interface Connected {
  name: 'node-redis' | 'ioredis'
  sendCommand: RedisStoreOptions['sendCommand']
  /** A store on this client; each test gives its own prefix, so tests share one server. */
  store(options?: Partial<RedisStoreOptions>): RedisBalanceStore
  close(): Promise<void>
}

/** Reconnect quickly: the fault tests restart Redis and wait for service to resume. */
const retryMs = (attempt: number) => Math.min(50 * (attempt + 1), 300)

export async function nodeRedis(url: string, options: { connect?: boolean; password?: string } = {}): Promise<Connected> {
  const client = createClient({ url, password: options.password, socket: { reconnectStrategy: retryMs, connectTimeout: 2_000 } })
  // node-redis emits every connection failure as 'error'; without a listener the process dies.
  client.on('error', () => {})
  const connecting = client.connect()
  if (options.connect === false) connecting.catch(() => {})
  else await connecting
  const sendCommand = (...args: string[]) => client.sendCommand(args)
  return {
    name: 'node-redis',
    sendCommand,
    store: (more) => createRedisStore({ sendCommand, ...more }),
    close: async () => {
      client.destroy()
    },
  }
}

export async function ioredis(url: string, options: { connect?: boolean; password?: string } = {}): Promise<Connected> {
  const client = new Redis(url, { password: options.password, retryStrategy: retryMs, lazyConnect: true, connectTimeout: 2_000 })
  client.on('error', () => {})
  const connecting = client.connect()
  if (options.connect === false) connecting.catch(() => {})
  else await connecting
  const sendCommand = (command: string, ...args: string[]) => client.call(command, ...args)
  return {
    name: 'ioredis',
    sendCommand,
    store: (more) => createRedisStore({ sendCommand, ...more }),
    close: async () => {
      client.disconnect()
    },
  }
}

let prefixes = 0
/** A prefix no other test uses, so every test starts from an empty store. */
export function freshPrefix(): string {
  return `t${process.pid}-${++prefixes}:`
}
