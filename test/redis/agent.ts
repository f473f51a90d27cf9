/**
 * One plangate process of several: an Express server whose gate keeps its balances in Redis.
 * Started by multi-process.test.ts (node --import tsx), configured by the environment:
 * PORT, REDIS_URL, CLIENT (node-redis | ioredis), LEDGER_URL, AGENT_KEY, PREFIX, STORE_TIMEOUT_MS,
 * GATE_TIMEOUT_MS, and ROUTES: JSON [{ path, planId, autoOrder, max? }] (max: priced by usage), one gate each (all on the one
 * store); optional BATCH_MS (settlement batches, default 50) and OWNER_LEASE_MS (the outbox lease). SIGTERM closes the server, then every gate (redeeming everything served), and prints
 * "closed cleanly" before exiting 0.
 */
import type { AddressInfo } from 'node:net'
import { createPlanGate } from '@plangate/core'
import { requirePlan } from '@plangate/express'
import { createRedisStore, type SendCommand } from '@plangate/redis'
import express from 'express'
import { Redis } from 'ioredis'
import { createClient } from 'redis'

const env = (name: string): string => {
  const value = process.env[name]
  if (!value) throw new Error(`${name} is not set`)
  return value
}

async function connect(): Promise<{ sendCommand: SendCommand; close(): void }> {
  if (env('CLIENT') === 'ioredis') {
    const client = new Redis(env('REDIS_URL'))
    client.on('error', (error) => console.error(`redis: ${error.message}`))
    return { sendCommand: (command, ...args) => client.call(command, ...args), close: () => client.disconnect() }
  }
  const client = createClient({ url: env('REDIS_URL') })
  client.on('error', (error: Error) => console.error(`redis: ${error.message}`))
  await client.connect()
  return { sendCommand: (...args) => client.sendCommand(args), close: () => void client.destroy() }
}

const redis = await connect()
const store = createRedisStore({
  sendCommand: redis.sendCommand,
  prefix: env('PREFIX'),
  timeoutMs: Number(env('STORE_TIMEOUT_MS')),
  ...(process.env.OWNER_LEASE_MS ? { ownerLeaseMs: Number(process.env.OWNER_LEASE_MS) } : {}),
})
const routes = JSON.parse(env('ROUTES')) as Array<{ path: string; planId: string; autoOrder: false | { maxOrders: number }; max?: number }>

const app = express()
app.get('/health', (_req, res) => void res.json({ ok: true }))
const gates = routes.map(({ path, planId, autoOrder, max }) => {
  const gate = createPlanGate({
    apiKey: env('AGENT_KEY'),
    environment: env('LEDGER_URL'),
    store,
    autoOrder,
    ...(process.env.BATCH_MS ? { settle: { batchMs: Number(process.env.BATCH_MS) } } : {}),
    timeoutMs: Number(env('GATE_TIMEOUT_MS')),
    logger: { warn: (m) => console.error(`warn ${m}`), error: (m) => console.error(`error ${m}`) },
  })
  if (max === undefined) app.get(path, requirePlan(planId, { gate }), (req, res) => void res.json({ pid: process.pid, balance: req.balance }))
  else {
    // Priced by usage: the route reports each of ?use= (comma-separated) and answers ?status=.
    app.get(path, requirePlan(planId, { gate, cost: { max } }), (req, res) => {
      for (const n of String(req.query.use ?? '').split(',').filter(Boolean)) req.balance.use(Number(n))
      res.status(Number(req.query.status ?? 200)).json({ pid: process.pid, used: req.balance.used })
    })
  }
  return gate
})

const server = app.listen(Number(env('PORT')), '127.0.0.1', () => {
  console.log(`listening on ${(server.address() as AddressInfo).port}`)
})

process.once('SIGTERM', () => {
  server.close(async () => {
    await Promise.all(gates.map((gate) => gate.close()))
    redis.close()
    console.log('closed cleanly')
    process.exit(0)
  })
  server.closeIdleConnections()
})
