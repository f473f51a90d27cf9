/**
 * The stand-in API (./stand-in.ts) in its own process, served over HTTP on loopback by
 * `@hono/node-server`: what every guarded server of the peer benchmark calls.
 */
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import { config, serveCommands } from '../servers/child'
import type { UpstreamConfig } from './protocol'
import { AGENT_ID, createStandInApi } from './stand-in'

const api = await createStandInApi(config<UpstreamConfig>())
const server = serve({ port: 0, hostname: '127.0.0.1', fetch: api.fetch })
await new Promise<void>((resolve) => server.once('listening', resolve))
const port = (server.address() as AddressInfo).port
const origin = `http://127.0.0.1:${port}`
const { keys, tokens, agentKey, planId } = api

serveCommands({ type: 'ready', port, keys, tokens, origin, baseUrl: `${origin}/api/v1`, facilitatorUrl: `${origin}/facilitator`, agentKey, planId, agentId: AGENT_ID }, async (command) => {
  switch (command.type) {
    case 'counters':
      return { counters: api.counters() as Record<string, number> & { order: number; balance: number; redeem: number } }
    case 'close':
      server.close()
      setImmediate(() => process.exit(0))
      return {}
    default:
      return {}
  }
})
