/** A peer-benchmark server in its own process (the load generator must not share its event loop). */
import type { AddressInfo } from 'node:net'
import { Session } from 'node:inspector/promises'
import { serve } from '@hono/node-server'
import { MemoryBalanceStore } from '@plangate/core'
import { config, serveCommands } from '../servers/child'
import { expressPeer, honoPeer } from './apps'
import { pendingSampler } from './pending'
import type { PeerConfig } from './protocol'

const settings = config<PeerConfig>()
const app = settings.framework === 'express' ? await expressPeer(settings) : honoPeer(settings)
const server = app.express ? app.express.listen(0, '127.0.0.1') : serve({ fetch: app.fetch!, port: 0, hostname: '127.0.0.1' })
await new Promise<void>((resolve) => server.once('listening', resolve))
const port = (server.address() as AddressInfo).port
const gc = (globalThis as { gc?: () => void }).gc
// The CPU profiler (what `node --cpu-prof` runs), started and stopped around a measurement only.
let inspector: Session | undefined
// Money at risk (bench/sections/window/window.ts): what the memory store holds served and not yet settled.
const pending = app.gate?.store instanceof MemoryBalanceStore ? pendingSampler(app.gate.store) : undefined

serveCommands({ type: 'ready', port, keys: [] }, async (command) => {
  switch (command.type) {
    case 'cpu':
      return { cpu: process.cpuUsage() }
    case 'heap':
      for (let i = 0; i < 4; i++) gc?.()
      return { heap: process.memoryUsage().heapUsed }
    case 'profile-start':
      inspector = new Session()
      inspector.connect()
      await inspector.post('Profiler.enable')
      await inspector.post('Profiler.start')
      return {}
    case 'profile-stop': {
      const { profile } = await inspector!.post('Profiler.stop')
      inspector!.disconnect()
      return { profile: JSON.stringify(profile) }
    }
    case 'pending-start':
      pending?.start()
      return {}
    case 'pending-stop':
      return pending ? { pending: pending.stop() } : {}
    case 'redis-calls':
      return { redisCalls: app.redis?.calls() ?? {} }
    case 'close':
      server.close()
      await app.gate?.close()
      await app.redis?.close()
      setImmediate(() => process.exit(0))
      return {}
    default:
      return {}
  }
})
