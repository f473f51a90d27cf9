/**
 * The key a command of this store touches, for a client that must be told where to send each
 * command: node-redis's `createCluster`. ioredis's `Cluster` finds it by itself. Commands without
 * a key (SCRIPT LOAD, TIME) go to any node; a script that node loaded but the key's node lacks is
 * run there with EVAL, which caches it on that node too.
 *
 * @example
 * const cluster = createCluster({ rootNodes: [{ url: 'redis://10.0.0.1:6379' }] })
 * await cluster.connect()
 * const store = createRedisStore({ sendCommand: (...args) => cluster.sendCommand(firstKey(args), false, args) })
 */
export function firstKey(args: readonly string[]): string | undefined {
  const [name] = args
  if (name === 'EVALSHA' || name === 'EVAL') return Number(args[2]) > 0 ? args[3] : undefined
  return undefined
}
