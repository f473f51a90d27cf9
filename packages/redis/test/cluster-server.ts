import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { nodeRedis, type Connected } from './clients'
import { redisServer } from './redis-server'

/**
 * A cluster-mode redis-server owning every slot, and a client on it: it refuses (CROSSSLOT) a
 * script whose keys span slots, which is what the store's hash tags must never make it do.
 */
export async function clusterNode(): Promise<{ node: Connected; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'plangate-cluster-'))
  const server = await redisServer({ extra: ['--cluster-enabled', 'yes', '--cluster-config-file', join(dir, 'nodes.conf')] })
  const node = await nodeRedis(server.url)
  await node.sendCommand('CLUSTER', 'ADDSLOTSRANGE', '0', '16383')
  for (let i = 0; i < 100 && !String(await node.sendCommand('CLUSTER', 'INFO')).includes('cluster_state:ok'); i++) {
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return {
    node,
    async stop() {
      await node.close()
      await server.stop()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
