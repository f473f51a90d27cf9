import { pathToFileURL } from 'node:url'
import { serve } from '@hono/node-server'
import { Hono } from 'hono'
import type { PlanGate } from '@plangate/core'
import { requirePlan, type PlanVariables } from '@plangate/hono'
import { agentSetup, answer } from './agent-setup'

/** A Hono agent whose `POST /ask` costs one credit of `planId`. Runs anywhere Hono runs. */
export function createHonoAgent(options: { gate: PlanGate; planId: string }) {
  const app = new Hono<{ Variables: PlanVariables }>()
  app.get('/health', (c) => c.json({ ok: true }))
  app.post('/ask', requirePlan(options.planId, { gate: options.gate }), async (c) => {
    const body = await c.req.json().catch(() => ({}))
    return c.json({ answer: answer((body as { question?: unknown }).question), balance: c.get('balance') })
  })
  return app
}

function main() {
  const setup = agentSetup()
  const port = Number(process.env.PORT ?? 3000)
  const server = serve({ fetch: createHonoAgent(setup).fetch, port }, () => {
    const key = setup.subscriberKey ?? '$SUBSCRIBER_KEY'
    console.log(`plangate Hono agent on http://localhost:${port} (${setup.mode}, plan ${setup.planId})\n`)
    console.log(
      `curl -s -X POST http://localhost:${port}/ask -H 'Authorization: Bearer ${key}' -H 'Content-Type: application/json' -d '{"question":"what does plangate do?"}'\n`,
    )
  })
  const shutdown = () => {
    server.close()
    void setup.gate.close().then(() => process.exit(0))
  }
  process.on('SIGINT', shutdown)
  process.on('SIGTERM', shutdown)
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) main()
